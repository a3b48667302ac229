/// A single value of an Iceberg primitive type, for column bounds in manifests.
///
/// Spec: https://iceberg.apache.org/spec/ "Appendix D: Single-value serialization" (binary): little-endian
/// ints, longs, floats and doubles; dates as days in 4 bytes; times and timestamps as
/// microseconds in 8 bytes; strings as UTF-8 and binary as is, both without length; uuids as
/// 16 big-endian bytes; decimals as the unscaled value in the fewest big-endian two's-complement
/// bytes.
public enum IcebergLiteral: Sendable, Hashable {
    case boolean(Bool)
    case int(Int32)
    case long(Int64)
    case float(Float)
    case double(Double)
    /// Days since 1970-01-01.
    case date(Int32)
    /// Microseconds since midnight.
    case time(Int64)
    /// Microseconds since the epoch (timestamp or timestamptz).
    case timestamp(Int64)
    case string(String)
    case binary([UInt8])
    /// 16 bytes in network order.
    case uuid([UInt8])
    /// The unscaled value in big-endian two's complement, any number of bytes (Parquet's
    /// FIXED_LEN_BYTE_ARRAY form); serialized in the fewest bytes.
    case decimal(unscaledBigEndian: [UInt8])

    /// Whether this is a float or double NaN (never a valid bound).
    public var isNaN: Bool {
        switch self {
        case .float(let v): v.isNaN
        case .double(let v): v.isNaN
        default: false
        }
    }

    /// A decimal from its unscaled value as an integer.
    public static func decimal(unscaled: Int64) -> IcebergLiteral {
        .decimal(unscaledBigEndian: (0..<8).reversed().map { UInt8(truncatingIfNeeded: unscaled >> ($0 * 8)) })
    }

    /// The binary single-value serialization.
    public var serialized: [UInt8] {
        switch self {
        case .boolean(let v): return [v ? 1 : 0]
        case .int(let v), .date(let v): return Self.littleEndian(UInt64(UInt32(bitPattern: v)), bytes: 4)
        case .long(let v), .time(let v), .timestamp(let v): return Self.littleEndian(UInt64(bitPattern: v), bytes: 8)
        case .float(let v): return Self.littleEndian(UInt64(v.bitPattern), bytes: 4)
        case .double(let v): return Self.littleEndian(v.bitPattern, bytes: 8)
        case .string(let v): return Array(v.utf8)
        case .binary(let v), .uuid(let v): return v
        case .decimal(let raw): return Self.minimalTwosComplement(raw)
        }
    }

    private static func littleEndian(_ v: UInt64, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: v >> UInt64($0 * 8)) }
    }

    /// Drops leading bytes that only repeat the sign (0x00 before a byte < 0x80, 0xFF before a byte >= 0x80).
    static func minimalTwosComplement(_ raw: [UInt8]) -> [UInt8] {
        guard !raw.isEmpty else { return [0] }
        var start = 0
        while start < raw.count - 1 {
            let b = raw[start], next = raw[start + 1]
            if (b == 0x00 && next < 0x80) || (b == 0xFF && next >= 0x80) { start += 1 } else { break }
        }
        return Array(raw[start...])
    }
}

/// Bounds of a string or binary column cut to a prefix, as Iceberg's default metrics mode
/// `truncate(16)` does, so a 100 MB value never lands in a manifest.
public enum BoundTruncation {
    /// A lower bound: the first `length` code points (or bytes) are still <= every value.
    public static func lower(_ value: IcebergLiteral, length: Int = 16) -> IcebergLiteral {
        switch value {
        case .string(let s): return .string(String(String.UnicodeScalarView(s.unicodeScalars.prefix(length))))
        case .binary(let b): return .binary(Array(b.prefix(length)))
        default: return value
        }
    }

    /// An upper bound: the prefix with its last code point (byte) incremented so that it is
    /// >= every value with that prefix; nil when no such bound exists (all 0xFF bytes, or only
    /// the highest code points), in which case the bound is left out.
    public static func upper(_ value: IcebergLiteral, length: Int = 16) -> IcebergLiteral? {
        switch value {
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            guard scalars.count > length else { return value }
            var prefix = Array(scalars.prefix(length))
            while let last = prefix.popLast() {
                var next = last.value + 1
                if next == 0xD800 { next = 0xE000 }  // skip the surrogate range
                if let bumped = Unicode.Scalar(next) {
                    prefix.append(bumped)
                    var view = String.UnicodeScalarView()
                    view.append(contentsOf: prefix)
                    return .string(String(view))
                }
            }
            return nil
        case .binary(let b):
            guard b.count > length else { return value }
            var prefix = Array(b.prefix(length))
            while let last = prefix.popLast() {
                if last < 0xFF {
                    prefix.append(last + 1)
                    return .binary(prefix)
                }
            }
            return nil
        default:
            return value
        }
    }
}
