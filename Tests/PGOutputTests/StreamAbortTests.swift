import Testing
@testable import PGOutput

@Suite struct StreamAbortTests {
    @Test func decodesWithoutParallelStreamingFields() throws {
        let bytes = Fixture.streamAbort(xid: 12, subtransactionXid: 13)
        #expect(try PGOutputMessage.decode(bytes) == .streamAbort(.init(xid: 12, subtransactionXid: 13)))
    }

    @Test func decodesAbortPositionWithParallelStreaming() throws {
        let bytes = Fixture.streamAbort(xid: 12, subtransactionXid: 12, abort: (LSN(0x99), .init(microsecondsSince2000: 8)))
        let message = try PGOutputMessage.decode(bytes, context: .init(parallelStreaming: true))
        guard case .streamAbort(let abort) = message else { Issue.record("not a Stream Abort"); return }
        #expect(abort.xid == 12)
        #expect(abort.subtransactionXid == 12)
        #expect(abort.abort?.lsn == LSN(0x99))
        #expect(abort.abort?.timestamp == .init(microsecondsSince2000: 8))
        #expect(abort != .init(xid: 12, subtransactionXid: 12))
    }

    @Test func decodeFailsWhenParallelFieldsMissingOrUnexpected() {
        let short = Fixture.streamAbort(xid: 12, subtransactionXid: 13)
        let long = Fixture.streamAbort(xid: 12, subtransactionXid: 13, abort: (LSN(1), .postgresEpoch))
        #expect(
            decodeError { () throws(PGOutputError) in
                try PGOutputMessage.decode(short, context: .init(parallelStreaming: true))
            }?.code == .truncated)
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(long) }?.code == .trailingBytes)
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(Fixture.streamAbort(xid: 12, subtransactionXid: 13)) {
            (b) throws(PGOutputError) in try PGOutputMessage.decode(b)
        }
        expectEveryPrefixTruncated(Fixture.streamAbort(xid: 12, subtransactionXid: 13, abort: (LSN(1), .postgresEpoch))) {
            (b) throws(PGOutputError) in try PGOutputMessage.decode(b, context: .init(parallelStreaming: true))
        }
    }
}
