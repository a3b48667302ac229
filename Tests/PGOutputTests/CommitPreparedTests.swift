import Testing
@testable import PGOutput

@Suite struct CommitPreparedTests {
    let bytes = Fixture.commitPrepared(
        commitLSN: LSN(0x200), endLSN: LSN(0x280), commitTimestamp: .init(microsecondsSince2000: 55),
        xid: 321, gid: "tx-1")

    @Test func decodesAllFields() throws {
        #expect(
            try PGOutputMessage.decode(bytes)
                == .commitPrepared(
                    .init(
                        commitLSN: LSN(0x200), endLSN: LSN(0x280), commitTimestamp: .init(microsecondsSince2000: 55), xid: 321, gid: "tx-1")))
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
