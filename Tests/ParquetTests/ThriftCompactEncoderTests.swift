import Testing
@testable import Parquet

@Suite struct ThriftCompactEncoderTests {
    @Test func shortFieldHeaderCarriesDeltaAndType() {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldI32(1, 3)  // delta 1, type i32 (5): 0x15, zigzag(3) = 6
        e.fieldI64(3, -1)  // delta 2, type i64 (6): 0x26, zigzag(-1) = 1
        e.fieldBool(4, true)  // delta 1, true (1): 0x11
        e.fieldBool(5, false)  // delta 1, false (2): 0x12
        e.structEnd()
        #expect(e.bytes == [0x15, 0x06, 0x26, 0x01, 0x11, 0x12, 0x00])
    }

    @Test func longFieldHeaderWhenDeltaExceedsFifteen() {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldI32(17, 1)  // type byte 0x05 then zigzag varint id 17 -> 34 (0x22), value zigzag(1) = 2
        e.structEnd()
        #expect(e.bytes == [0x05, 0x22, 0x02, 0x00])
    }

    @Test func varintSpansBytesForLargeValues() {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldI32(1, 300)  // zigzag 600 = 0b1001011000 -> 0xD8 0x04
        e.fieldI64(2, Int64.min)  // zigzag = UInt64.max -> nine 0xFF then 0x01
        e.structEnd()
        #expect(e.bytes == [0x15, 0xD8, 0x04, 0x16] + [UInt8](repeating: 0xFF, count: 9) + [0x01, 0x00])
    }

    @Test func binaryIsLengthPrefixed() {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldString(4, "ab")  // delta 4, binary (8): 0x48, len 2
        e.structEnd()
        #expect(e.bytes == [0x48, 0x02, 0x61, 0x62, 0x00])
    }

    @Test func nestedStructRestoresParentFieldID() {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldI32(1, 0)  // 0x15 0x00
        e.fieldStructBegin(5)  // delta 4, struct (12): 0x4C
        e.fieldI32(1, 1)  // 0x15 0x02
        e.structEnd()  // 0x00
        e.fieldI32(6, 2)  // delta 1 from 5: 0x15 0x04
        e.structEnd()
        #expect(e.bytes == [0x15, 0x00, 0x4C, 0x15, 0x02, 0x00, 0x15, 0x04, 0x00])
    }

    @Test func shortAndLongListHeaders() {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldListBegin(1, elementType: .i32, count: 2)  // 0x19, then 0x25
        e.writeI32(1)
        e.writeI32(-1)
        e.fieldListBegin(2, elementType: .binary, count: 15)  // 0x19, then 0xF8 0x0F
        for _ in 0..<15 { e.writeBinary([]) }
        e.structEnd()
        #expect(e.bytes == [0x19, 0x25, 0x02, 0x01, 0x19, 0xF8, 0x0F] + [UInt8](repeating: 0, count: 15) + [0x00])
    }

    @Test func i8AndI16Fields() {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldI8(1, -2)  // 0x13 then the raw byte 0xFE
        e.fieldI16(2, 7)  // 0x14 then zigzag 14
        e.structEnd()
        #expect(e.bytes == [0x13, 0xFE, 0x14, 0x0E, 0x00])
    }
}
