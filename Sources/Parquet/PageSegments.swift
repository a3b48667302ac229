/// The encoded pages of a column chunk, kept in a list of fixed-size segments instead of one
/// doubling buffer: appending never copies what is already there and never over-allocates by
/// more than one segment, which keeps the row group's memory close to its encoded size.
/// Segments are kept for the next chunk, so later row groups reuse memory already faulted in.
struct PageSegments {
    static let segmentSize = 1 << 18
    private var segments: [ByteBuffer] = []
    /// The segment being filled; the ones after it are empty spares.
    private var current = 0
    /// Total bytes appended.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Appends bytes, continuing the current segment while it has room.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        var rest = bytes
        while rest.count > 0 {
            if segments.isEmpty {
                segments.append(ByteBuffer(capacity: Self.segmentSize))
                current = 0
            } else if segments[current].count == segments[current].capacity {
                current += 1
                if current == segments.count { segments.append(ByteBuffer(capacity: Self.segmentSize)) }
            }
            let room = segments[current].capacity - segments[current].count
            let n = min(room, rest.count)
            segments[current].append(UnsafeRawBufferPointer(rebasing: rest[0..<n]))
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
        count += bytes.count
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Moves the bytes of `other` to the end of this list without copying them (its segments are
    /// taken over), leaving `other` empty and without memory.
    mutating func append(moving other: inout PageSegments) {
        let filled = other.segments.filter { !$0.isEmpty }
        for spare in other.segments where spare.isEmpty { spare.deallocate() }
        let moved = other.count
        other.segments = []
        other.current = 0
        other.count = 0
        guard !filled.isEmpty else { return }
        // After the segment being filled (a partly filled one stays where it is: segments are
        // written in order, each with its own count); the empty spares stay after the moved ones.
        let at = segments.isEmpty ? 0 : (segments[current].isEmpty ? current : current + 1)
        segments.insert(contentsOf: filled, at: at)
        current = at + filled.count - 1
        count += moved
    }

    /// Calls `body` with each segment's bytes, in order.
    func forEachSegment(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        for segment in segments where !segment.isEmpty { try body(segment.bytes) }
    }

    /// Empties the list; keeps the segments' memory for reuse.
    mutating func removeAll() {
        for k in segments.indices { segments[k].removeAll() }
        current = 0
        count = 0
    }

    /// Frees the memory; the list must not be used afterwards.
    func deallocate() {
        for segment in segments { segment.deallocate() }
    }
}
