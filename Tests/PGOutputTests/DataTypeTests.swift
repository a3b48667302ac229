import Testing
@testable import PGOutput

@Suite struct DataTypeTests {
    let bytes = Fixture.type(oid: 70001, namespace: "public", name: "mood")

    @Test func decodesAllFields() throws {
        #expect(try PGOutputMessage.decode(bytes) == .type(.init(oid: 70001, namespace: "public", name: "mood")))
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
