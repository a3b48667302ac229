import Testing
@testable import PGOutput

@Suite struct InsertTests {
    let values: [FixtureValue] = [
        .text("1"), .text("2024-01-02"), .null, .binary([0, 0, 0, 42]), .unchangedToast,
        .text("hello, world"), .text(""), .null, .text("3.14"), .binary([]), .text("t"),
    ]

    var bytes: [UInt8] { Fixture.insert(relationOID: 16384, new: values) }

    @Test func decodesElevenColumnsOfEveryKind() throws {
        guard case .insert(let insert) = try PGOutputMessage.decode(bytes) else { Issue.record("not an Insert"); return }
        #expect(insert.relationOID == 16384)
        #expect(insert.newTuple.count == 11)
        #expect(insert.newTuple.fixtureValues == values)
    }

    @Test func columnBytesComeFromTheGivenBuffer() throws {
        let bytes = self.bytes
        guard case .insert(let insert) = try PGOutputMessage.decode(bytes) else { Issue.record("not an Insert"); return }
        guard case .text(let range) = insert.newTuple[0] else { Issue.record("column 0 not text"); return }
        #expect(bytes[range] == [UInt8(ascii: "1")])
        #expect(insert.newTuple.slice(3) == [0, 0, 0, 42])
    }

    @Test func decodeFailsWithoutNewTupleMarker() {
        var bad = bytes
        bad[5] = UInt8(ascii: "K")
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bad) }
        #expect(error?.code == .invalidValue)
        #expect(error?.messageKind == "Insert")
        #expect(error?.offset == 5)
    }

    @Test func decodeFailsWhenTupleDataTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [UInt8(ascii: "n")]) }
        #expect(error?.code == .trailingBytes)
        #expect(error?.offset == bytes.count)
    }

    @Test func decodeFailsOnInvalidTupleKindByteWithOffset() {
        var bad = Fixture.insert(relationOID: 1, new: [.null, .null])
        bad[9] = UInt8(ascii: "z")
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bad) }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 9)  // 'I', Int32 OID, 'N', Int16 count, 'n', then the bad byte
    }
}
