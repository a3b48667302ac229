import Testing
@testable import PGOutput

@Suite struct BeginTests {
    let bytes = Fixture.begin(
        finalLSN: LSN(0x16_B374_D848), commitTimestamp: .init(microsecondsSince2000: 752_000_000_000_123),
        xid: 0xFFFF_FFF0)

    @Test func decodesAllFields() throws {
        guard case .begin(let begin) = try PGOutputMessage.decode(bytes) else { Issue.record("not a Begin"); return }
        #expect(
            begin
                == .init(
                    finalLSN: LSN(0x16_B374_D848), commitTimestamp: .init(microsecondsSince2000: 752_000_000_000_123),
                    xid: 0xFFFF_FFF0))
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }
        #expect(error?.code == .trailingBytes)
        #expect(error?.messageKind == "Begin")
        #expect(error?.offset == 21)
    }
}
