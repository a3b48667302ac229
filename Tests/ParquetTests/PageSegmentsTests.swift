import Testing
@testable import Parquet

@Suite struct PageSegmentsTests {
    @Test func bytesComeBackInOrderAcrossSegments() {
        var s = PageSegments()
        defer { s.deallocate() }
        let big = (0..<(PageSegments.segmentSize + 123)).map { UInt8(truncatingIfNeeded: $0) }
        s.append([7, 8])
        s.append(big)
        var out: [UInt8] = []
        s.forEachSegment { out.append(contentsOf: $0) }
        #expect(out == [7, 8] + big)
        #expect(s.count == big.count + 2)
        s.removeAll()
        #expect(s.isEmpty)
        s.append([1])
        out = []
        s.forEachSegment { out.append(contentsOf: $0) }
        #expect(out == [1])
    }

    @Test func movedSegmentsFollowWhatIsThereAndLaterAppendsFollowThem() {
        var s = PageSegments()
        defer { s.deallocate() }
        let big = (0..<(PageSegments.segmentSize * 2 + 5)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for start in [[] as [UInt8], [1, 2, 3]] {
            s.removeAll()
            s.append(start)
            var other = PageSegments()
            other.append(big)
            s.append(moving: &other)
            #expect(other.isEmpty)
            other.deallocate()
            s.append([9])
            var out: [UInt8] = []
            s.forEachSegment { out.append(contentsOf: $0) }
            #expect(out == start + big + [9])
            #expect(s.count == start.count + big.count + 1)
        }
    }
}
