import Testing
@testable import PGOutput

@Suite struct BeginPrepareTests {
    let bytes = Fixture.beginPrepare(
        prepareLSN: LSN(0x100), endLSN: LSN(0x180), prepareTimestamp: .init(microsecondsSince2000: 44),
        xid: 321, gid: "tx-1")

    @Test func decodesAllFields() throws {
        #expect(
            try PGOutputMessage.decode(bytes)
                == .beginPrepare(
                    .init(
                        prepareLSN: LSN(0x100), endLSN: LSN(0x180), prepareTimestamp: .init(microsecondsSince2000: 44), xid: 321, gid: "tx-1")))
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
