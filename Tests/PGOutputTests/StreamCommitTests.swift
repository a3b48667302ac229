import Testing
@testable import PGOutput

@Suite struct StreamCommitTests {
    let bytes = Fixture.streamCommit(xid: 12, commitLSN: LSN(0x10), endLSN: LSN(0x20), commitTimestamp: .init(microsecondsSince2000: 3))

    @Test func decodesAllFields() throws {
        #expect(
            try PGOutputMessage.decode(bytes)
                == .streamCommit(
                    .init(
                        xid: 12, commitLSN: LSN(0x10), endLSN: LSN(0x20), commitTimestamp: .init(microsecondsSince2000: 3))))
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
