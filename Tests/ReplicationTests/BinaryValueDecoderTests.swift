import Testing
@testable import Replication

/// numeric_send's wire form, built by hand: digits in base 10000.
private func numericBytes(weight: Int16, sign: UInt16, dscale: Int16, _ digits: [Int16]) -> [UInt8] {
    var out: [UInt8] = []
    func be16(_ v: UInt16) { out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xFF)) }
    be16(UInt16(digits.count)); be16(UInt16(bitPattern: weight)); be16(sign); be16(UInt16(bitPattern: dscale))
    digits.forEach { be16(UInt16(bitPattern: $0)) }
    return out
}

private func decodeNumeric(_ bytes: [UInt8]) throws -> NumericValue {
    try bytes.withUnsafeBytes { buffer throws in try NumericValue(buffer) }
}

@Suite struct BinaryValueDecoderTests {
    @Test func numericTextKeepsEveryDigitAndTheDisplayScale() throws {
        // 1234567.0089 = [123, 4567, 0089] weight 1
        let v = try decodeNumeric(numericBytes(weight: 1, sign: 0, dscale: 4, [123, 4567, 89]))
        #expect(v.text == "1234567.0089")
        #expect(v.unscaled(scale: 4) == 12_345_670_089)
        #expect(v.unscaled(scale: 2) == nil)  // digits beyond the scale are never dropped silently
        let small = try decodeNumeric(numericBytes(weight: -2, sign: 0x4000, dscale: 9, [1230]))
        #expect(small.text == "-0.000012300")
        #expect(small.unscaled(scale: 9) == -12300)
        #expect(try decodeNumeric(numericBytes(weight: 0, sign: 0, dscale: 0, [])).text == "0")
        #expect(try decodeNumeric(numericBytes(weight: 2, sign: 0, dscale: 0, [1])).text == "100000000")
    }

    @Test func numericSpecialValuesAreNamed() throws {
        #expect(try decodeNumeric(numericBytes(weight: 0, sign: 0xC000, dscale: 0, [])).text == "NaN")
        #expect(try decodeNumeric(numericBytes(weight: 0, sign: 0xD000, dscale: 0, [])).text == "Infinity")
        #expect(try decodeNumeric(numericBytes(weight: 0, sign: 0xF000, dscale: 0, [])).text == "-Infinity")
    }

    @Test func numericDecodeFailsWhenDigitsAreTruncatedOrOutOfRange() {
        var bytes = numericBytes(weight: 0, sign: 0, dscale: 0, [1, 2])
        bytes.removeLast()
        #expect(throws: ValueDecodingError.self) { try decodeNumeric(bytes) }
        #expect(throws: ValueDecodingError.self) { try decodeNumeric(numericBytes(weight: 0, sign: 0, dscale: 0, [10000])) }
        #expect(throws: ValueDecodingError.self) { try decodeNumeric(numericBytes(weight: 0, sign: 0x1234, dscale: 0, [1])) }
        #expect(throws: ValueDecodingError.self) { try decodeNumeric([0, 0]) }
    }

    @Test func decimalColumnWritesNaNAsNullAndRejectsOverflow() throws {
        var vector = ColumnVector(kind: .decimal(precision: 4, scale: 2))
        try numericBytes(weight: 0, sign: 0xC000, dscale: 0, []).withUnsafeBytes { b throws in
            try BinaryValueDecoder.append(b, to: &vector)
        }
        #expect(vector.nulls == [true])
        #expect(vector.nanRows == [0])
        #expect(throws: ValueDecodingError.self) {
            try numericBytes(weight: 0, sign: 0xD000, dscale: 0, []).withUnsafeBytes { b throws in
                try BinaryValueDecoder.append(b, to: &vector)
            }
        }
        let huge = numericBytes(weight: 9, sign: 0, dscale: 0, Array(repeating: 9999, count: 10))
        #expect(throws: ValueDecodingError.self) {
            var wide = ColumnVector(kind: .decimal(precision: 38, scale: 2))
            try huge.withUnsafeBytes { b throws in try BinaryValueDecoder.append(b, to: &wide) }
        }
    }

    @Test func fixedWidthDecodeFailsOnWrongLength() {
        var vector = ColumnVector(kind: .int32)
        #expect(throws: ValueDecodingError.self) {
            try [0, 0, 1].withUnsafeBytes { b throws in try BinaryValueDecoder.append(b, to: &vector) }
        }
        #expect(vector.count == 0)
    }

    @Test func intervalAndTimetzTextMatchPostgres() {
        #expect(IntervalText.iso8601(months: 14, days: 3, micros: 14_706_500_000) == "P1Y2M3DT4H5M6.5S")
        #expect(IntervalText.iso8601(months: 0, days: 0, micros: 0) == "PT0S")
        #expect(IntervalText.iso8601(months: 0, days: -1, micros: -1_000_000) == "P-1DT-1S")
        #expect(IntervalText.timeWithZone(micros: 36_672_500_000, secondsWestOfUTC: -19_800) == "10:11:12.5+05:30")
        #expect(IntervalText.timeWithZone(micros: 0, secondsWestOfUTC: 28_800) == "00:00:00-08")
    }

    @Test func numericTypmodMapsToDecimalOrExactText() {
        func kind(_ p: Int32, _ s: Int32) -> ColumnKind { ColumnKind(typeOID: PGTypeOID.numeric, typmod: ((p << 16) | (s & 0x7FF)) + 4) }
        #expect(kind(12, 2) == .decimal(precision: 12, scale: 2))
        #expect(kind(38, 0) == .decimal(precision: 38, scale: 0))
        #expect(kind(39, 2) == .numericText)
        #expect(kind(3, -2) == .decimal(precision: 5, scale: 0))
        #expect(ColumnKind(typeOID: PGTypeOID.numeric, typmod: -1) == .numericText)
    }
}
