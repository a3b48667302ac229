import Testing
@testable import PGOutput

@Suite struct TupleDataTests {
    private func decodeTuple(_ bytes: [UInt8]) throws(PGOutputError) -> TupleData {
        var reader = ByteReader(bytes)
        let tuple = try TupleData.decode(from: &reader)
        try reader.expectAtEnd()
        return tuple
    }

    @Test func decodesEveryValueKind() throws {
        let tuple = try decodeTuple(Fixture.tuple([.null, .unchangedToast, .text("héllo"), .binary([0, 255]), .text("")]))
        #expect(tuple.count == 5)
        #expect(tuple.map(\.kind) == [.null, .unchangedToast, .text, .binary, .text])
        #expect(tuple.fixtureValues == [.null, .unchangedToast, .text("héllo"), .binary([0, 255]), .text("")])
        #expect(tuple.slice(0) == nil)
        #expect(tuple.slice(1) == nil)
        #expect(tuple.slice(4)?.isEmpty == true)
    }

    @Test func valueRangesPointIntoTheMessageBuffer() throws {
        let bytes = Fixture.tuple([.text("42"), .binary([7, 8, 9])])
        let tuple = try decodeTuple(bytes)
        // Int16 count, 't', Int32 length, "42", 'b', Int32 length, 7 8 9
        #expect(tuple[0] == .text(7..<9))
        #expect(tuple[1] == .binary(14..<17))
        #expect(tuple.withUnsafeBytes(1) { Array($0) } == [7, 8, 9])
        #expect(tuple.withUnsafeBytes(0) { $0.count } == 2)
    }

    @Test func withUnsafeBytesGivesEmptyBufferForNullAndUnchangedToast() throws {
        let tuple = try decodeTuple(Fixture.tuple([.null, .unchangedToast]))
        #expect(tuple.withUnsafeBytes(0) { $0.count } == 0)
        #expect(tuple.withUnsafeBytes(1) { $0.count } == 0)
    }

    @Test func decodesEmptyTuple() throws {
        #expect(try decodeTuple(Fixture.tuple([])).isEmpty)
    }

    @Test func decodeFailsWhenTupleDataTruncated() {
        expectEveryPrefixTruncated(Fixture.tuple([.text("abc"), .null, .binary([1, 2]), .unchangedToast])) {
            (bytes) throws(PGOutputError) in try decodeTuple(bytes)
        }
    }

    @Test func decodeFailsOnUnknownValueKindByte() {
        var writer = WireWriter()
        writer.int16(2); writer.ascii("n"); writer.ascii("x")
        let error = decodeError { () throws(PGOutputError) in try decodeTuple(writer.bytes) }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 3)
    }

    @Test func decodeFailsOnNegativeColumnCount() {
        var writer = WireWriter()
        writer.int16(-1)
        let error = decodeError { () throws(PGOutputError) in try decodeTuple(writer.bytes) }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 0)
    }

    @Test func decodeFailsOnNegativeValueLength() {
        var writer = WireWriter()
        writer.int16(1); writer.ascii("t"); writer.int32(-5); writer.raw([1, 2, 3])
        let error = decodeError { () throws(PGOutputError) in try decodeTuple(writer.bytes) }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 3)
    }

    @Test func decodeFailsOnHugeValueLength() {
        var writer = WireWriter()
        writer.int16(1); writer.ascii("b"); writer.int32(Int32.max); writer.raw([1, 2, 3])
        #expect(decodeError { () throws(PGOutputError) in try decodeTuple(writer.bytes) }?.code == .truncated)
    }

    @Test func decodeFailsOnHugeColumnCountWithoutReservingForIt() {
        var writer = WireWriter()
        writer.int16(Int16.max); writer.ascii("n")
        #expect(decodeError { () throws(PGOutputError) in try decodeTuple(writer.bytes) }?.code == .truncated)
    }

    @Test func equalityComparesValueBytesNotPositions() throws {
        let a = try decodeTuple(Fixture.tuple([.text("x"), .null]))
        let shifted: [UInt8] = [9, 9, 9] + Fixture.tuple([.text("x"), .null])
        var reader = ByteReader(shifted, range: 3..<shifted.count)
        let b = try TupleData.decode(from: &reader)
        #expect(a[0] != b[0], "the same value at a different position")
        #expect(a == b)
        #expect(try decodeTuple(Fixture.tuple([.text("x")])) != decodeTuple(Fixture.tuple([.binary(Array("x".utf8))])))
        #expect(try decodeTuple(Fixture.tuple([.text("x")])) != decodeTuple(Fixture.tuple([.text("y")])))
        #expect(try decodeTuple(Fixture.tuple([.null])) != decodeTuple(Fixture.tuple([.unchangedToast])))
    }

    @Test func oldTupleExposesKindAndTuple() throws {
        let tuple = try decodeTuple(Fixture.tuple([.text("1")]))
        #expect(OldTuple.key(tuple).kind == .key)
        #expect(OldTuple.full(tuple).kind == .full)
        #expect(OldTuple.full(tuple).tuple == tuple)
        #expect(OldTuple.Kind.key.rawValue == UInt8(ascii: "K"))
        #expect(OldTuple.Kind.full.rawValue == UInt8(ascii: "O"))
    }

    @Test func valueKindBytesMatchTheProtocol() {
        #expect(TupleValue.Kind.null.rawValue == UInt8(ascii: "n"))
        #expect(TupleValue.Kind.unchangedToast.rawValue == UInt8(ascii: "u"))
        #expect(TupleValue.Kind.text.rawValue == UInt8(ascii: "t"))
        #expect(TupleValue.Kind.binary.rawValue == UInt8(ascii: "b"))
    }
}
