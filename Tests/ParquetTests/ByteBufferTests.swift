import Testing
@testable import Parquet

@Suite struct ByteBufferTests {
    @Test func appendsGrowPastInitialCapacity() {
        var b = ByteBuffer(capacity: 16)
        defer { b.deallocate() }
        for k in 0..<1000 { b.appendLittleEndian(UInt32(k)) }
        #expect(b.count == 4000 && b.capacity >= 4000)
        #expect(Array(b.array.prefix(8)) == [0, 0, 0, 0, 1, 0, 0, 0])
    }

    @Test func varintMatchesLEB128() {
        var b = ByteBuffer()
        defer { b.deallocate() }
        b.appendVarint(1)
        b.appendVarint(300)
        #expect(b.array == [0x01, 0xAC, 0x02])
    }

    @Test func storeLittleEndianOverwritesAPrefix() {
        var b = ByteBuffer()
        defer { b.deallocate() }
        b.appendLittleEndian(UInt32(0))
        b.append(9)
        b.storeLittleEndian(0x0102_0304, at: 0)
        #expect(b.array == [4, 3, 2, 1, 9])
    }

    @Test func removeAllShrinksOnlyPastTheLimit() {
        var b = ByteBuffer(capacity: 1 << 16)
        defer { b.deallocate() }
        b.append([1, 2, 3])
        b.removeAll(keepAtMost: 1024)
        #expect(b.count == 0 && b.capacity == 1024)
    }
}
