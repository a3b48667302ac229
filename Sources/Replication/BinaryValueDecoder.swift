/// Decodes one value in PostgreSQL's binary send format (binary COPY and pgoutput's `binary`
/// option use the same format) into a ``ColumnVector``, without allocating per fixed-width value.
public enum BinaryValueDecoder {
    /// Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
    static let epochOffsetMicros: Int64 = 946_684_800_000_000
    /// Days between 1970-01-01 and 2000-01-01.
    static let epochOffsetDays: Int64 = 10_957
    /// `-infinity` of a date: DuckDB's sentinel (-Int32.max), so DuckDB prints `-infinity`.
    public static let dateMinusInfinity = -Int64(Int32.max)
    /// `-infinity` of a timestamp: DuckDB's sentinel (-Int64.max), so DuckDB prints `-infinity`.
    public static let timestampMinusInfinity = -Int64.max

    /// Appends `field` (one non-null value of `vector.kind`) to `vector`.

    public static func append(_ field: UnsafeRawBufferPointer, to vector: inout ColumnVector) throws {
        switch vector.kind {
        case .bool:
            try expectLength(field, 1, vector.kind)
            vector.nulls.append(false); vector.int64s.append(field[0] == 0 ? 0 : 1)
        case .int16:
            try expectLength(field, 2, vector.kind)
            vector.nulls.append(false); vector.int64s.append(Int64(Int16(bitPattern: readU16(field, 0))))
        case .int32:
            try expectLength(field, 4, vector.kind)
            vector.nulls.append(false); vector.int64s.append(Int64(Int32(bitPattern: readU32(field, 0))))
        case .int64:
            try expectLength(field, 8, vector.kind)
            vector.nulls.append(false); vector.int64s.append(Int64(bitPattern: readU64(field, 0)))
        case .float32:
            try expectLength(field, 4, vector.kind)
            vector.nulls.append(false); vector.float32s.append(Float(bitPattern: readU32(field, 0)))
        case .float64:
            try expectLength(field, 8, vector.kind)
            vector.nulls.append(false); vector.float64s.append(Double(bitPattern: readU64(field, 0)))
        case .date:
            try expectLength(field, 4, vector.kind)
            let days = Int32(bitPattern: readU32(field, 0))
            vector.nulls.append(false)
            // ±infinity become DuckDB's infinity dates (Int32.max / -Int32.max), see the README.
            vector.int64s.append(days == .max ? Int64(Int32.max) : days == .min ? Self.dateMinusInfinity : Int64(days) + epochOffsetDays)
        case .time:
            try expectLength(field, 8, vector.kind)
            let micros = Int64(bitPattern: readU64(field, 0))
            guard (0...86_400_000_000).contains(micros) else { throw ValueDecodingError(kind: vector.kind, reason: "time outside 00:00:00...24:00:00") }
            vector.nulls.append(false); vector.int64s.append(micros)
        case .timestamp, .timestamptz:
            try expectLength(field, 8, vector.kind)
            let micros = Int64(bitPattern: readU64(field, 0))
            if micros == .max || micros == .min {
                // ±infinity become DuckDB's infinity timestamps (Int64.max / -Int64.max), see the README.
                vector.nulls.append(false); vector.int64s.append(micros == .max ? .max : Self.timestampMinusInfinity)
            } else {
                let (unix, overflow) = micros.addingReportingOverflow(epochOffsetMicros)
                guard !overflow, unix != .max, unix > Self.timestampMinusInfinity else {
                    // PostgreSQL goes on to 294276-12-31: past INT64 microseconds since 1970 the
                    // value is NULL in the column and kept as text in the file's metadata.
                    vector.appendOutOfRange(IntervalText.timestamp(microsSince2000: micros, withZone: vector.kind == .timestamptz))
                    return
                }
                vector.nulls.append(false); vector.int64s.append(unix)
            }
        case .decimal(let precision, let scale):
            let number = try NumericValue(field)
            switch number.special {
            case .finite: break
            case .nan:
                // NaN has no DECIMAL form: NULL, listed in the file's metadata (the README's rule).
                vector.appendDecimalNaN(); return
            case .positiveInfinity, .negativeInfinity:
                // PostgreSQL refuses infinity in a numeric(p,s) column; never write a wrong value.
                throw ValueDecodingError(kind: vector.kind, reason: "numeric infinity in a DECIMAL(\(precision),\(scale)) column")
            }
            guard let unscaled = number.unscaled(scale: scale) else {
                throw ValueDecodingError(kind: vector.kind, reason: "numeric value does not fit DECIMAL(\(precision),\(scale))")
            }
            if precision <= 18 {
                guard let small = Int64(exactly: unscaled) else {
                    throw ValueDecodingError(kind: vector.kind, reason: "numeric value does not fit DECIMAL(\(precision),\(scale))")
                }
                vector.nulls.append(false); vector.int64s.append(small)
            } else {
                vector.nulls.append(false); vector.int128s.append(unscaled)
            }
        case .numericText:
            let number = try NumericValue(field)
            vector.appendText(number.text)
        case .text, .json, .bytea, .textCast:
            vector.appendBytes(field)
        case .jsonb:
            guard field.count >= 1, field[0] == 1 else {
                throw ValueDecodingError(kind: vector.kind, reason: "jsonb version byte is not 1")
            }
            vector.appendBytes(UnsafeRawBufferPointer(rebasing: field[1...]))
        case .uuid:
            try expectLength(field, 16, vector.kind)
            vector.appendBytes(field)
        case .interval:
            try expectLength(field, 16, vector.kind)
            let micros = Int64(bitPattern: readU64(field, 0))
            let days = Int32(bitPattern: readU32(field, 8)), months = Int32(bitPattern: readU32(field, 12))
            vector.appendText(IntervalText.iso8601(months: months, days: days, micros: micros))
        case .list:
            try appendArray(field, to: &vector)
        case .timetz:
            try expectLength(field, 12, vector.kind)
            let micros = Int64(bitPattern: readU64(field, 0))
            let zoneWest = Int32(bitPattern: readU32(field, 8))
            vector.appendText(IntervalText.timeWithZone(micros: micros, secondsWestOfUTC: zoneWest))
        }
    }

