import Testing
@testable import Parquet

@Suite struct ColumnStatisticsTests {
    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    @Test func signedIntegersCompareSigned() {
        var s = ColumnStatistics(physicalType: .int32, byteOrder: .unsigned)
        for v: Int64 in [5, -3, Int64(Int32.max), Int64(Int32.min), 0] { s.updateInt(v) }
        let bounds = s.encodedBounds()
        #expect(bounds?.min == Self.le(Int32.min))
        #expect(bounds?.max == Self.le(Int32.max))
    }

    @Test func nanNeverBecomesABound() {
        var s = ColumnStatistics(physicalType: .double, byteOrder: .unsigned)
        s.updateDouble(.nan)
        #expect(s.encodedBounds() == nil)
        s.updateDouble(2)
        s.updateDouble(.nan)
        s.updateDouble(-1)
        #expect(s.encodedBounds()?.min == Self.le((-1.0).bitPattern))
        #expect(s.encodedBounds()?.max == Self.le((2.0).bitPattern))
    }

    @Test func zeroBoundsAreSignedZeros() {
        var s = ColumnStatistics(physicalType: .float, byteOrder: .unsigned)
        s.updateDouble(0.0)
        #expect(s.encodedBounds()?.min == Self.le(Float(-0.0).bitPattern))
        #expect(s.encodedBounds()?.max == Self.le(Float(0.0).bitPattern))
    }

    @Test func infinitiesAreBounds() {
        var s = ColumnStatistics(physicalType: .double, byteOrder: .unsigned)
        for v in [1.0, -.infinity, .infinity] { s.updateDouble(v) }
        #expect(s.encodedBounds()?.min == Self.le((-Double.infinity).bitPattern))
        #expect(s.encodedBounds()?.max == Self.le(Double.infinity.bitPattern))
    }

    @Test func stringsCompareAsUnsignedBytes() {
        var s = ColumnStatistics(physicalType: .byteArray, byteOrder: .unsigned)
        for text in ["b", "é", "a", "", "ab"] {
            Array(text.utf8).withUnsafeBytes { s.updateBytes($0) }
        }
        #expect(s.encodedBounds()?.min == [])
        #expect(s.encodedBounds()?.max == Array("é".utf8))  // 0xC3 sorts after ASCII
    }

    @Test func decimalBytesCompareSignedBigEndian() {
        var s = ColumnStatistics(physicalType: .fixedLenByteArray, byteOrder: .signedBigEndian)
        let values: [[UInt8]] = [[0x00, 0x05], [0xFF, 0xFE], [0x7F, 0xFF], [0x80, 0x00]]  // 5, -2, max, min
        for v in values { v.withUnsafeBytes { s.updateBytes($0) } }
        #expect(s.encodedBounds()?.min == [0x80, 0x00])
        #expect(s.encodedBounds()?.max == [0x7F, 0xFF])
    }

    @Test func uuidBytesCompareUnsigned() {
        var s = ColumnStatistics(physicalType: .fixedLenByteArray, byteOrder: .unsigned)
        for v: [UInt8] in [[0x80, 0x00], [0x7F, 0xFF]] { v.withUnsafeBytes { s.updateBytes($0) } }
        #expect(s.encodedBounds()?.min == [0x7F, 0xFF])
        #expect(s.encodedBounds()?.max == [0x80, 0x00])
    }

    @Test func oversizedByteValuesDropMinMax() {
        var s = ColumnStatistics(physicalType: .byteArray, byteOrder: .unsigned)
        [UInt8](repeating: 1, count: 2).withUnsafeBytes { s.updateBytes($0) }
        [UInt8](repeating: 1, count: ColumnStatistics.maxByteValueLength + 1).withUnsafeBytes { s.updateBytes($0) }
        #expect(s.encodedBounds() == nil)
    }

    @Test func booleansOrderFalseBeforeTrue() {
        var s = ColumnStatistics(physicalType: .boolean, byteOrder: .unsigned)
        s.updateInt(1)
        s.updateInt(0)
        #expect(s.encodedBounds()?.min == [0])
        #expect(s.encodedBounds()?.max == [1])
    }
}
