import Testing
@testable import PGOutput

@Suite struct RollbackPreparedTests {
    let bytes = Fixture.rollbackPrepared(
        prepareEndLSN: LSN(0x180), rollbackEndLSN: LSN(0x300),
        prepareTimestamp: .init(microsecondsSince2000: 44),
        rollbackTimestamp: .init(microsecondsSince2000: 66), xid: 321, gid: "tx-1")

    @Test func decodesAllFields() throws {
        #expect(
            try PGOutputMessage.decode(bytes)
                == .rollbackPrepared(
                    .init(
                        prepareEndLSN: LSN(0x180), rollbackEndLSN: LSN(0x300), prepareTimestamp: .init(microsecondsSince2000: 44),
                        rollbackTimestamp: .init(microsecondsSince2000: 66), xid: 321, gid: "tx-1")))
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