    /// array_send: ndim, has-null flag, element OID, (size, lower bound) per dimension, then each
    /// element as an int32 length (-1 for NULL) and its bytes, in row-major order. A value of
    /// several dimensions (PostgreSQL does not enforce a column's declared dimensions) keeps its
    /// elements in that order and its dimensions in ``ColumnVector/arrayShapes``.
    static func appendArray(_ field: UnsafeRawBufferPointer, to vector: inout ColumnVector) throws {
        guard field.count >= 12 else { throw ValueDecodingError(kind: vector.kind, reason: "array shorter than its header") }
        let dimensions = Int(Int32(bitPattern: readU32(field, 0)))
        // PostgreSQL's MAXDIM is 6.
        guard (0...6).contains(dimensions) else { throw ValueDecodingError(kind: vector.kind, reason: "array of \(dimensions) dimensions") }
        guard field.count >= 12 + 8 * dimensions else { throw ValueDecodingError(kind: vector.kind, reason: "array dimension truncated") }
        var shape: [ArrayDimension] = []
        var count = dimensions == 0 ? 0 : 1
        for d in 0..<dimensions {
            let length = Int(Int32(bitPattern: readU32(field, 12 + 8 * d)))
            let lowerBound = Int(Int32(bitPattern: readU32(field, 16 + 8 * d)))
            guard length >= 0 else { throw ValueDecodingError(kind: vector.kind, reason: "negative array size") }
            let (product, overflow) = count.multipliedReportingOverflow(by: length)
            guard !overflow, product <= field.count else { throw ValueDecodingError(kind: vector.kind, reason: "array sizes exceed the value") }
            count = product
            shape.append(ArrayDimension(length: length, lowerBound: lowerBound))
        }
        var offset = 12 + 8 * dimensions
        // Elements are decoded apart first, so a malformed array leaves the vector as it was.
        var decoded = ColumnVector(kind: vector.elements[0].kind)
        do {
            for _ in 0..<count {
                guard offset + 4 <= field.count else { throw ValueDecodingError(kind: vector.kind, reason: "array element truncated") }
                let length = Int(Int32(bitPattern: readU32(field, offset)))
                offset += 4
                if length == -1 { decoded.appendNull(); continue }
                guard length >= 0, offset + length <= field.count else {
                    throw ValueDecodingError(kind: vector.kind, reason: "array element length runs past the value")
                }
                try append(UnsafeRawBufferPointer(rebasing: field[offset..<offset + length]), to: &decoded)
                offset += length
            }
            guard offset == field.count else { throw ValueDecodingError(kind: vector.kind, reason: "bytes after the last array element") }
        }
        vector.appendList(decoded, shape: shape)
    }

    static func expectLength(_ field: UnsafeRawBufferPointer, _ length: Int, _ kind: ColumnKind) throws {
        guard field.count == length else {
            throw ValueDecodingError(kind: kind, reason: "expected \(length) bytes, got \(field.count)")
        }
    }

