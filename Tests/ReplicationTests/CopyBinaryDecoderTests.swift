import Testing
@testable import Replication

/// Builds binary COPY messages for tests.
private struct CopyBuilder {
    var bytes: [UInt8] = []
    mutating func header() { bytes += CopyBinaryDecoder.signature + [0, 0, 0, 0, 0, 0, 0, 0] }
    mutating func be16(_ v: Int16) { let u = UInt16(bitPattern: v); bytes += [UInt8(u >> 8), UInt8(u & 0xFF)] }
    mutating func be32(_ v: Int32) { let u = UInt32(bitPattern: v); bytes += (0..<4).map { UInt8((u >> (24 - 8 * $0)) & 0xFF) } }
    mutating func row(_ fields: [[UInt8]?]) {
        be16(Int16(fields.count))
        for f in fields { if let f { be32(Int32(f.count)); bytes += f } else { be32(-1) } }
    }
    mutating func trailer() { be16(-1) }
}

@Suite struct CopyBinaryDecoderTests {
    @Test func decodesHeaderRowsNullsAndTrailer() throws {
        var b = CopyBuilder()
        b.header()
        b.row([[0, 0, 0, 7], Array("seven".utf8)])
        b.row([nil, []])
        b.trailer()
        var decoder = CopyBinaryDecoder(columnCount: 2)
        var batch = ColumnBatch(kinds: [.int32, .text])
        let rows = try b.bytes.withUnsafeBytes { m throws in try decoder.decode(m, into: &batch) }
        #expect(rows == 2 && decoder.finished)
        #expect(batch.columns[0].int64s == [7] && batch.columns[0].nulls == [false, true])
        #expect(batch.columns[1].offsets == [0, 5, 5])
    }

    @Test func decodeFailsAtEveryTruncationOfARow() {
        var b = CopyBuilder()
        b.header()
        let headerLength = b.bytes.count
        b.row([[0, 0, 0, 7], Array("seven".utf8)])
        for cut in (headerLength + 1)..<b.bytes.count {
            var decoder = CopyBinaryDecoder(columnCount: 2)
            var batch = ColumnBatch(kinds: [.int32, .text])
            #expect(throws: CopyDecodingError.self) {
                try Array(b.bytes[..<cut]).withUnsafeBytes { m throws in try decoder.decode(m, into: &batch) }
            }
        }
    }

    @Test func decodeFailsWithoutSignatureOrWithWrongFieldCount() {
        var decoder = CopyBinaryDecoder(columnCount: 1)
        var batch = ColumnBatch(kinds: [.int32])
        #expect(throws: CopyDecodingError.self) {
            try Array("PGCOPY".utf8).withUnsafeBytes { m throws in try decoder.decode(m, into: &batch) }
        }
        var b = CopyBuilder()
        b.header()
        b.row([[0, 0, 0, 1], [0, 0, 0, 2]])
        var d2 = CopyBinaryDecoder(columnCount: 1)
        #expect(throws: CopyDecodingError.self) {
            try b.bytes.withUnsafeBytes { m throws in try d2.decode(m, into: &batch) }
        }
    }

    /// With a trailing row ID (SnapshotReader's large-value rule): rows whose ID is NULL decode as
    /// usual, the others are skipped and their ctid reported; truncations and a malformed ID fail.
    @Test func trailingRowIDDefersRowsAndDecodesTheOthers() throws {
        var b = CopyBuilder()
        b.header()
        b.row([[0, 0, 0, 1], Array("one".utf8), nil])
        b.row([[0, 0, 0, 2], nil, [0, 0, 1, 2, 0, 9]])  // ctid (258,9), its large text left out
        b.row([[0, 0, 0, 3], Array("three".utf8), nil])
        b.trailer()
        var decoder = CopyBinaryDecoder(columnCount: 2, trailingRowID: true)
        var batch = ColumnBatch(kinds: [.int32, .text])
        var deferred: [String] = []
        let rows = try b.bytes.withUnsafeBytes { m throws in try decoder.decode(m, into: &batch) { deferred.append("(\($0),\($1))") } }
        #expect(rows == 2 && decoder.finished)
        #expect(deferred == ["(258,9)"])
        #expect(batch.columns[0].int64s == [1, 3] && batch.columns[1].offsets == [0, 3, 8])

        // Without a handler a set row ID is an error; a row ID of the wrong size too.
        var plain = CopyBinaryDecoder(columnCount: 2, trailingRowID: true)
        var other = ColumnBatch(kinds: [.int32, .text])
        #expect(throws: CopyDecodingError.self) { try b.bytes.withUnsafeBytes { m throws in try plain.decode(m, into: &other) } }
        var bad = CopyBuilder()
        bad.header()
        bad.row([[0, 0, 0, 2], nil, [0, 0, 1]])
        var d3 = CopyBinaryDecoder(columnCount: 2, trailingRowID: true)
        #expect(throws: CopyDecodingError.self) { try bad.bytes.withUnsafeBytes { m throws in try d3.decode(m, into: &other) { _, _ in } } }
        // Cut anywhere inside a row (the deferred one included): an error, never a partial row.
        var c = CopyBuilder()
        c.header()
        var boundaries = [c.bytes.count]
        for fields: [[UInt8]?] in [[[0, 0, 0, 1], Array("one".utf8), nil], [[0, 0, 0, 2], nil, [0, 0, 1, 2, 0, 9]]] {
            c.row(fields)
            boundaries.append(c.bytes.count)
        }
        for cut in boundaries[0]..<boundaries.last! where !boundaries.contains(cut) {
            var d = CopyBinaryDecoder(columnCount: 2, trailingRowID: true)
            var scratch = ColumnBatch(kinds: [.int32, .text])
            #expect(throws: CopyDecodingError.self, "cut at \(cut)") {
                try Array(c.bytes[..<cut]).withUnsafeBytes { m throws in try d.decode(m, into: &scratch) { _, _ in } }
            }
        }
    }

    /// A NULL at the end of a vector becomes a value appended in pieces; a wrong total is refused.
    @Test func replaceLastNullAppendsPiecesInPlaceOfTheNull() throws {
        var v = ColumnVector(kind: .text)
        v.appendBytes(UnsafeRawBufferPointer(start: nil, count: 0))
        v.appendNull()
        try v.replaceLastNull(withBytes: 6) { bytes in
            bytes += Array("abc".utf8); bytes += Array("def".utf8)
        }
        #expect(v.nulls == [false, false] && v.offsets == [0, 0, 6] && Array(v.byteValue(1)) == Array("abcdef".utf8))
        v.appendNull()
        #expect(throws: ValueDecodingError.self) { try v.replaceLastNull(withBytes: 5) { $0 += [1, 2] } }
        #expect(v.nulls.last == true && v.bytes.count == 6)
    }
}
