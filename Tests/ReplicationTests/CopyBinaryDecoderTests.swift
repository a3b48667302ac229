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
}