    static func readU16(_ p: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    static func readU32(_ p: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    static func readU64(_ p: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}

/// A value PostgreSQL sent that does not decode as its declared type. Names the type, never the value.
public struct ValueDecodingError: Error, Sendable, CustomStringConvertible {
    public var kind: ColumnKind
    public var reason: String
    public init(kind: ColumnKind, reason: String) { self.kind = kind; self.reason = reason }
    public var description: String { "cannot decode a \(kind) value: \(reason)" }
}

/// A `numeric` in its binary form: base-10000 digits, weight, sign and display scale.
public struct NumericValue: Sendable {
    public enum Special: Sendable, Equatable { case finite, nan, positiveInfinity, negativeInfinity }
    public var special: Special
    public var negative: Bool
    /// Position of the first digit group: the value is sum(digits[i] * 10000^(weight - i)).
    public var weight: Int
    /// Digits after the decimal point that PostgreSQL displays.
    public var displayScale: Int
    public var digits: [Int16]

    /// Decodes numeric_send's format.
    public init(_ field: UnsafeRawBufferPointer) throws {
        guard field.count >= 8 else { throw ValueDecodingError(kind: .numericText, reason: "numeric shorter than its 8-byte header") }
        let count = Int(Int16(bitPattern: BinaryValueDecoder.readU16(field, 0)))
        weight = Int(Int16(bitPattern: BinaryValueDecoder.readU16(field, 2)))
        let sign = BinaryValueDecoder.readU16(field, 4)
        displayScale = Int(Int16(bitPattern: BinaryValueDecoder.readU16(field, 6)))
        guard count >= 0, field.count == 8 + 2 * count, displayScale >= 0 else {
            throw ValueDecodingError(kind: .numericText, reason: "numeric digit count does not match its length")
        }
        switch sign {
        case 0x0000: special = .finite; negative = false
        case 0x4000: special = .finite; negative = true
        case 0xC000: special = .nan; negative = false
        case 0xD000: special = .positiveInfinity; negative = false
        case 0xF000: special = .negativeInfinity; negative = true
        default: throw ValueDecodingError(kind: .numericText, reason: "numeric sign word \(sign) is unknown")
        }
        var digits: [Int16] = []
        digits.reserveCapacity(count)
        for i in 0..<count {
            let d = Int16(bitPattern: BinaryValueDecoder.readU16(field, 8 + 2 * i))
            guard (0..<10000).contains(d) else { throw ValueDecodingError(kind: .numericText, reason: "numeric digit out of range") }
            digits.append(d)
        }
        self.digits = digits
    }

    /// The value times 10^scale as an integer; nil when it does not fit 128 bits or has non-zero
    /// digits beyond `scale`.
    public func unscaled(scale: Int) -> Int128? {
        // Decimal digit by decimal digit, so the base-10000 groups' padding zeros beyond the scale
        // never take room in the accumulator (a numeric(38,6) value uses all 38 digits).
        var acc: Int128 = 0
        var lastExponent: Int?
        for (i, group) in digits.enumerated() {
            var g = Int(group)
            var four: [Int] = [0, 0, 0, 0]
            for k in stride(from: 3, through: 0, by: -1) { four[k] = g % 10; g /= 10 }
            for k in 0..<4 {
                let exponent = 4 * (weight - i) + 3 - k  // this digit's power of ten
                let d = four[k]
                if exponent + scale < 0 {
                    if d != 0 { return nil }  // a digit beyond the scale is never dropped
                    continue
                }
                if acc == 0 && d == 0 { lastExponent = exponent; continue }
                if let last = lastExponent {
                    // Zeros between the previous kept digit and this one (groups are contiguous, so none).
                    for _ in 0..<(last - exponent - 1) {
                        let (m, o) = acc.multipliedReportingOverflow(by: 10); if o { return nil }; acc = m
                    }
                }
                let (m, o1) = acc.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int128(d))
                if o1 || o2 { return nil }
                acc = a
                lastExponent = exponent
            }
        }
        guard acc != 0, let last = lastExponent else { return 0 }
        for _ in 0..<(last + scale) {
            let (m, o) = acc.multipliedReportingOverflow(by: 10); if o { return nil }; acc = m
        }
        return negative ? -acc : acc
    }

    /// The exact decimal text PostgreSQL prints (`-12.340`, `NaN`, `Infinity`).
    public var text: String {
        switch special {
        case .nan: return "NaN"
        case .positiveInfinity: return "Infinity"
        case .negativeInfinity: return "-Infinity"
        case .finite: break
        }
        var out: [UInt8] = []
        out.reserveCapacity(4 * (max(weight, 0) + 1) + displayScale + 2)
        if negative && !digits.isEmpty { out.append(UInt8(ascii: "-")) }
        func group(_ i: Int) -> Int { i >= 0 && i < digits.count ? Int(digits[i]) : 0 }
        if weight < 0 {
            out.append(UInt8(ascii: "0"))
        } else {
            var leading = true
            for i in 0...weight {
                var g = group(i)
                var four = [UInt8](repeating: 0, count: 4)
                for k in stride(from: 3, through: 0, by: -1) { four[k] = UInt8(g % 10); g /= 10 }
                for d in four {
                    if leading && d == 0 { continue }
                    leading = false
                    out.append(UInt8(ascii: "0") + d)
                }
            }
            if leading { out.append(UInt8(ascii: "0")) }
        }
        if displayScale > 0 {
            out.append(UInt8(ascii: "."))
            var written = 0
            var i = weight + 1
            while written < displayScale {
                var g = group(i)
                var four = [UInt8](repeating: 0, count: 4)
                for k in stride(from: 3, through: 0, by: -1) { four[k] = UInt8(g % 10); g /= 10 }
                for d in four where written < displayScale {
                    out.append(UInt8(ascii: "0") + d); written += 1
                }
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Text forms for the types we write as strings.
enum IntervalText {
    /// ISO 8601 duration as PostgreSQL's `IntervalStyle = iso_8601` prints it.
    static func iso8601(months: Int32, days: Int32, micros: Int64) -> String {
        if months == 0 && days == 0 && micros == 0 { return "PT0S" }
        var s = "P"
        let years = months / 12, restMonths = months % 12
        if years != 0 { s += "\(years)Y" }
        if restMonths != 0 { s += "\(restMonths)M" }
        if days != 0 { s += "\(days)D" }
        if micros != 0 {
            s += "T"
            let hours = micros / 3_600_000_000
            let minutes = (micros % 3_600_000_000) / 60_000_000
            let rest = micros % 60_000_000
            if hours != 0 { s += "\(hours)H" }
            if minutes != 0 { s += "\(minutes)M" }
            if rest != 0 { s += secondsText(rest) + "S" }
        }
        return s
    }

    /// `-1.5`, `6`, `0.000001` from microseconds.
    static func secondsText(_ micros: Int64) -> String {
        let negative = micros < 0
        let m = micros.magnitude
        var text = "\(m / 1_000_000)"
        var frac = m % 1_000_000
        if frac != 0 {
            var digits = String(frac)
            digits = String(repeating: "0", count: 6 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
            frac = 0
        }
        return (negative ? "-" : "") + text
    }

    /// `HH:MM:SS[.ffffff]+HH[:MM[:SS]]` as PostgreSQL prints `timetz`.
    static func timeWithZone(micros: Int64, secondsWestOfUTC: Int32) -> String {
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let east = -Int64(secondsWestOfUTC)
        let sign = east < 0 ? "-" : "+"
        let a = east.magnitude
        var zone = sign + two(Int64(a / 3600))
        if a % 3600 != 0 { zone += ":" + two(Int64((a % 3600) / 60)) }
        if a % 60 != 0 { zone += ":" + two(Int64(a % 60)) }
        return timeOfDay(micros: micros) + zone
    }

    /// A `time` value (microseconds since midnight, `24:00:00` included) as PostgreSQL prints it:
    /// `HH:MM:SS` and the fraction without trailing zeros (`13:45:00.5`).
    static func timeOfDay(micros: Int64) -> String {
        let h = micros / 3_600_000_000, m = (micros / 60_000_000) % 60, sMicros = micros % 60_000_000
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var secs = secondsText(sMicros)
        if sMicros < 10_000_000 { secs = "0" + secs }
        return "\(two(h)):\(two(m)):\(secs)"
    }

    /// A finite timestamp (microseconds since 2000-01-01, PostgreSQL's epoch) as `timestamp_out`
    /// prints it in UTC (`294250-01-01 00:00:00`, `+00` added for timestamptz, ` BC` before year 1).
    static func timestamp(microsSince2000 micros: Int64, withZone: Bool) -> String {
        let microsPerDay: Int64 = 86_400_000_000
        var days = micros / microsPerDay, rest = micros % microsPerDay
        if rest < 0 { rest += microsPerDay; days -= 1 }
        // Howard Hinnant's civil_from_days, from days since 1970-01-01.
        let z = days + BinaryValueDecoder.epochOffsetDays + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, width - s.count)) + s }
        let year = y > 0 ? y : 1 - y
        var text = "\(pad(year, 4))-\(pad(m, 2))-\(pad(d, 2)) \(timeOfDay(micros: rest))"
        if withZone { text += "+00" }
        return y > 0 ? text : text + " BC"
    }

}
