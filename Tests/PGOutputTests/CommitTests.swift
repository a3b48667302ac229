import Testing
@testable import PGOutput

@Suite struct CommitTests {
    let bytes = Fixture.commit(
        commitLSN: LSN(0x1_0000_0010), endLSN: LSN(0x1_0000_0040),
        commitTimestamp: .init(microsecondsSince2000: -5))

    @Test func decodesAllFields() throws {
        guard case .commit(let commit) = try PGOutputMessage.decode(bytes) else { Issue.record("not a Commit"); return }
        #expect(commit.flags == 0)
        #expect(commit.commitLSN == LSN(0x1_0000_0010))
        #expect(commit.endLSN == LSN(0x1_0000_0040))
        #expect(commit.commitTimestamp == .init(microsecondsSince2000: -5))
    }

    @Test func keepsUnknownFlagsAsSent() throws {
        let flagged = Fixture.commit(flags: 4, commitLSN: LSN(1), endLSN: LSN(2), commitTimestamp: .postgresEpoch)
        guard case .commit(let commit) = try PGOutputMessage.decode(flagged) else { Issue.record("not a Commit"); return }
        #expect(commit.flags == 4)
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [1, 2]) }?.code == .trailingBytes)
    }
}
