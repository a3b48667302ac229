import Testing
@testable import PGOutput

@Suite struct PrimaryKeepaliveTests {
    let bytes = Fixture.keepalive(walEnd: LSN(0x16_B374_D848), serverTime: .init(microsecondsSince2000: 123), replyRequested: 0)

    @Test func decodesAllFields() throws {
        #expect(
            try ReplicationMessage.decode(bytes)
                == .primaryKeepalive(
                    .init(
                        walEnd: LSN(0x16_B374_D848), serverTime: .init(microsecondsSince2000: 123), replyRequested: false)))
    }

    @Test func decodeFailsOnReplyFlagOtherThanZeroOrOne() {
        var bad = bytes
        bad[17] = 2
        let error = decodeError { () throws(PGOutputError) in try ReplicationMessage.decode(bad) }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 17)
        #expect(error?.messageKind == "Primary keepalive")
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try ReplicationMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        let error = decodeError { () throws(PGOutputError) in try ReplicationMessage.decode(bytes + [0]) }
        #expect(error?.code == .trailingBytes)
        #expect(error?.offset == 18)
    }
}
