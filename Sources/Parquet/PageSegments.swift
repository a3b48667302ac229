/// The encoded pages of a column chunk, kept in a list of fixed-size segments instead of one
/// doubling buffer: appending never copies what is already there and never over-allocates by
/// more than one segment, which keeps the row group's memory close to its encoded size.
struct PageSegments {
    static let segmentSize = 1 << 20
    private var segments: [ByteBuffer] = []
    /// Total bytes appended.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Appends bytes, continuing the last segment while it has room.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        var rest = bytes
        while rest.count > 0 {
            if segments.isEmpty || segments[segments.count - 1].count == segments[segments.count - 1].capacity {
                segments.append(ByteBuffer(capacity: Self.segmentSize))
            }
            let last = segments.count - 1
            let room = segments[last].capacity - segments[last].count
            let n = min(room, rest.count)
            segments[last].append(UnsafeRawBufferPointer(rebasing: rest[0..<n]))
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
        count += bytes.count
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Calls `body` with each segment's bytes, in order.
    func forEachSegment(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        for segment in segments where !segment.isEmpty { try body(segment.bytes) }
    }

    /// Empties the list, keeping the first segment's memory.
    mutating func removeAll() {
        for k in segments.indices.dropFirst() { segments[k].deallocate() }
        if segments.count > 1 { segments.removeSubrange(1...) }
        if !segments.isEmpty { segments[0].removeAll() }
        count = 0
    }

    /// Frees the memory; the list must not be used afterwards.
    func deallocate() {
        for segment in segments { segment.deallocate() }
    }
}
