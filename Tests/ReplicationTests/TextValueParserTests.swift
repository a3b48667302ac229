import Testing
import TestSupport
@testable import Replication

/// Parses each text as one value of `kind` into a fresh vector.
private func parse(_ kind: ColumnKind, _ texts: String...) throws -> ColumnVector {
    var vector = ColumnVector(kind: kind)
    for text in texts {
        try Array(text.utf8).withUnsafeBytes { b throws in try TextValueParser.append(b, to: &vector) }
    }
    return vector
}

/// Whether parsing `text` as `kind` fails with a ``ValueDecodingError`` that leaves the vector as it
/// was and does not quote the value.
private func rejects(_ kind: ColumnKind, _ text: String) -> Bool {
    var vector = ColumnVector(kind: kind)
    do {
        try Array(text.utf8).withUnsafeBytes { b throws in try TextValueParser.append(b, to: &vector) }
        return false
    } catch let error as ValueDecodingError {
        let untouched = vector.nulls.isEmpty && vector.bytes.isEmpty && vector.offsets == [0] && vector.valueCount == 0
        let quiet = text.count < 3 || !error.description.contains(text)
        return error.kind == kind && untouched && quiet
    } catch {
        return false
    }
}

private func texts(_ v: ColumnVector) -> [String] {
    (0..<(v.offsets.count - 1)).map { String(decoding: v.byteValue($0), as: UTF8.self) }
}

@Suite struct TextValueParserTests {
    // MARK: bool and integers

