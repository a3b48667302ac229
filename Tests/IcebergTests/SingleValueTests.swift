import Testing
@testable import Iceberg

@Suite struct SingleValueTests {
    @Test func serializationFollowsAppendixD() {
        #expect(IcebergLiteral.boolean(true).serialized == [1])
        #expect(IcebergLiteral.int(1).serialized == [1, 0, 0, 0])
        #expect(IcebergLiteral.int(-2).serialized == [0xFE, 0xFF, 0xFF, 0xFF])
        #expect(IcebergLiteral.long(0x0102).serialized == [2, 1, 0, 0, 0, 0, 0, 0])
        #expect(IcebergLiteral.float(1).serialized == [0, 0, 0x80, 0x3F])
        #expect(IcebergLiteral.double(-0.0).serialized == [0, 0, 0, 0, 0, 0, 0, 0x80])
        #expect(IcebergLiteral.date(19000).serialized == [0x38, 0x4A, 0, 0])
        #expect(IcebergLiteral.timestamp(1).serialized == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(IcebergLiteral.string("é").serialized == [0xC3, 0xA9])
        #expect(IcebergLiteral.binary([0, 255]).serialized == [0, 255])
        #expect(IcebergLiteral.uuid(Array(0..<16)).serialized == Array(0..<16))
    }

    @Test func decimalsUseTheFewestTwosComplementBytes() {
        #expect(IcebergLiteral.decimal(unscaled: 0).serialized == [0x00])
        #expect(IcebergLiteral.decimal(unscaled: 127).serialized == [0x7F])
        #expect(IcebergLiteral.decimal(unscaled: 128).serialized == [0x00, 0x80])
        #expect(IcebergLiteral.decimal(unscaled: -1).serialized == [0xFF])
        #expect(IcebergLiteral.decimal(unscaled: -128).serialized == [0x80])
        #expect(IcebergLiteral.decimal(unscaled: -129).serialized == [0xFF, 0x7F])
        #expect(IcebergLiteral.decimal(unscaled: 1234).serialized == [0x04, 0xD2])
        #expect(IcebergLiteral.decimal(unscaledBigEndian: [0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00]).serialized == [0x01, 0x00])
    }

    @Test func truncatedBoundsStayBounds() {
        let long = String(repeating: "a", count: 20) + "z"
        #expect(BoundTruncation.lower(.string(long)) == .string(String(repeating: "a", count: 16)))
        #expect(BoundTruncation.upper(.string(long)) == .string(String(repeating: "a", count: 15) + "b"))
        #expect(BoundTruncation.upper(.string("short")) == .string("short"))
        #expect(BoundTruncation.upper(.binary([UInt8](repeating: 0xFF, count: 20))) == nil)
        #expect(BoundTruncation.upper(.binary([1, 2, 0xFF, 9]), length: 3) == .binary([1, 3]))
        #expect(BoundTruncation.lower(.binary([1, 2, 3]), length: 2) == .binary([1, 2]))
        let maxScalars = String(repeating: "\u{10FFFF}", count: 17)
        #expect(BoundTruncation.upper(.string(maxScalars)) == nil)
        #expect(BoundTruncation.upper(.string(String(repeating: "\u{D7FF}", count: 17)), length: 1) == .string("\u{E000}"))
        #expect(BoundTruncation.lower(.long(5)) == .long(5))
    }
}
