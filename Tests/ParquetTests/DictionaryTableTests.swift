import Testing
@testable import Parquet

@Suite struct DictionaryTableTests {
    @Test func fixedValuesGetStableIndicesAcrossGrowth() {
        for width in [4, 8] {
            var d = DictionaryTable(width: width)
            defer { d.deallocate() }
            for round in 0..<2 {
                for v in 0..<5000 {
                    let (index, isNew) = d.index(fixed: UInt64(v &* 2654435761 & 0xFFFF_FFFF))
                    #expect(index == UInt32(v) && isNew == (round == 0), "width \(width) value \(v)")
                    if index != UInt32(v) { return }
                }
            }
            #expect(d.count == 5000)
            #expect(d.plain.count == 5000 * width)
        }
    }

    @Test func byteStringsArePlainEncodedWithLengthPrefix() {
        var d = DictionaryTable(width: 0)
        defer { d.deallocate() }
        for s in ["ab", "", "ab", "c"] {
            _ = Array(s.utf8).withUnsafeBytes { d.index(bytes: $0) }
        }
        #expect(d.count == 3)
        #expect(d.plain.array == [2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0, 1, 0, 0, 0, 0x63])
    }

    @Test func byteStringsThatShareAPrefixAreDistinct() {
        var d = DictionaryTable(width: 0)
        defer { d.deallocate() }
        var indices: [UInt32] = []
        for n in 0..<3000 {
            let s = Array("prefix-prefix-\(n)".utf8)
            indices.append(s.withUnsafeBytes { d.index(bytes: $0).index })
        }
        #expect(indices == (0..<3000).map(UInt32.init))
        let again = Array("prefix-prefix-1234".utf8).withUnsafeBytes { d.index(bytes: $0) }
        #expect(again.index == 1234 && !again.isNew)
    }

    @Test func resetForgetsEntries() {
        var d = DictionaryTable(width: 8)
        defer { d.deallocate() }
        _ = d.index(fixed: 7)
        d.reset(keepAtMost: 1 << 20)
        #expect(d.count == 0)
        #expect(d.index(fixed: 7) == (0, true))
    }
}
