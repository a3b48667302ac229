import Testing
@testable import PGOutput

@Suite struct LogicalDecodingMessageTests {
    let bytes = Fixture.message(flags: 1, lsn: LSN(0x2_0000_0001), prefix: "replicatord.marker", content: [0, 1, 2, 0xFF])

    @Test func decodesAllFields() throws {
        guard case .message(let message) = try PGOutputMessage.decode(bytes) else { Issue.record("not a Message"); return }
        #expect(message.isTransactional)
        #expect(message.lsn == LSN(0x2_0000_0001))
        #expect(message.prefix == "replicatord.marker")
        #expect(Array(message.content) == [0, 1, 2, 0xFF])
    }

    @Test func decodesNonTransactionalEmptyMessage() throws {
        let empty = Fixture.message(flags: 0, lsn: LSN(1), prefix: "p", content: [])
        guard case .message(let message) = try PGOutputMessage.decode(empty) else { Issue.record("not a Message"); return }
        #expect(!message.isTransactional)
        #expect(message.content.isEmpty)
    }

    @Test func decodeFailsOnNegativeContentLength() {
        var w = WireWriter()
        w.ascii("M"); w.byte(0); w.lsn(LSN(1)); w.cString("p"); w.int32(-1)
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(w.bytes) }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 12)
    }

    @Test func decodeFailsOnHugeContentLength() {
        var w = WireWriter()
        w.ascii("M"); w.byte(0); w.lsn(LSN(1)); w.cString("p"); w.int32(Int32.max); w.raw([1, 2, 3])
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(w.bytes) }?.code == .truncated)
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
