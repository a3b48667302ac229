/// Min, max and null count of one column chunk, ordered as `parquet.thrift` `ColumnOrder`
/// (TypeDefinedOrder) prescribes for the column's logical type.
///
/// Signed integers (all INTEGER/DATE/TIME/TIMESTAMP/DECIMAL on INT32 and INT64) compare signed;
/// FLOAT/DOUBLE ignore NaN and write -0.0 as the min and +0.0 as the max when zero is an
/// extreme; BYTE_ARRAY (STRING, JSON) and UUID compare as unsigned bytes; DECIMAL on
/// FIXED_LEN_BYTE_ARRAY compares as signed big-endian integers. BOOLEAN orders false < true.
struct ColumnStatistics {
    /// How byte values compare.
    enum ByteOrder {
        case unsigned
        case signedBigEndian
    }

    /// Byte values larger than this are left out of the statistics (the footer would grow by that much).
    static let maxByteValueLength = 4096

    var nullCount: Int64 = 0
    private(set) var hasMinMax = false
    private var minInt: Int64 = 0, maxInt: Int64 = 0
    private var minDouble: Double = 0, maxDouble: Double = 0
    private var minBytes: [UInt8] = [], maxBytes: [UInt8] = []
    private var bytesTooLong = false
    let physicalType: ParquetPhysicalType
    let byteOrder: ByteOrder

    init(physicalType: ParquetPhysicalType, byteOrder: ByteOrder) {
        self.physicalType = physicalType
        self.byteOrder = byteOrder
    }

    mutating func reset() {
        nullCount = 0
        hasMinMax = false
        bytesTooLong = false
        minBytes.removeAll(keepingCapacity: false)
        maxBytes.removeAll(keepingCapacity: false)
    }

    /// Records an INT32/INT64/BOOLEAN value (booleans as 0 and 1).
    @inline(__always)
    mutating func updateInt(_ v: Int64) {
        if !hasMinMax {
            minInt = v
            maxInt = v
            hasMinMax = true
        } else if v < minInt {
            minInt = v
        } else if v > maxInt {
            maxInt = v
        }
    }

    /// Records a FLOAT/DOUBLE value; NaN never becomes a bound.
    @inline(__always)
    mutating func updateDouble(_ v: Double) {
        if v.isNaN { return }
        if !hasMinMax {
            minDouble = v
            maxDouble = v
            hasMinMax = true
        } else {
            if v < minDouble { minDouble = v }
            if v > maxDouble { maxDouble = v }
        }
    }

    /// Records a BYTE_ARRAY/FIXED_LEN_BYTE_ARRAY value.
    @inline(__always)
    /// Drops the byte bounds of the chunk, as a value longer than ``maxByteValueLength`` does.
    mutating func giveUpByteBounds() { bytesTooLong = true }

    mutating func updateBytes(_ v: UnsafeRawBufferPointer) {
        if bytesTooLong { return }
        if v.count > Self.maxByteValueLength {
            bytesTooLong = true
            return
        }
        if !hasMinMax {
            minBytes.append(contentsOf: v)
            maxBytes.append(contentsOf: v)
            hasMinMax = true
            return
        }
        if compare(v, minBytes) < 0 {
            minBytes.removeAll(keepingCapacity: true)
            minBytes.append(contentsOf: v)
        } else if compare(v, maxBytes) > 0 {
            maxBytes.removeAll(keepingCapacity: true)
            maxBytes.append(contentsOf: v)
        }
    }

    @inline(__always)
    private func compare(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Int {
        b.withUnsafeBytes { b in Self.compare(a, b, order: byteOrder) }
    }

    /// Compares two byte strings in the given order: negative, zero or positive.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, order: ByteOrder) -> Int {
        if order == .signedBigEndian && a.count > 0 && b.count > 0 {
            let sa = Int8(bitPattern: a[0]), sb = Int8(bitPattern: b[0])
            if sa != sb { return sa < sb ? -1 : 1 }
            let rest = Swift.min(a.count, b.count) - 1
            if rest > 0 {
                let c = memcmp(a.baseAddress! + 1, b.baseAddress! + 1, rest)
                if c != 0 { return Int(c) }
            }
            return a.count - b.count
        }
        let n = Swift.min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    /// The PLAIN-encoded min and max to write, or nil when there are none to write.
    func encodedBounds() -> (min: [UInt8], max: [UInt8])? {
        guard hasMinMax, !bytesTooLong else { return nil }
        switch physicalType {
        case .boolean:
            return ([minInt != 0 ? 1 : 0], [maxInt != 0 ? 1 : 0])
        case .int32:
            return (littleEndian(Int32(truncatingIfNeeded: minInt)), littleEndian(Int32(truncatingIfNeeded: maxInt)))
        case .int64:
            return (littleEndian(minInt), littleEndian(maxInt))
        case .float:
            let lo = minDouble == 0 ? -0.0 : minDouble, hi = maxDouble == 0 ? 0.0 : maxDouble
            return (littleEndian(Float(lo).bitPattern), littleEndian(Float(hi).bitPattern))
        case .double:
            let lo = minDouble == 0 ? -0.0 : minDouble, hi = maxDouble == 0 ? 0.0 : maxDouble
            return (littleEndian(lo.bitPattern), littleEndian(hi.bitPattern))
        case .byteArray, .fixedLenByteArray:
            return (minBytes, maxBytes)
        }
    }

    private func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
