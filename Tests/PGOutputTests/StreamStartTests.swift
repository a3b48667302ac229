import Testing
@testable import PGOutput

@Suite struct StreamStartTests {
    @Test func decodesFirstAndLaterSegments() throws {
        #expect(try PGOutputMessage.decode(Fixture.streamStart(xid: 77, firstSegment: 1)) == .streamStart(.init(xid: 77, isFirstSegment: true)))
        #expect(try PGOutputMessage.decode(Fixture.streamStart(xid: 77, firstSegment: 0)) == .streamStart(.init(xid: 77, isFirstSegment: false)))
    }

    @Test func decodeFailsOnFirstSegmentFlagOtherThanZeroOrOne() {
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(Fixture.streamStart(xid: 77, firstSegment: 2)) }
        #expect(error?.code == .invalidValue)
        #expect(error?.offset == 5)
        #expect(error?.messageKind == "Stream Start")
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(Fixture.streamStart(xid: 77, firstSegment: 1)) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func streamStopHasNoBodyAndFailsWithTrailingBytes() throws {
        #expect(try PGOutputMessage.decode(Fixture.streamStop()) == .streamStop)
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(Fixture.streamStop() + [0]) }
        #expect(error?.code == .trailingBytes)
        #expect(error?.messageKind == "Stream Stop")
    }
}
