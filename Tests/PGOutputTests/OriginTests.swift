import Testing
@testable import PGOutput

@Suite struct OriginTests {
    let bytes = Fixture.origin(commitLSN: LSN(0xABCD), name: "pg_16390")

    @Test func decodesAllFields() throws {
        #expect(try PGOutputMessage.decode(bytes) == .origin(.init(commitLSN: LSN(0xABCD), name: "pg_16390")))
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
