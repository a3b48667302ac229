/// The RLE / bit-packing hybrid encoding, for definition and repetition levels and dictionary indices.
///
/// Spec: `Encodings.md`, "Run Length Encoding / Bit-Packing Hybrid (RLE = 3)". Runs of 8 or more
/// equal values become RLE runs (`varint(count << 1)` then the value in `ceil(bitWidth / 8)` bytes
/// little-endian); everything else is bit-packed in groups of 8 values (`varint(groups << 1 | 1)`
/// then the values packed LSB first). Only the last group may be padded with zeros.
enum RLEHybridEncoder {
    /// The number of bits needed to store `maxValue` (0 for 0).
    static func bitWidth(_ maxValue: UInt64) -> Int {
        maxValue == 0 ? 0 : 64 - maxValue.leadingZeroBitCount
    }

    /// Appends the encoding of `values` (each < 2^bitWidth) to `out`, without a length prefix.
    static func encode<T: FixedWidthInteger & UnsignedInteger>(
        _ values: UnsafeBufferPointer<T>, bitWidth: Int, into out: inout ByteBuffer
    ) {
        precondition(bitWidth >= 0 && bitWidth <= 32, "RLE hybrid bit width is within 0...32")
        let n = values.count
        guard n > 0 else { return }
        let valueBytes = (bitWidth + 7) / 8
        var i = 0
        while i < n {
            let run = runLength(values, from: i, limit: .max)
            if run >= 8 {
                out.appendVarint(UInt64(run) << 1)
                var v = UInt64(values[i])
                for _ in 0..<valueBytes {
                    out.append(UInt8(truncatingIfNeeded: v))
                    v >>= 8
                }
                i += run
                continue
            }
            // Bit-packed groups of 8 until a run of 8 equal values starts at a group boundary.
            let start = i
            var groups = 0
            while i < n {
                i += 8
                groups += 1
                if i >= n { break }
                if runLength(values, from: i, limit: 8) >= 8 { break }
            }
            let end = min(i, n)
            i = end
            out.appendVarint(UInt64(groups) << 1 | 1)
            bitPack(values, from: start, to: end, groups: groups, bitWidth: bitWidth, into: &out)
        }
    }

    /// Appends the encoding of `count` copies of `value` (a single RLE run).
    static func encodeRepeated(_ value: UInt32, count: Int, bitWidth: Int, into out: inout ByteBuffer) {
        guard count > 0 else { return }
        out.appendVarint(UInt64(count) << 1)
        var v = value
        for _ in 0..<((bitWidth + 7) / 8) {
            out.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    @inline(__always)
    private static func runLength<T: FixedWidthInteger>(
        _ values: UnsafeBufferPointer<T>, from start: Int, limit: Int
    ) -> Int {
        let v = values[start]
        var j = start + 1
        let end = values.count
        while j < end && values[j] == v && j - start < limit { j += 1 }
        return j - start
    }

    private static func bitPack<T: FixedWidthInteger & UnsignedInteger>(
        _ values: UnsafeBufferPointer<T>, from start: Int, to end: Int, groups: Int, bitWidth: Int,
        into out: inout ByteBuffer
    ) {
        let byteCount = groups * bitWidth  // 8 values * bitWidth bits = bitWidth bytes per group
        let dst = out.appendUninitialized(byteCount)
        var acc: UInt64 = 0
        var bits = 0
        var o = 0
        for k in 0..<(groups * 8) {
            let idx = start + k
            let v: UInt64 = idx < end ? UInt64(values[idx]) : 0
            acc |= v << UInt64(bits)
            bits += bitWidth
            while bits >= 8 {
                dst.storeBytes(of: UInt8(truncatingIfNeeded: acc), toByteOffset: o, as: UInt8.self)
                o += 1
                acc >>= 8
                bits -= 8
            }
        }
        precondition(o == byteCount && bits == 0, "bit-packed groups fill whole bytes")
    }
}
