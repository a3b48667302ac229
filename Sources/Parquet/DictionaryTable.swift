/// The dictionary of one column chunk: an open-addressing hash table over the PLAIN-encoded
/// dictionary page body, mapping each distinct value to its index.
///
/// Spec: `Encodings.md`, "Dictionary Encoding (PLAIN_DICTIONARY = 2 and RLE_DICTIONARY = 8)".
/// Values are compared by their bytes, so -0.0 and 0.0 (and NaNs with different payloads) are
/// distinct entries, which keeps the round trip bit-exact. No allocation per value: the table
/// and the page body grow by doubling.
struct DictionaryTable {
    /// Bytes per value for fixed-width types; 0 for BYTE_ARRAY (length-prefixed entries).
    let width: Int
    /// Slots: 0 when empty, else `hash32 << 32 | (index + 1)` (for 4-byte values `value << 32 | (index + 1)`).
    private var slots: UnsafeMutablePointer<UInt64>
    private var capacityBits: Int
    private(set) var count = 0
    /// The dictionary page body: every entry, PLAIN-encoded, in index order.
    private(set) var plain = ByteBuffer(capacity: 1 << 12)
    /// For BYTE_ARRAY: the offset in `plain` of each entry's length prefix, as `UInt32`.
    private var offsets = ByteBuffer(capacity: 1 << 10)

    /// Past this many bytes of page body the table stops growing (the column is about to fall
    /// back to PLAIN); it still grows before it is three-quarters full.
    let growthLimitBytes: Int

    init(width: Int, growthLimitBytes: Int = .max) {
        self.width = width
        self.growthLimitBytes = growthLimitBytes
        capacityBits = 10
        slots = .allocate(capacity: 1 << capacityBits)
        slots.initialize(repeating: 0, count: 1 << capacityBits)
    }

    /// Frees the memory; the table must not be used afterwards.
    func deallocate() {
        slots.deallocate()
        plain.deallocate()
        offsets.deallocate()
    }

    /// Forgets every entry, keeping up to `keepAtMost` bytes of page body memory.
    mutating func reset(keepAtMost: Int) {
        slots.update(repeating: 0, count: 1 << capacityBits)
        count = 0
        plain.removeAll(keepAtMost: keepAtMost)
        offsets.removeAll(keepAtMost: keepAtMost / 4)
    }

    /// Bytes of memory held by the table (for the row group budget).
    var memoryBytes: Int { plain.count + offsets.count + (8 << capacityBits) }

    @inline(__always)
    private static func mix(_ v: UInt64) -> UInt32 {
        var h = v &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return UInt32(truncatingIfNeeded: h >> 32)
    }

    @inline(__always)
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(bytes.count)
        var p = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!
        var n = bytes.count
        while n >= 8 {
            h = (h ^ p.loadUnaligned(as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            p += 8
            n -= 8
        }
        if n > 0 {
            var tail: UInt64 = 0
            for k in 0..<n { tail |= UInt64(p.load(fromByteOffset: k, as: UInt8.self)) << UInt64(8 * k) }
            h = (h ^ tail) &* 0xFF51_AFD7_ED55_8CCD
        }
        return mix(h)
    }

    /// The index of a 4- or 8-byte value (its little-endian bit pattern in `value`), inserting it
    /// if new; `isNew` says whether it was inserted.
    @inline(__always)
    mutating func index(fixed value: UInt64) -> (index: UInt32, isNew: Bool) {
        if width == 4 { return index(fixed32: UInt32(truncatingIfNeeded: value)) }
        let h = Self.mix(value)
        let mask = (1 << capacityBits) - 1
        var i = Int(h >> UInt32(32 - capacityBits))
        while true {
            let s = slots[i]
            if s == 0 { break }
            if UInt32(truncatingIfNeeded: s >> 32) == h {
                let idx = Int(UInt32(truncatingIfNeeded: s)) - 1
                let stored: UInt64 =
                    width == 8
                    ? plain.base.load(fromByteOffset: idx * 8, as: UInt64.self)
                    : UInt64(plain.base.load(fromByteOffset: idx * 4, as: UInt32.self))
                if stored == value { return (UInt32(idx), false) }
            }
            i = (i + 1) & mask
        }
        if width == 8 { plain.appendLittleEndian(value) } else { plain.appendLittleEndian(UInt32(truncatingIfNeeded: value)) }
        return (insert(hash: h, at: i), true)
    }

    /// 4-byte values live in the slot itself (`value << 32 | (index + 1)`), so a probe touches one cache line.
    @inline(__always)
    private mutating func index(fixed32 value: UInt32) -> (index: UInt32, isNew: Bool) {
        let h = Self.mix(UInt64(value))
        let mask = (1 << capacityBits) - 1
        var i = Int(h >> UInt32(32 - capacityBits))
        while true {
            let s = slots[i]
            if s == 0 { break }
            if UInt32(truncatingIfNeeded: s >> 32) == value { return (UInt32(truncatingIfNeeded: s) - 1, false) }
            i = (i + 1) & mask
        }
        plain.appendLittleEndian(value)
        return (insert(hash: value, at: i), true)
    }

    /// The index of a byte string (BYTE_ARRAY, or FIXED_LEN_BYTE_ARRAY of `width` bytes), inserting it if new.
    @inline(__always)
    mutating func index(bytes value: UnsafeRawBufferPointer) -> (index: UInt32, isNew: Bool) {
        let h = Self.hash(value)
        let mask = (1 << capacityBits) - 1
        var i = Int(h >> UInt32(32 - capacityBits))
        while true {
            let s = slots[i]
            if s == 0 { break }
            if UInt32(truncatingIfNeeded: s >> 32) == h {
                let idx = Int(UInt32(truncatingIfNeeded: s)) - 1
                if entryEquals(idx, value) { return (UInt32(idx), false) }
            }
            i = (i + 1) & mask
        }
        if width == 0 {
            offsets.appendLittleEndian(UInt32(plain.count))
            plain.appendLittleEndian(UInt32(value.count))
        }
        plain.append(value)
        return (insert(hash: h, at: i), true)
    }

    @inline(__always)
    private func entryEquals(_ idx: Int, _ value: UnsafeRawBufferPointer) -> Bool {
        let start: UnsafeRawPointer
        if width == 0 {
            let offset = Int(offsets.base.load(fromByteOffset: idx * 4, as: UInt32.self))
            let length = Int(plain.base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard length == value.count else { return false }
            start = UnsafeRawPointer(plain.base + offset + 4)
        } else {
            start = UnsafeRawPointer(plain.base + idx * width)
        }
        return value.count == 0 || memcmp(start, value.baseAddress!, value.count) == 0
    }

    @inline(__always)
    private mutating func insert(hash h: UInt32, at slot: Int) -> UInt32 {  // h: the slot's high word
        let idx = count
        slots[slot] = UInt64(h) << 32 | UInt64(idx + 1)
        count += 1
        if count * 2 > (1 << capacityBits) && (plain.count <= growthLimitBytes || count * 4 > 3 << capacityBits) { grow() }
        return UInt32(idx)
    }

    @inline(never)
    private mutating func grow() {
        let oldCapacity = 1 << capacityBits
        let old = slots
        capacityBits += 1
        let capacity = 1 << capacityBits
        let mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        for k in 0..<oldCapacity where old[k] != 0 {
            let high = UInt32(truncatingIfNeeded: old[k] >> 32)
            let h = width == 4 ? Self.mix(UInt64(high)) : high
            var i = Int(h >> UInt32(32 - capacityBits))
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = old[k]
        }
        old.deallocate()
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
