#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Parses one value in PostgreSQL's text output into a ``ColumnVector``, appending exactly what
/// ``BinaryValueDecoder`` appends for the same value in binary.
///
/// pgoutput sends text when a table has a column we cannot decode in binary (a ``ColumnKind/textCast``
/// column): then every column of that table arrives as its type's output function prints it. The
/// walsender session fixes the settings that shape that output, so the forms below are the only ones
/// accepted:
///
/// ```
/// datestyle=ISO,YMD  intervalstyle=iso_8601  timezone=UTC  extra_float_digits=3  bytea_output=hex
/// ```
///
/// Anything else is a ``ValueDecodingError`` naming the kind and the problem, never the value.
/// Fixed-width kinds are parsed from the bytes without allocating: floats take Clinger's exact fast
/// path when they can, else the C library's correctly rounded `strtod`/`strtof` on a stack copy.
///
/// Output functions: `boolout`, `int2out`/`int4out`/`int8out`, `float4out`/`float8out`,
/// `numeric_out`, `byteaout`, `uuid_out`, `date_out`, `time_out`, `timestamp_out`,
/// `timestamptz_out`, `interval_out`, `timetz_out` (PostgreSQL `src/backend/utils/adt/`).
public enum TextValueParser {
    /// Microseconds in a day.
    static let microsPerDay: Int64 = 86_400_000_000

    /// Appends `text` (one non-null value of `vector.kind`, in PostgreSQL's text output) to `vector`.
    public static func append(_ text: UnsafeRawBufferPointer, to vector: inout ColumnVector) throws {
        let kind = vector.kind
        switch kind {
        case .bool:
            guard text.count == 1, text[0] == UInt8(ascii: "t") || text[0] == UInt8(ascii: "f") else {
                throw ValueDecodingError(kind: kind, reason: "bool text is not t or f")
            }
            vector.nulls.append(false); vector.int64s.append(text[0] == UInt8(ascii: "t") ? 1 : 0)
        case .int16:
            let v = try integer(text, kind, min: Int64(Int16.min), max: Int64(Int16.max))
            vector.nulls.append(false); vector.int64s.append(v)
        case .int32:
            let v = try integer(text, kind, min: Int64(Int32.min), max: Int64(Int32.max))
            vector.nulls.append(false); vector.int64s.append(v)
        case .int64:
            let v = try integer(text, kind, min: .min, max: .max)
            vector.nulls.append(false); vector.int64s.append(v)
        case .float32:
            let v = try float32(text, kind)
            vector.nulls.append(false); vector.float32s.append(v)
        case .float64:
            let v = try float64(text, kind)
            vector.nulls.append(false); vector.float64s.append(v)
        case .decimal(let precision, let scale):
            guard let unscaled = try decimal(text, kind, scale: scale) else {
                // NaN has no DECIMAL form: NULL, listed in the file's metadata, as the binary decoder
                // does; PostgreSQL refuses infinity in a numeric(p,s) column.
                guard equals(text, "NaN") else {
                    throw ValueDecodingError(kind: kind, reason: "numeric infinity in a DECIMAL(\(precision),\(scale)) column")
                }
                vector.appendDecimalNaN(); return
            }
            if precision <= 18 {
                guard let narrow = Int64(exactly: unscaled) else {
                    throw ValueDecodingError(kind: kind, reason: "numeric value does not fit DECIMAL(\(precision),\(scale))")
                }
                vector.nulls.append(false); vector.int64s.append(narrow)
            } else {
                vector.nulls.append(false); vector.int128s.append(unscaled)
            }
        case .numericText:
            try validateNumeric(text, kind)
            vector.appendBytes(text)
        case .text, .json, .jsonb, .textCast:
            // jsonb_out prints the same normalised text that jsonb_send sends after its version byte.
            vector.appendBytes(text)
        case .bytea:
            try appendBytea(text, to: &vector)
        case .list:
            try ArrayText.append(text, to: &vector)
        case .uuid:
            try appendUUID(text, to: &vector)
        case .date:
            let days = try date(text, kind)
            vector.nulls.append(false); vector.int64s.append(days)
        case .time:
            var i = 0
            let micros = try timeOfDay(text, &i, text.count, kind, allowMidnightEnd: true)
            guard i == text.count else { throw ValueDecodingError(kind: kind, reason: "unexpected characters after the time") }
            vector.nulls.append(false); vector.int64s.append(micros)
        case .timestamp, .timestamptz:
            do {
                let micros = try timestamp(text, kind, withZone: kind == .timestamptz)
                vector.nulls.append(false); vector.int64s.append(micros)
            } catch is TimestampOutOfRange {
                // Past INT64 microseconds since 1970 (PostgreSQL goes on to 294276): NULL in the
                // column, the text in the file's metadata, as in binary.
                vector.appendOutOfRange(String(decoding: text, as: UTF8.self))
            }
        case .interval:
            try validateInterval(text, kind)
            vector.appendBytes(text)
        case .timetz:
            var i = 0
            _ = try timeOfDay(text, &i, text.count, kind, allowMidnightEnd: true)
            _ = try zone(text, &i, text.count, kind)
            guard i == text.count else { throw ValueDecodingError(kind: kind, reason: "unexpected characters after the zone") }
            vector.appendBytes(text)
        }
    }

