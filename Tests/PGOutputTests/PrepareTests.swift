import Testing
@testable import PGOutput

@Suite struct PrepareTests {
    let expected = PGOutputMessage.Prepare(
        prepareLSN: LSN(0x100), endLSN: LSN(0x180),
        prepareTimestamp: .init(microsecondsSince2000: 44), xid: 321, gid: "tx-1")

    @Test func decodesPrepare() throws {
        let bytes = Fixture.prepare(
            prepareLSN: LSN(0x100), endLSN: LSN(0x180), prepareTimestamp: .init(microsecondsSince2000: 44),
            xid: 321, gid: "tx-1")
        #expect(try PGOutputMessage.decode(bytes) == .prepare(expected))
    }

    @Test func decodesStreamPrepareWithTheSameLayout() throws {
        let bytes = Fixture.prepare(
            kind: "p", prepareLSN: LSN(0x100), endLSN: LSN(0x180),
            prepareTimestamp: .init(microsecondsSince2000: 44), xid: 321, gid: "tx-1")
        #expect(try PGOutputMessage.decode(bytes) == .streamPrepare(expected))
    }

    @Test func decodeFailsWhenTruncated() {
        for kind: Character in ["P", "p"] {
            let bytes = Fixture.prepare(kind: kind, prepareLSN: LSN(1), endLSN: LSN(2), prepareTimestamp: .postgresEpoch, xid: 3, gid: "g")
            expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
        }
    }

    @Test func decodeFailsWithTrailingBytes() {
        let bytes = Fixture.prepare(prepareLSN: LSN(1), endLSN: LSN(2), prepareTimestamp: .postgresEpoch, xid: 3, gid: "g")
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
