import Testing
@testable import PGOutput

@Suite struct TruncateTests {
    let bytes = Fixture.truncate(options: 3, relationOIDs: [16384, 16390, 0xFFFF_FFFE])

    @Test func decodesOptionsAndRelations() throws {
        guard case .truncate(let truncate) = try PGOutputMessage.decode(bytes) else { Issue.record("not a Truncate"); return }
        #expect(truncate.options == [.cascade, .restartIdentity])
        #expect(truncate.relationOIDs == [16384, 16390, 0xFFFF_FFFE])
    }

    @Test func decodesEachOptionAlone() throws {
        let plain = try PGOutputMessage.decode(Fixture.truncate(options: 0, relationOIDs: [1]))
        #expect(plain == .truncate(.init(options: [], relationOIDs: [1])))
        let cascade = try PGOutputMessage.decode(Fixture.truncate(options: 1, relationOIDs: [1]))
        #expect(cascade == .truncate(.init(options: .cascade, relationOIDs: [1])))
        let restart = try PGOutputMessage.decode(Fixture.truncate(options: 2, relationOIDs: [1]))
        #expect(restart == .truncate(.init(options: .restartIdentity, relationOIDs: [1])))
    }

    @Test func decodeFailsOnNegativeRelationCount() {
        var w = WireWriter()
        w.ascii("T"); w.int32(-1); w.byte(0)
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(w.bytes) }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 1)
    }

    @Test func decodeFailsOnHugeRelationCount() {
        var w = WireWriter()
        w.ascii("T"); w.int32(Int32.max); w.byte(0); w.uint32(1)
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(w.bytes) }?.code == .truncated)
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0, 0]) }?.code == .trailingBytes)
    }
}
