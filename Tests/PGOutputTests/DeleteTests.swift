import Testing
@testable import PGOutput

@Suite struct DeleteTests {
    @Test func decodesWithOldKey() throws {
        let bytes = Fixture.delete(relationOID: 9, oldKind: "K", old: [.text("5"), .null, .null])
        guard case .delete(let delete) = try PGOutputMessage.decode(bytes) else { Issue.record("not a Delete"); return }
        #expect(delete.relationOID == 9)
        #expect(delete.oldTuple.kind == .key)
        #expect(delete.oldTuple.tuple.fixtureValues == [.text("5"), .null, .null])
    }

    @Test func decodesWithWholeOldRow() throws {
        let bytes = Fixture.delete(relationOID: 9, oldKind: "O", old: [.text("5"), .binary([1, 2]), .text("z")])
        guard case .delete(let delete) = try PGOutputMessage.decode(bytes) else { Issue.record("not a Delete"); return }
        #expect(delete.oldTuple.kind == .full)
        #expect(delete.oldTuple.tuple.fixtureValues == [.text("5"), .binary([1, 2]), .text("z")])
    }

    @Test func decodeFailsWithNewTupleMarkerInsteadOfOld() {
        let bad = Fixture.delete(relationOID: 9, oldKind: "N", old: [.null])
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bad) }
        #expect(error?.code == .invalidValue)
        #expect(error?.messageKind == "Delete")
        #expect(error?.offset == 5)
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(Fixture.delete(relationOID: 9, oldKind: "K", old: [.text("5"), .null])) {
            (b) throws(PGOutputError) in try PGOutputMessage.decode(b)
        }
    }

    @Test func decodeFailsWithTrailingBytes() {
        let bytes = Fixture.delete(relationOID: 9, oldKind: "O", old: [.null])
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
