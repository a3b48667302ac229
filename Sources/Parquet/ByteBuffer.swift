/// A growable byte buffer on manually managed memory, for the writer's hot paths.
///
/// It is a plain struct over a raw allocation: the owner (a final class) must call `deallocate()`
/// exactly once, and must not copy it. Capacity grows by doubling, so appends are amortised O(1)
/// and never allocate per value.
struct ByteBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count: Int = 0
    private(set) var capacity: Int

    init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        self.base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    /// Frees the memory; the buffer must not be used afterwards.
    func deallocate() { base.deallocate() }

    var isEmpty: Bool { count == 0 }

    /// The written bytes, valid until the next mutation.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Empties the buffer; keeps its memory unless it is larger than `keepAtMost` bytes.
    mutating func removeAll(keepAtMost: Int = .max) {
        count = 0
        if capacity > keepAtMost {
            base.deallocate()
            capacity = max(keepAtMost, 16)
            base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        }
    }

    /// Makes room for at least `extra` more bytes.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends a fixed-width integer or float in little-endian byte order (the Parquet PLAIN encoding).
    @inline(__always)
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        let size = MemoryLayout<T>.size
        reserve(size)
        (base + count).storeBytes(of: value.littleEndian, as: T.self)
        count += size
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0 else { return }
        reserve(n)
        (base + count).copyMemory(from: bytes.baseAddress!, byteCount: n)
        count += n
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends an unsigned LEB128 varint.
    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        reserve(10)
        var v = value
        while v >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: count, as: UInt8.self)
            count += 1
            v >>= 7
        }
        base.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Overwrites 4 bytes at `offset` with a little-endian `UInt32` (for length prefixes written after the fact).
    mutating func storeLittleEndian(_ value: UInt32, at offset: Int) {
        precondition(offset + 4 <= count, "ByteBuffer.storeLittleEndian writes inside the written bytes")
        (base + offset).storeBytes(of: value.littleEndian, as: UInt32.self)
    }

    /// Grows the written region by `n` bytes left uninitialised, returning where they start; the caller fills them.
    @inline(__always)
    mutating func appendUninitialized(_ n: Int) -> UnsafeMutableRawPointer {
        reserve(n)
        let p = base + count
        count += n
        return p
    }

    /// Shrinks the written region to `newCount` bytes.
    mutating func truncate(to newCount: Int) {
        precondition(newCount <= count, "ByteBuffer.truncate only shrinks")
        count = newCount
    }

    /// A copy of the contents as an array (tests and non-hot paths).
    var array: [UInt8] { Array(bytes) }
}