    @Test func boolParsesTAndF() throws {
        let v = try parse(.bool, "t", "f")
        #expect(v.int64s == [1, 0] && v.nulls == [false, false])
        for bad in ["", "true", "T", "1", "tt", "f "] { #expect(rejects(.bool, bad), "\(bad)") }
    }

    @Test func integersParseTheirWholeRange() throws {
        #expect(try parse(.int16, "-32768", "32767", "0", "-1").int64s == [-32768, 32767, 0, -1])
        #expect(try parse(.int32, "-2147483648", "2147483647").int64s == [-2147483648, 2147483647])
        #expect(try parse(.int64, "-9223372036854775808", "9223372036854775807", "007").int64s == [.min, .max, 7])
    }

    @Test func integerParseFailsOnOverflowAndMalformedText() {
        #expect(rejects(.int16, "32768"))
        #expect(rejects(.int16, "-32769"))
        #expect(rejects(.int32, "2147483648"))
        #expect(rejects(.int32, "-2147483649"))
        #expect(rejects(.int64, "9223372036854775808"))
        #expect(rejects(.int64, "-9223372036854775809"))
        #expect(rejects(.int64, "99999999999999999999999"))
        for kind in [ColumnKind.int16, .int32, .int64] {
            for bad in ["", "-", "1a", " 1", "1 ", "+1", "1.0", "1e3", "--1", "0x10"] { #expect(rejects(kind, bad), "\(kind) \(bad)") }
        }
    }

    // MARK: floats

    @Test func floatsParseSpecialValuesAndSignedZero() throws {
        let d = try parse(.float64, "NaN", "Infinity", "-Infinity", "-0", "0")
        #expect(d.float64s[0].isNaN)
        #expect(Array(d.float64s[1...2]) == [.infinity, -.infinity])
        #expect(d.float64s[3] == 0 && d.float64s[3].sign == .minus)
        #expect(d.float64s[4] == 0 && d.float64s[4].sign == .plus)
        let f = try parse(.float32, "NaN", "Infinity", "-Infinity", "-0")
        #expect(f.float32s[0].isNaN && f.float32s[1] == .infinity && f.float32s[2] == -.infinity)
        #expect(f.float32s[3] == 0 && f.float32s[3].sign == .minus)
    }

    @Test func floatsParseExponentFormsAndExtremes() throws {
        let d = try parse(
            .float64, "1e+100", "1.5e-07", "2.2250738585072014e-308", "5e-324", "1.7976931348623157e+308",
            "0.1", "-1.2345678901234567e-05", "1.2345678901234568e+20", "0.30000000000000004", "9007199254740993")
        #expect(
            d.float64s == [
                1e100, 1.5e-7, 2.2250738585072014e-308, .leastNonzeroMagnitude, 1.7976931348623157e308,
                0.1, -1.2345678901234567e-05, 1.2345678901234568e+20, 0.30000000000000004, 9007199254740992,
            ])
        let f = try parse(.float32, "3.4028235e+38", "1e-45", "1.1754944e-38", "0.1", "16777217", "-1.5")
        #expect(f.float32s == [.greatestFiniteMagnitude, .leastNonzeroMagnitude, 1.1754944e-38, 0.1, 16777216, -1.5])
    }

    @Test func floatsRoundTripEveryShortestText() throws {
        var generator = FuzzSeed.generator(for: "floatsRoundTripEveryShortestText")
        for _ in 0..<20_000 {
            let d = Double(bitPattern: generator.next())
            guard d.isFinite else { continue }
            let v = try parse(.float64, d.description)
            #expect(v.float64s[0].bitPattern == d.bitPattern, "\(d)")
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
            guard f.isFinite else { continue }
            let w = try parse(.float32, f.description)
            #expect(w.float32s[0].bitPattern == f.bitPattern, "\(f)")
        }
        // Fast-path boundaries: the parse must agree with the standard library's correctly rounded one.
        for text in [
            "9007199254740992e22", "9007199254740993e-22", "1e22", "1e23", "1e-22", "1e-23",
            "16777216e10", "16777217e-10", "4.9406564584124654e-324", "2.4703282292062328e-324",
        ] {
            #expect(try parse(.float64, text).float64s[0].bitPattern == Double(text)!.bitPattern, "\(text)")
            #expect(try parse(.float32, text).float32s[0].bitPattern == Float(text)!.bitPattern, "\(text)")
        }
    }

    @Test func floatsMatchTheStandardLibraryOnRandomDecimalText() throws {
        var generator = FuzzSeed.generator(for: "floatsMatchTheStandardLibraryOnRandomDecimalText")
        for _ in 0..<20_000 {
            let digits = (0..<Int.random(in: 1...25, using: &generator)).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) }
            var text = Bool.random(using: &generator) ? "-" : ""
            let point = Int.random(in: 0...digits.count, using: &generator)
            text += String(digits[..<point]).isEmpty ? "0" : String(digits[..<point])
            if point < digits.count { text += "." + String(digits[point...]) }
            if Bool.random(using: &generator) { text += "e" + String(Int.random(in: -340...320, using: &generator)) }
            let d = try parse(.float64, text).float64s[0], f = try parse(.float32, text).float32s[0]
            #expect(d.bitPattern == Double(text)!.bitPattern, "\(text)")
            #expect(f.bitPattern == Float(text)!.bitPattern, "\(text)")
        }
    }

    @Test func floatParseFailsOnMalformedText() {
        for kind in [ColumnKind.float32, .float64] {
            for bad in ["", "-", "1e", "1e+", "inf", "nan", "infinity", "+Infinity", "0x1p3", " 1", "1 ", "1.5.2", "e5", ".", "NaNx", "1,5", "--1"] {
                #expect(rejects(kind, bad), "\(kind) \(bad)")
            }
        }
    }

    // MARK: numeric

    @Test func decimalScalesExactly() throws {
        let v = try parse(.decimal(precision: 12, scale: 2), "123.45", "-0.01", "1", "1.230", "0", "-1234567890.12", "5.0")
        #expect(v.int64s == [12345, -1, 100, 123, 0, -123456789012, 500])
        let wide = try parse(.decimal(precision: 38, scale: 0), "99999999999999999999999999999999999999", "-99999999999999999999999999999999999999")
        #expect(wide.int128s == [99_999_999_999_999_999_999_999_999_999_999_999_999, -99_999_999_999_999_999_999_999_999_999_999_999_999])
        let mid = try parse(.decimal(precision: 30, scale: 5), "1234567890123456789012345.12345")
        #expect(mid.int128s == [123456789012345678901234512345])
    }

    @Test func decimalWritesNaNAsNullListedInNanRowsAndRejectsInfinity() throws {
        let v = try parse(.decimal(precision: 10, scale: 2), "NaN", "1.00", "NaN")
        #expect(v.nulls == [true, false, true])
        #expect(v.nanRows == [0, 2])
        #expect(v.int64s == [100])
        #expect(rejects(.decimal(precision: 10, scale: 2), "Infinity"))
        #expect(rejects(.decimal(precision: 10, scale: 2), "-Infinity"))
    }

    @Test func decimalRefusesToRoundAndRejectsOverflow() {
        #expect(rejects(.decimal(precision: 12, scale: 2), "1.234"))
        #expect(rejects(.decimal(precision: 12, scale: 0), "0.5"))
        #expect(rejects(.decimal(precision: 38, scale: 0), "999999999999999999999999999999999999999999"))
        #expect(rejects(.decimal(precision: 38, scale: 10), "99999999999999999999999999999999999"))
        #expect(rejects(.decimal(precision: 18, scale: 0), "9223372036854775808"))  // beyond the Int64 storage
        for bad in ["", "-", ".5", "1.", "1e5", "+1", "1.2.3", " 1", "nan", "1,5", "--1"] {
            #expect(rejects(.decimal(precision: 12, scale: 2), bad), "\(bad)")
        }
    }

    @Test func numericTextKeepsTheServersText() throws {
        let v = try parse(.numericText, "-0.000012300", "NaN", "Infinity", "-Infinity", "0", "123456789012345678901234567890.5")
        #expect(texts(v) == ["-0.000012300", "NaN", "Infinity", "-Infinity", "0", "123456789012345678901234567890.5"])
        for bad in ["", "-", "1.", ".1", "1e5", "abc", "1 ", "nan"] { #expect(rejects(.numericText, bad), "\(bad)") }
    }

    // MARK: byte-like

    @Test func textLikeKindsKeepTheBytes() throws {
        for kind in [ColumnKind.text, .json, .jsonb, .textCast] {
            let v = try parse(kind, "héllo", "", #"{"a": 1, "b": null}"#, "{1,NULL,3}")
            #expect(texts(v) == ["héllo", "", #"{"a": 1, "b": null}"#, "{1,NULL,3}"])
        }
    }

    @Test func byteaHexBecomesRawBytes() throws {
        let v = try parse(.bytea, "\\x00ff10", "\\x", "\\xABcd")
        #expect(v.bytes == [0x00, 0xFF, 0x10, 0xAB, 0xCD])
        #expect(v.offsets == [0, 3, 3, 5])
        for bad in ["", "\\", "abc", "\\x0", "\\xzz", "\\x00g0", "\\X00", "\\000"] { #expect(rejects(.bytea, bad), "\(bad)") }
    }

    @Test func byteaFailureLeavesEarlierValuesIntact() throws {
        var v = try parse(.bytea, "\\x0102")
        #expect(throws: ValueDecodingError.self) {
            try Array("\\x0304zz".utf8).withUnsafeBytes { b throws in try TextValueParser.append(b, to: &v) }
        }
        #expect(v.bytes == [1, 2] && v.offsets == [0, 2] && v.nulls == [false])
    }

    @Test func uuidBecomesSixteenBytes() throws {
        let v = try parse(
            .uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "00000000-0000-0000-0000-000000000000")
        let bytes: [UInt8] = [0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11]
        #expect(Array(v.byteValue(0)) == bytes && Array(v.byteValue(1)) == bytes)
        #expect(Array(v.byteValue(2)) == [UInt8](repeating: 0, count: 16))
        for bad in [
            "", "a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111", "a0eebc99_9c0b-4ef8-bb6d-6bb9bd380a11",
            "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        ] {
            #expect(rejects(.uuid, bad), "\(bad)")
        }
    }

    // MARK: dates and times

    @Test func dateCountsDaysFrom1970() throws {
        let v = try parse(
            .date, "1970-01-01", "2000-01-01", "1999-12-31", "2024-02-29", "2000-02-29", "0001-01-01",
            "1969-12-31", "10000-01-01", "5874897-12-31")
        #expect(v.int64s == [0, 10957, 10956, 19782, 11016, -719162, -1, 2932897, 2145042905])
    }

    @Test func dateCountsBCYearsAstronomically() throws {
        // 1 BC is year 0, a leap year (5 BC = year -4 too, 1461 days before year 0); 4714-11-24 BC is
        // Julian day 0, PostgreSQL's first date.
        let v = try parse(.date, "0001-12-31 BC", "0001-01-01 BC", "0001-02-29 BC", "0005-02-29 BC", "4714-11-24 BC")
        #expect(v.int64s == [-719163, -719528, -719469, -720930, -2440588])
    }

    @Test func dateInfinityKeepsTheBinarySentinels() throws {
        #expect(try parse(.date, "infinity", "-infinity").int64s == [Int64(Int32.max), -Int64(Int32.max)])
    }

    @Test func dateParseFailsOnImpossibleOrMalformedDates() {
        for bad in [
            "", "2023-02-29", "1900-02-29", "0004-02-29 BC", "2024-04-31", "2024-13-01", "2024-00-10", "2024-01-00",
            "0000-01-01", "2024-1-01", "2024-01-1", "124-01-01", "2024-01-01 AD", "2024-01-01 BC ", "2024-01-01BC",
            "2024/01/01", "2024-01-01 00:00:00", "Infinity", "999999999-01-01", "1234567890-01-01", " BC",
        ] {
            #expect(rejects(.date, bad), "\(bad)")
        }
    }

    @Test func timeCountsMicrosecondsAndAllowsTheEndOfDay() throws {
        let v = try parse(.time, "00:00:00", "23:59:59.999999", "24:00:00", "12:34:56.5", "00:00:00.000001", "01:02:03.04")
        #expect(v.int64s == [0, 86_399_999_999, 86_400_000_000, 45_296_500_000, 1, 3_723_040_000])
        for bad in [
            "", "24:00:00.000001", "24:00:01", "24:01:00", "25:00:00", "12:60:00", "12:00:60", "12:34:56.1234567",
            "12:34", "12:34:56.", "1:02:03", "12:34:56+00", "12-34-56", "allballs",
        ] {
            #expect(rejects(.time, bad), "\(bad)")
        }
    }

    @Test func timestampCountsMicrosecondsFrom1970() throws {
        let v = try parse(
            .timestamp, "1970-01-01 00:00:00", "2024-02-29 12:34:56.789", "0001-01-01 00:00:00",
            "0001-12-31 23:59:59.999999 BC", "294247-01-10 04:00:54.775806", "10000-01-01 00:00:00",
            "1969-12-31 23:59:59.999999")
        #expect(
            v.int64s == [
                0, 1_709_210_096_789_000, -62_135_596_800_000_000, -62_135_596_800_000_001,
                Int64.max - 1, 2_932_897 * 86_400_000_000, -1,
            ])
        #expect(try parse(.timestamp, "infinity", "-infinity").int64s == [.max, -.max])
    }

    @Test func timestampsBeyondWhatUnixMicrosecondsHoldAreKeptAsText() throws {
        // PostgreSQL goes on to 294276-12-31, but from 294247-01-10 04:00:54.775807 on the value no
        // longer fits an Int64 of microseconds since 1970 (the last one would be the infinity sentinel):
        // NULL, with the text for the file's replicatord.out_of_range metadata.
        let v = try parse(.timestamp, "294247-01-10 04:00:54.775806", "294247-01-10 04:00:54.775807", "294276-12-31 23:59:59.999999")
        #expect(v.nulls == [false, true, true] && v.int64s == [Int64.max - 1])
        #expect(v.outOfRange == [OutOfRangeValue(row: 1, text: "294247-01-10 04:00:54.775807"), OutOfRangeValue(row: 2, text: "294276-12-31 23:59:59.999999")])
        #expect(try parse(.timestamptz, "294276-12-31 23:59:59.999999+00").outOfRange.count == 1)
        // Past PostgreSQL's own range the text is malformed, not out of range.
        #expect(rejects(.timestamp, "294277-01-01 00:00:00"))
    }

    @Test func timestamptzConvertsEveryOffsetToUTC() throws {
        let v = try parse(
            .timestamptz, "1970-01-01 00:00:00+00", "1970-01-01 05:30:00+05:30", "1969-12-31 16:00:00-08",
            "1970-01-01 05:30:15+05:30:15", "2000-01-01 00:00:00.000001+00", "0044-03-15 12:00:00+00 BC",
            "1969-12-31 23:59:59-00:00:01", "infinity", "-infinity")
        let idesDays: Int64 = -719_528 - 43 * 365 - 10 + 31 + 28 + 14
        let ides: Int64 = (idesDays * 86_400 + 12 * 3600) * 1_000_000
        #expect(v.int64s == [0, 0, 0, 0, 946_684_800_000_001, ides, 0, .max, -.max])
    }

    @Test func timestampParseFailsOnMalformedText() {
        for bad in [
            "", "2024-01-01", "2024-01-01 24:00:00", "2024-01-01T00:00:00", "2024-01-01 00:00:00+00",
            "2024-02-30 00:00:00", "2024-01-01 00:00", "2024-01-01 00:00:00 BC BC", "Infinity", "999999999-12-31 00:00:00",
        ] {
            #expect(rejects(.timestamp, bad), "\(bad)")
        }
        for bad in [
            "", "2024-01-01 00:00:00", "2024-01-01 00:00:00+5", "2024-01-01 00:00:00+16", "2024-01-01 00:00:00+05:60",
            "2024-01-01 00:00:00 +00", "2024-01-01 00:00:00+00 AD", "2024-01-01 00:00:00 BC+00", "2024-01-01 00:00:00+05:30:",
            "2024-01-01 00:00:00 UTC", "2024-01-01 00:00:00Z",
        ] {
            #expect(rejects(.timestamptz, bad), "\(bad)")
        }
    }

    @Test func intervalKeepsTheIso8601Text() throws {
        let good = [
            "PT0S", "P1Y2M3DT4H5M6.5S", "P-1DT-1S", "PT-0.000001S", "P-178000000Y", "P1M", "PT1H", "PT-2562047788H-54.775808S",
            "P1Y-1M2DT-3H4M-5.5S",
        ]
        #expect(texts(try parse(.interval, good.first!, good[1], good[2], good[3], good[4], good[5], good[6], good[7], good[8])) == good)
        for bad in [
            "", "P", "PT", "1Y", "P1S", "PT1Y", "PT1D", "P1.5Y", "PT1.5H", "P1M1Y", "P1Y1Y", "PT1H1H", "P1YT", "P-Y",
            "P1Y ", "PT1S1M", "P1DT2H3", "PT.5S", "PT1.S", "P1D T1H", "1 year",
        ] {
            #expect(rejects(.interval, bad), "\(bad)")
        }
    }

    @Test func timetzKeepsTheServersText() throws {
        let good = ["10:11:12.5+05:30", "00:00:00-08", "24:00:00+00", "12:00:00+05:30:15", "23:59:59.999999-15:59:59"]
        #expect(texts(try parse(.timetz, good[0], good[1], good[2], good[3], good[4])) == good)
        for bad in ["", "10:11:12", "10:11:12+5", "25:00:00+00", "10:11:12 +00", "10:11:12+00:00:00:00", "10:11:12+16"] {
            #expect(rejects(.timetz, bad), "\(bad)")
        }
    }

    // MARK: the binary decoder's text forms

    @Test func intervalTextMatchesPostgresIso8601() {
        #expect(IntervalText.iso8601(months: 0, days: 0, micros: 0) == "PT0S")
        #expect(IntervalText.iso8601(months: 14, days: 3, micros: 14_706_500_000) == "P1Y2M3DT4H5M6.5S")
        #expect(IntervalText.iso8601(months: 0, days: -1, micros: -1_000_000) == "P-1DT-1S")
        #expect(IntervalText.iso8601(months: 0, days: 0, micros: -1) == "PT-0.000001S")
        #expect(IntervalText.iso8601(months: -13, days: 0, micros: 0) == "P-1Y-1M")
        #expect(IntervalText.iso8601(months: 0, days: 0, micros: .min) == "PT-2562047788H-54.775808S")
    }

    @Test func timeWithZoneMatchesPostgresTimetzOut() {
        #expect(IntervalText.timeWithZone(micros: 36_672_500_000, secondsWestOfUTC: -19_800) == "10:11:12.5+05:30")
        #expect(IntervalText.timeWithZone(micros: 0, secondsWestOfUTC: 28_800) == "00:00:00-08")
        #expect(IntervalText.timeWithZone(micros: 86_400_000_000, secondsWestOfUTC: 0) == "24:00:00+00")
        #expect(IntervalText.timeWithZone(micros: 1, secondsWestOfUTC: -3605) == "00:00:00.000001+01:00:05")
    }
}
