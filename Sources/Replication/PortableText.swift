/// The text forms the portable mapping writes for `uuid` and `time` (see
/// ``ParquetFileOptions/exactLogicalTypes``), as PostgreSQL prints them, written into the caller's
/// buffer: the hot path makes no allocation per value.
enum PortableText {
    /// The longest text: `uuid` (36 bytes; a time takes at most 15).
    static let maxLength = 36

    private static let hex: StaticString = "0123456789abcdef"

    /// A `uuid`'s 16 bytes as 36 lowercase characters, `8-4-4-4-12`; returns the length written.
    static func uuid(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int {
        precondition(bytes.count == 16 && out.count >= 36, "a uuid is 16 bytes and its text 36")
        let digits = hex.utf8Start
        var n = 0
        for i in 0..<16 {
            if i == 4 || i == 6 || i == 8 || i == 10 { out[n] = UInt8(ascii: "-"); n += 1 }
            out[n] = digits[Int(bytes[i] >> 4)]; out[n + 1] = digits[Int(bytes[i] & 0xF)]
            n += 2
        }
        return n
    }

    /// A `time` (microseconds since midnight, `24:00:00` included) as `HH:MM:SS[.ffffff]`, the
    /// fraction without trailing zeros; returns the length written.
    static func timeOfDay(_ micros: Int64, into out: UnsafeMutableRawBufferPointer) -> Int {
        precondition(micros >= 0 && micros <= 86_400_000_000 && out.count >= 15, "a time is within one day and its text 15 bytes at most")
        let seconds = micros / 1_000_000
        var fraction = Int(micros % 1_000_000)
        func two(_ v: Int64, at i: Int) { out[i] = UInt8(ascii: "0") + UInt8(v / 10); out[i + 1] = UInt8(ascii: "0") + UInt8(v % 10) }
        two(seconds / 3600, at: 0); out[2] = UInt8(ascii: ":")
        two(seconds / 60 % 60, at: 3); out[5] = UInt8(ascii: ":")
        two(seconds % 60, at: 6)
        guard fraction != 0 else { return 8 }
        out[8] = UInt8(ascii: ".")
        var width = 6
        while fraction % 10 == 0 { fraction /= 10; width -= 1 }
        for i in stride(from: 8 + width, to: 8, by: -1) {
            out[i] = UInt8(ascii: "0") + UInt8(fraction % 10)
            fraction /= 10
        }
        return 9 + width
    }

    /// Formats with `format` into stack memory and hands the bytes to `body`.
    static func withText<R>(_ format: (UnsafeMutableRawBufferPointer) -> Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(byteCount: maxLength, alignment: 1) { buffer in
            let length = format(buffer)
            return try body(UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
        }
    }
}
