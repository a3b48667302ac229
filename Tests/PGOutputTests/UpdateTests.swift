import Testing
@testable import PGOutput

@Suite struct UpdateTests {
    @Test func decodesWithoutOldTuple() throws {
        let bytes = Fixture.update(relationOID: 7, new: [.text("1"), .unchangedToast])
        guard case .update(let update) = try PGOutputMessage.decode(bytes) else { Issue.record("not an Update"); return }
        #expect(update.relationOID == 7)
        #expect(update.oldTuple == nil)
        #expect(update.newTuple.fixtureValues == [.text("1"), .unchangedToast])
    }

    @Test func decodesWithOldKey() throws {
        let bytes = Fixture.update(relationOID: 7, oldKind: "K", old: [.text("1"), .null], new: [.text("2"), .text("b")])
        guard case .update(let update) = try PGOutputMessage.decode(bytes) else { Issue.record("not an Update"); return }
        #expect(update.oldTuple?.kind == .key)
        #expect(update.oldTuple?.tuple.fixtureValues == [.text("1"), .null])
        #expect(update.newTuple.fixtureValues == [.text("2"), .text("b")])
    }

    @Test func decodesWithWholeOldRow() throws {
        let bytes = Fixture.update(relationOID: 7, oldKind: "O", old: [.text("1"), .binary([1])], new: [.text("1"), .binary([2])])
        guard case .update(let update) = try PGOutputMessage.decode(bytes) else { Issue.record("not an Update"); return }
        #expect(update.oldTuple?.kind == .full)
        #expect(update.oldTuple?.tuple.fixtureValues == [.text("1"), .binary([1])])
        #expect(update.newTuple.fixtureValues == [.text("1"), .binary([2])])
    }

    @Test func decodeFailsOnUnknownSubmessageByte() {
        var bad = Fixture.update(relationOID: 7, new: [.null])
        bad[5] = UInt8(ascii: "X")
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bad) }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 5)
    }

    @Test func decodeFailsWhenNewTupleMarkerMissingAfterOldKey() {
        var bad = Fixture.update(relationOID: 7, oldKind: "K", old: [.null], new: [.null])
        bad[9] = UInt8(ascii: "K")  // where 'N' should be: 'U', OID, 'K', Int16, 'n'
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bad) }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 9)
    }

    @Test func decodeFailsWhenTruncated() {
        for bytes in [
            Fixture.update(relationOID: 7, new: [.text("1"), .null]),
            Fixture.update(relationOID: 7, oldKind: "K", old: [.text("1")], new: [.text("2"), .binary([1, 2])]),
            Fixture.update(relationOID: 7, oldKind: "O", old: [.text("1"), .unchangedToast], new: [.text("2"), .null]),
        ] {
            expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
        }
    }

    @Test func decodeFailsWithTrailingBytes() {
        let bytes = Fixture.update(relationOID: 7, oldKind: "K", old: [.null], new: [.null])
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