    // MARK: Numbers

    static func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    /// Whether `text` equals the ASCII `literal`.
    static func equals(_ text: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard text.count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        for i in 0..<text.count where text[i] != l[i] { return false }
        return true
    }

    /// `-?[0-9]+` within `min...max`, accumulated negatively so that the minimum itself parses.
    static func integer(_ text: UnsafeRawBufferPointer, _ kind: ColumnKind, min: Int64, max: Int64) throws -> Int64 {
        var i = 0
        let negative = text.count > 0 && text[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        guard i < text.count else { throw ValueDecodingError(kind: kind, reason: "integer text has no digits") }
        var acc: Int64 = 0
        while i < text.count {
            let b = text[i]
            guard isDigit(b) else { throw ValueDecodingError(kind: kind, reason: "integer text has a non-digit character") }
            let (m, o1) = acc.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.subtractingReportingOverflow(Int64(b &- UInt8(ascii: "0")))
            if o1 || o2 { throw ValueDecodingError(kind: kind, reason: "integer out of range") }
            acc = s; i += 1
        }
        if !negative {
            guard acc != .min else { throw ValueDecodingError(kind: kind, reason: "integer out of range") }
            acc = -acc
        }
        guard acc >= min && acc <= max else { throw ValueDecodingError(kind: kind, reason: "integer out of range") }
        return acc
    }

    /// A float's text split into sign, up to 19 significant digits and a power of ten.
    struct FloatText {
        var negative = false
        /// The first significant digits as an integer.
        var mantissa: UInt64 = 0
        /// Significant digits beyond the ones in `mantissa` (non-zero means the fast path is out).
        var droppedDigits = 0
        /// The value is mantissa * 10^exponent (ignoring dropped digits).
        var exponent = 0
    }

    /// Scans `-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?`, the shape `float4out`/`float8out`
    /// print with extra_float_digits > 0; nil when the text has another shape.
    static func scanFloat(_ text: UnsafeRawBufferPointer) -> FloatText? {
        var f = FloatText()
        var i = 0
        let n = text.count
        if i < n && text[i] == UInt8(ascii: "-") { f.negative = true; i += 1 }
        var digits = 0, significant = 0
        func digit(_ d: UInt8, fraction: Bool) {
            digits += 1
            if significant == 0 && d == 0 {
                if fraction { f.exponent -= 1 }
                return
            }
            if significant < 19 {
                f.mantissa = f.mantissa * 10 + UInt64(d)
                significant += 1
                if fraction { f.exponent -= 1 }
            } else {
                f.droppedDigits += 1
                if !fraction { f.exponent += 1 }
            }
        }
        while i < n && isDigit(text[i]) { digit(text[i] &- UInt8(ascii: "0"), fraction: false); i += 1 }
        if i < n && text[i] == UInt8(ascii: ".") {
            i += 1
            while i < n && isDigit(text[i]) { digit(text[i] &- UInt8(ascii: "0"), fraction: true); i += 1 }
        }
        guard digits > 0 else { return nil }
        if i < n && (text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E")) {
            i += 1
            var negativeExponent = false
            if i < n && (text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-")) {
                negativeExponent = text[i] == UInt8(ascii: "-"); i += 1
            }
            guard i < n else { return nil }
            var e = 0
            while i < n {
                guard isDigit(text[i]) else { return nil }
                if e < 100_000 { e = e * 10 + Int(text[i] &- UInt8(ascii: "0")) }
                i += 1
            }
            f.exponent += negativeExponent ? -e : e
        }
        return i == n ? f : nil
    }

    /// Exact powers of ten in Double (10^0 ... 10^22).
    static let doublePowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
    /// Exact powers of ten in Float (10^0 ... 10^10).
    static let floatPowersOfTen: [Float] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

    static func float64(_ text: UnsafeRawBufferPointer, _ kind: ColumnKind) throws -> Double {
        if let special = specialFloat(text) { return Double(special) }
        guard let f = scanFloat(text) else { throw ValueDecodingError(kind: kind, reason: "float text is not a number") }
        if f.mantissa == 0 && f.droppedDigits == 0 { return f.negative ? -0.0 : 0.0 }
        // Clinger's fast path: mantissa and power of ten are both exact, so one IEEE operation
        // rounds correctly.
        if f.droppedDigits == 0 && f.mantissa <= 1 << 53 && (-22...22).contains(f.exponent) {
            var v = Double(f.mantissa)
            v = f.exponent < 0 ? v / doublePowersOfTen[-f.exponent] : v * doublePowersOfTen[f.exponent]
            return f.negative ? -v : v
        }
        guard let v = cParse(text, strtod) ?? Double(String(decoding: text, as: UTF8.self)) else {
            throw ValueDecodingError(kind: kind, reason: "float text is not a number")
        }
        return v
    }

    static func float32(_ text: UnsafeRawBufferPointer, _ kind: ColumnKind) throws -> Float {
        if let special = specialFloat(text) { return Float(special) }
        guard let f = scanFloat(text) else { throw ValueDecodingError(kind: kind, reason: "float text is not a number") }
        if f.mantissa == 0 && f.droppedDigits == 0 { return f.negative ? -0.0 : 0.0 }
        if f.droppedDigits == 0 && f.mantissa <= 1 << 24 && (-10...10).contains(f.exponent) {
            var v = Float(f.mantissa)
            v = f.exponent < 0 ? v / floatPowersOfTen[-f.exponent] : v * floatPowersOfTen[f.exponent]
            return f.negative ? -v : v
        }
        guard let v = cParse(text, strtof) ?? Float(String(decoding: text, as: UTF8.self)) else {
            throw ValueDecodingError(kind: kind, reason: "float text is not a number")
        }
        return v
    }

    /// Runs `strtod`/`strtof` on a NUL-terminated stack copy of `text` (already checked to be a
    /// plain decimal by ``scanFloat(_:)``); nil unless it read every byte, which only a locale
    /// whose radix character is not `.` prevents (the caller then falls back to the standard
    /// library's locale-independent parse). glibc's conversions are correctly rounded.
    static func cParse<T>(
        _ text: UnsafeRawBufferPointer,
        _ convert: (UnsafePointer<CChar>, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> T
    ) -> T? {
        guard let source = text.baseAddress, text.count > 0 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buffer -> T? in
            guard let base = buffer.baseAddress else { return nil }
            UnsafeMutableRawPointer(base).copyMemory(from: source, byteCount: text.count)
            base[text.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = convert(base, &end)
            return end == base + text.count ? value : nil
        }
    }

    /// `NaN`, `Infinity`, `-Infinity` as PostgreSQL prints them.
    static func specialFloat(_ text: UnsafeRawBufferPointer) -> Double? {
        guard let first = text.first, first == UInt8(ascii: "N") || first == UInt8(ascii: "I") || first == UInt8(ascii: "-") else { return nil }
        if equals(text, "NaN") { return .nan }
        if equals(text, "Infinity") { return .infinity }
        if equals(text, "-Infinity") { return -.infinity }
        return nil
    }

    /// `numeric_out`'s text times 10^scale; nil for NaN and ±Infinity. Fractional digits beyond
    /// `scale` must be zeros (never rounded away), and the value must fit 128 bits.
    static func decimal(_ text: UnsafeRawBufferPointer, _ kind: ColumnKind, scale: Int) throws -> Int128? {
        if equals(text, "NaN") || equals(text, "Infinity") || equals(text, "-Infinity") { return nil }
        var i = 0
        let n = text.count
        let negative = n > 0 && text[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        var acc: Int128 = 0
        var integerDigits = 0, fractionDigits = 0
        func push(_ b: UInt8) throws {
            let (m, o1) = acc.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int128(b &- UInt8(ascii: "0")))
            if o1 || o2 { throw ValueDecodingError(kind: kind, reason: "numeric value does not fit 128 bits") }
            acc = s
        }
        while i < n && isDigit(text[i]) { try push(text[i]); integerDigits += 1; i += 1 }
        guard integerDigits > 0 else { throw ValueDecodingError(kind: kind, reason: "numeric text has no integer digits") }
        if i < n && text[i] == UInt8(ascii: ".") {
            i += 1
            while i < n && isDigit(text[i]) {
                if fractionDigits < scale {
                    try push(text[i])
                } else if text[i] != UInt8(ascii: "0") {
                    throw ValueDecodingError(kind: kind, reason: "numeric value has more fractional digits than the scale \(scale)")
                }
                fractionDigits += 1; i += 1
            }
            guard fractionDigits > 0 else { throw ValueDecodingError(kind: kind, reason: "numeric text has no digits after its point") }
        }
        guard i == n else { throw ValueDecodingError(kind: kind, reason: "numeric text has an unexpected character") }
        var missing = scale - min(fractionDigits, scale)
        while missing > 0 {
            let (m, o) = acc.multipliedReportingOverflow(by: 10)
            if o { throw ValueDecodingError(kind: kind, reason: "numeric value does not fit 128 bits") }
            acc = m; missing -= 1
        }
        return negative ? -acc : acc
    }

    /// Checks `numeric_out`'s shape: `-?[0-9]+(\.[0-9]+)?`, `NaN`, `Infinity`, `-Infinity`.
    static func validateNumeric(_ text: UnsafeRawBufferPointer, _ kind: ColumnKind) throws {
        if equals(text, "NaN") || equals(text, "Infinity") || equals(text, "-Infinity") { return }
        var i = 0
        let n = text.count
        if n > 0 && text[0] == UInt8(ascii: "-") { i = 1 }
        let start = i
        while i < n && isDigit(text[i]) { i += 1 }
        guard i > start else { throw ValueDecodingError(kind: kind, reason: "numeric text has no integer digits") }
        if i < n && text[i] == UInt8(ascii: ".") {
            i += 1
            let fraction = i
            while i < n && isDigit(text[i]) { i += 1 }
            guard i > fraction else { throw ValueDecodingError(kind: kind, reason: "numeric text has no digits after its point") }
        }
        guard i == n else { throw ValueDecodingError(kind: kind, reason: "numeric text has an unexpected character") }
    }

    // MARK: Bytes

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `\x` followed by pairs of hex digits (bytea_output=hex) -> the raw bytes.
    static func appendBytea(_ text: UnsafeRawBufferPointer, to vector: inout ColumnVector) throws {
        let kind = vector.kind
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") else {
            throw ValueDecodingError(kind: kind, reason: "bytea text does not start with \\x (bytea_output must be hex)")
        }
        guard text.count % 2 == 0 else { throw ValueDecodingError(kind: kind, reason: "bytea hex text has an odd number of digits") }
        let start = vector.bytes.count
        vector.bytes.reserveCapacity(start + (text.count - 2) / 2)
        var i = 2
        while i < text.count {
            guard let high = hexValue(text[i]), let low = hexValue(text[i + 1]) else {
                vector.bytes.removeSubrange(start...)
                throw ValueDecodingError(kind: kind, reason: "bytea hex text has a non-hex character")
            }
            vector.bytes.append(high << 4 | low)
            i += 2
        }
        vector.nulls.append(false)
        vector.offsets.append(vector.bytes.count)
    }

    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` -> its 16 bytes.
    static func appendUUID(_ text: UnsafeRawBufferPointer, to vector: inout ColumnVector) throws {
        let kind = vector.kind
        guard text.count == 36 else { throw ValueDecodingError(kind: kind, reason: "uuid text is not 36 characters") }
        var raw: (UInt64, UInt64) = (0, 0)
        var value: UInt64 = 0, nibbles = 0
        for i in 0..<36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard text[i] == UInt8(ascii: "-") else { throw ValueDecodingError(kind: kind, reason: "uuid text has no dash where one belongs") }
                continue
            }
            guard let h = hexValue(text[i]) else { throw ValueDecodingError(kind: kind, reason: "uuid text has a non-hex character") }
            value = value << 4 | UInt64(h)
            nibbles += 1
            if nibbles == 16 { raw.0 = value.bigEndian; value = 0 }
        }
        raw.1 = value.bigEndian
        withUnsafeBytes(of: &raw) { vector.appendBytes($0) }
    }

    // MARK: Dates and times

    /// Reads exactly `count` digits.
    static func fixedDigits(_ text: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int, _ count: Int) -> Int64? {
        guard end - i >= count else { return nil }
        var v: Int64 = 0
        for _ in 0..<count {
            guard isDigit(text[i]) else { return nil }
            v = v * 10 + Int64(text[i] &- UInt8(ascii: "0")); i += 1
        }
        return v
    }

    static func expect(_ text: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int, _ byte: UInt8) -> Bool {
        guard i < end, text[i] == byte else { return false }
        i += 1
        return true
    }

    /// Whether the text ends with ` BC` (EncodeDateOnly/EncodeDateTime append it for years <= 0).
    static func hasBCSuffix(_ text: UnsafeRawBufferPointer) -> Bool {
        let n = text.count
        return n >= 3 && text[n - 3] == UInt8(ascii: " ") && text[n - 2] == UInt8(ascii: "B") && text[n - 1] == UInt8(ascii: "C")
    }

    static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    /// Days since 1970-01-01 of a proleptic Gregorian date in astronomical years (1 BC = year 0).
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// `YYYY-MM-DD` (four or more year digits, year >= 1) -> days since 1970-01-01, with the
    /// year counted BC when `bc`.
    static func calendarDate(_ text: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int, bc: Bool, _ kind: ColumnKind) throws -> Int64 {
        var year: Int64 = 0, yearDigits = 0
        while i < end && isDigit(text[i]) {
            guard yearDigits < 9 else { throw ValueDecodingError(kind: kind, reason: "year has too many digits") }
            year = year * 10 + Int64(text[i] &- UInt8(ascii: "0")); yearDigits += 1; i += 1
        }
        guard yearDigits >= 4, expect(text, &i, end, UInt8(ascii: "-")),
            let month = fixedDigits(text, &i, end, 2), expect(text, &i, end, UInt8(ascii: "-")),
            let day = fixedDigits(text, &i, end, 2)
        else {
            throw ValueDecodingError(kind: kind, reason: "date is not YYYY-MM-DD")
        }
        guard year >= 1 else { throw ValueDecodingError(kind: kind, reason: "year 0 does not exist") }
        let astronomical = bc ? 1 - year : year
        guard (1...12).contains(month) else { throw ValueDecodingError(kind: kind, reason: "month out of range") }
        let monthDays: Int64 =
            switch month {
            case 2: isLeap(astronomical) ? 29 : 28
            case 4, 6, 9, 11: 30
            default: 31
            }
        guard (1...monthDays).contains(day) else { throw ValueDecodingError(kind: kind, reason: "day out of range for its month") }
        return daysSinceEpoch(year: astronomical, month: month, day: day)
    }

    /// `date_out` -> days since 1970-01-01; ±infinity -> Int32.max / -Int32.max as in binary.
    static func date(_ text: UnsafeRawBufferPointer, _ kind: ColumnKind) throws -> Int64 {
        if equals(text, "infinity") { return Int64(Int32.max) }
        if equals(text, "-infinity") { return BinaryValueDecoder.dateMinusInfinity }
        let bc = hasBCSuffix(text)
        let end = bc ? text.count - 3 : text.count
        var i = 0
        let days = try calendarDate(text, &i, end, bc: bc, kind)
        guard i == end else { throw ValueDecodingError(kind: kind, reason: "unexpected characters after the date") }
        // The binary form is an Int32 of days since 2000-01-01 whose extremes mean ±infinity.
        let sincePGEpoch = days - BinaryValueDecoder.epochOffsetDays
        guard sincePGEpoch > Int64(Int32.min) && sincePGEpoch < Int64(Int32.max) else {
            throw ValueDecodingError(kind: kind, reason: "date out of range")
        }
        return days
    }

    /// `HH:MM:SS[.f{1,6}]` -> microseconds since midnight; `24:00:00` only when allowed.
    static func timeOfDay(
        _ text: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int, _ kind: ColumnKind,
        allowMidnightEnd: Bool
    ) throws -> Int64 {
        guard let h = fixedDigits(text, &i, end, 2), expect(text, &i, end, UInt8(ascii: ":")),
            let m = fixedDigits(text, &i, end, 2), expect(text, &i, end, UInt8(ascii: ":")),
            let s = fixedDigits(text, &i, end, 2)
        else {
            throw ValueDecodingError(kind: kind, reason: "time is not HH:MM:SS")
        }
        var fraction: Int64 = 0
        if i < end && text[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < end && isDigit(text[i]) {
                guard digits < 6 else { throw ValueDecodingError(kind: kind, reason: "more than 6 fractional second digits") }
                fraction = fraction * 10 + Int64(text[i] &- UInt8(ascii: "0")); digits += 1; i += 1
            }
            guard digits > 0 else { throw ValueDecodingError(kind: kind, reason: "fractional seconds have no digits") }
            for _ in digits..<6 { fraction *= 10 }
        }
        guard m < 60, s < 60 else { throw ValueDecodingError(kind: kind, reason: "minute or second out of range") }
        guard h < 24 || (h == 24 && allowMidnightEnd && m == 0 && s == 0 && fraction == 0) else {
            throw ValueDecodingError(kind: kind, reason: "hour out of range")
        }
        return ((h * 60 + m) * 60 + s) * 1_000_000 + fraction
    }

    /// `+HH`, `+HH:MM`, `+HH:MM:SS` (or `-`) as EncodeTimezone prints it -> seconds east of UTC.
    static func zone(_ text: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int, _ kind: ColumnKind) throws -> Int64 {
        guard i < end, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") else {
            throw ValueDecodingError(kind: kind, reason: "time zone offset has no sign")
        }
        let negative = text[i] == UInt8(ascii: "-")
        i += 1
        guard let h = fixedDigits(text, &i, end, 2) else { throw ValueDecodingError(kind: kind, reason: "time zone offset is not +HH[:MM[:SS]]") }
        var m: Int64 = 0, s: Int64 = 0
        if expect(text, &i, end, UInt8(ascii: ":")) {
            guard let mm = fixedDigits(text, &i, end, 2) else { throw ValueDecodingError(kind: kind, reason: "time zone offset is not +HH[:MM[:SS]]") }
            m = mm
            if expect(text, &i, end, UInt8(ascii: ":")) {
                guard let ss = fixedDigits(text, &i, end, 2) else { throw ValueDecodingError(kind: kind, reason: "time zone offset is not +HH[:MM[:SS]]") }
                s = ss
            }
        }
        // PostgreSQL keeps offsets within ±15:59:59 (MAX_TZDISP_HOUR).
        guard h <= 15, m < 60, s < 60 else { throw ValueDecodingError(kind: kind, reason: "time zone offset out of range") }
        let seconds = (h * 60 + m) * 60 + s
        return negative ? -seconds : seconds
    }

    /// `timestamp_out` / `timestamptz_out` -> microseconds since 1970-01-01 (UTC for timestamptz);
    /// ±infinity -> Int64.max / -Int64.max as in binary.
    static func timestamp(_ text: UnsafeRawBufferPointer, _ kind: ColumnKind, withZone: Bool) throws -> Int64 {
        if equals(text, "infinity") { return .max }
        if equals(text, "-infinity") { return BinaryValueDecoder.timestampMinusInfinity }
        let bc = hasBCSuffix(text)
        let end = bc ? text.count - 3 : text.count
        var i = 0
        let days = try calendarDate(text, &i, end, bc: bc, kind)
        guard expect(text, &i, end, UInt8(ascii: " ")) else { throw ValueDecodingError(kind: kind, reason: "timestamp has no time after its date") }
        let micros = try timeOfDay(text, &i, end, kind, allowMidnightEnd: false)
        var zoneSeconds: Int64 = 0
        if withZone { zoneSeconds = try zone(text, &i, end, kind) }
        guard i == end else { throw ValueDecodingError(kind: kind, reason: "unexpected characters after the timestamp") }
        let (dayMicros, o1) = days.multipliedReportingOverflow(by: microsPerDay)
        let (local, o2) = dayMicros.addingReportingOverflow(micros)
        let (utc, o3) = local.subtractingReportingOverflow(zoneSeconds * 1_000_000)
        guard !(o1 || o2 || o3), utc != .max, utc > BinaryValueDecoder.timestampMinusInfinity else {
            // Only what PostgreSQL can print (up to 294276-12-31) is a value to keep as text.
            guard days < Self.daysToYear294277 else { throw ValueDecodingError(kind: kind, reason: "timestamp beyond PostgreSQL's range") }
            throw TimestampOutOfRange()
        }
        return utc
    }

    /// A well-formed timestamp past INT64 microseconds since 1970.
    struct TimestampOutOfRange: Error {}

    /// Days from 1970-01-01 to 294277-01-01, the first day PostgreSQL cannot hold.
    static let daysToYear294277: Int64 = 106_762_940

    /// Checks `interval_out`'s iso_8601 shape: `P[nY][nM][nD][T[nH][nM][n[.f]S]]`, integers possibly
    /// negative, at least one part (`PT0S` for zero).
    static func validateInterval(_ text: UnsafeRawBufferPointer, _ kind: ColumnKind) throws {
        let bad = ValueDecodingError(kind: kind, reason: "interval text is not an ISO 8601 duration")
        let n = text.count
        guard n >= 3, text[0] == UInt8(ascii: "P") else { throw bad }
        var i = 1
        var parts = 0
        var inTime = false, timeParts = 0
        // The next unit allowed: 0, 1, 2 for Y, M, D (or H, M, S after the T).
        var next = 0
        func unit(_ b: UInt8) -> Int? {
            switch b {
            case UInt8(ascii: "Y"): inTime ? nil : 0
            case UInt8(ascii: "D"): inTime ? nil : 2
            case UInt8(ascii: "H"): inTime ? 0 : nil
            case UInt8(ascii: "S"): inTime ? 2 : nil
            case UInt8(ascii: "M"): 1
            default: nil
            }
        }
        while i < n {
            if text[i] == UInt8(ascii: "T") {
                guard !inTime else { throw bad }
                inTime = true; next = 0; i += 1
                continue
            }
            if text[i] == UInt8(ascii: "-") { i += 1 }
            let start = i
            while i < n && isDigit(text[i]) { i += 1 }
            guard i > start, i < n else { throw bad }
            var fraction = false
            if text[i] == UInt8(ascii: ".") {
                i += 1
                let f = i
                while i < n && isDigit(text[i]) { i += 1 }
                guard i > f, i < n else { throw bad }
                fraction = true
            }
            guard let u = unit(text[i]), u >= next else { throw bad }
            guard !fraction || (inTime && u == 2) else { throw bad }
            next = u + 1; parts += 1; i += 1
            if inTime { timeParts += 1 }
        }
        guard parts > 0, !inTime || timeParts > 0 else { throw bad }
    }
}
