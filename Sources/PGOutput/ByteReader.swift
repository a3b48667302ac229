/// A cursor over a byte array that reads PostgreSQL wire fields: big-endian integers, C strings and
/// length-bounded byte ranges.
///
/// The reader never traps on short or malformed input: every read that would run past the end throws
/// ``PGOutputError`` with code `.truncated` and the offset of the read, counted from `startIndex`.
/// Byte ranges it hands out (``readBytes(count:)``) are absolute indices into ``bytes``, so decoded messages
/// can point into the buffer instead of copying values out of it.
public struct ByteReader: Sendable {
    /// The whole backing buffer; ranges returned by the reader index into it.
    public let bytes: [UInt8]
    /// The index of the first byte this reader covers.
    public let startIndex: Int
    /// The index one past the last byte this reader covers.
    public let endIndex: Int
    /// The index of the next byte to read.
    public private(set) var readerIndex: Int

    /// Reads the whole array.
    public init(_ bytes: [UInt8]) {
        self.init(bytes, range: bytes.startIndex..<bytes.endIndex)
    }

    /// Reads `range` of `bytes`; the range must lie within the array (a caller's invariant, not input).
    public init(_ bytes: [UInt8], range: Range<Int>) {
        precondition(
            range.lowerBound >= bytes.startIndex && range.upperBound <= bytes.endIndex,
            "ByteReader range \(range) must lie within the buffer's \(bytes.indices)")
        self.bytes = bytes
        self.startIndex = range.lowerBound
        self.endIndex = range.upperBound
        self.readerIndex = range.lowerBound
    }

    /// The number of bytes left to read.
    public var remaining: Int { endIndex - readerIndex }

    /// True when every byte has been read.
    public var isAtEnd: Bool { readerIndex >= endIndex }

    /// The offset of the next byte to read, counted from `startIndex`.
    public var offset: Int { readerIndex - startIndex }

    /// The bytes not read yet, as an absolute range into ``bytes``.
    public var remainingRange: Range<Int> { readerIndex..<endIndex }

    /// A `.truncated` error at the current offset.
    func truncated(_ detail: String) -> PGOutputError {
        PGOutputError(code: .truncated, offset: offset, detail: detail)
    }

    /// An `.invalidValue` error at `offset` (by default the current one).
    func invalidValue(_ detail: String, at offset: Int? = nil) -> PGOutputError {
        PGOutputError(code: .invalidValue, offset: offset ?? self.offset, detail: detail)
    }

    /// Reads one byte.
    public mutating func readUInt8() throws(PGOutputError) -> UInt8 {
        guard readerIndex < endIndex else { throw truncatedError(needed: 1) }
        let value = bytes[readerIndex]
        readerIndex += 1
        return value
    }

    /// Reads a big-endian integer of `type`'s width.
    public mutating func readInteger<T: FixedWidthInteger>(as type: T.Type = T.self) throws(PGOutputError) -> T {
        let size = MemoryLayout<T>.size
        guard endIndex - readerIndex >= size else { throw truncatedError(needed: size) }
        let at = readerIndex
        let raw = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: T.self) }
        readerIndex += size
        return T(bigEndian: raw)
    }

    /// Reads an `Int64` WAL position.
    public mutating func readLSN() throws(PGOutputError) -> LSN {
        LSN(try readInteger(as: UInt64.self))
    }

    /// Reads an `Int64` `TimestampTz` (microseconds since 2000-01-01).
    public mutating func readTimestamp() throws(PGOutputError) -> PostgresTimestamp {
        PostgresTimestamp(microsecondsSince2000: try readInteger(as: Int64.self))
    }

    /// Reads a NUL-terminated string and its terminator; invalid UTF-8 is repaired with U+FFFD.
    public mutating func readCString() throws(PGOutputError) -> String {
        let start = readerIndex
        let end = endIndex
        let terminator: Int? = bytes.withUnsafeBytes { raw in
            var index = start
            while index < end {
                if raw[index] == 0 { return index }
                index += 1
            }
            return nil
        }
        guard let terminator else { throw truncated("string has no NUL terminator") }
        let text = bytes.withUnsafeBytes { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<terminator]), as: UTF8.self)
        }
        readerIndex = terminator + 1
        return text
    }

    /// Reads `count` bytes and returns their absolute range in ``bytes``; a negative count is `.invalidValue`.
    public mutating func readBytes(count: Int) throws(PGOutputError) -> Range<Int> {
        guard count >= 0 else { throw negativeLengthError(count) }
        guard endIndex - readerIndex >= count else { throw truncatedError(needed: count) }
        let range = readerIndex..<(readerIndex + count)
        readerIndex += count
        return range
    }

    /// Reads a big-endian `Int32` length followed by that many bytes, as an absolute range in ``bytes``.
    public mutating func readLengthPrefixedBytes() throws(PGOutputError) -> Range<Int> {
        let lengthOffset = offset
        let length = try readInteger(as: Int32.self)
        guard length >= 0 else { throw invalidValue("negative length \(length)", at: lengthOffset) }
        return try readBytes(count: Int(length))
    }

    /// Splits off a reader over the next `count` bytes (a length-bounded frame) and moves past them.
    public mutating func readSlice(count: Int) throws(PGOutputError) -> ByteReader {
        let range = try readBytes(count: count)
        return ByteReader(bytes, range: range)
    }

    /// Reads everything left and returns its absolute range in ``bytes``.
    public mutating func readRemaining() -> Range<Int> {
        let range = readerIndex..<endIndex
        readerIndex = endIndex
        return range
    }

    /// Throws `.trailingBytes` unless every byte has been read: the "insist the payload was consumed whole" step.
    public func expectAtEnd() throws(PGOutputError) {
        guard isAtEnd else {
            throw PGOutputError(code: .trailingBytes, offset: offset, detail: "\(remaining) bytes left after the message")
        }
    }

    func truncatedError(needed: Int) -> PGOutputError {
        truncated("needed \(needed) bytes, \(remaining) left")
    }

    func negativeLengthError(_ count: Int) -> PGOutputError {
        invalidValue("negative length \(count)")
    }
}
