/// Decodes the rows of `COPY ... TO STDOUT (FORMAT binary)` into a ``ColumnBatch``.
///
/// Format: https://www.postgresql.org/docs/15/sql-copy.html#id-1.9.3.55.9.4 (signature, flags,
/// header extension, then per row an int16 field count and per field an int32 length, -1 for
/// NULL, and the value in the type's binary send format; a field count of -1 ends the data).
public struct CopyBinaryDecoder {
    static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]

    private var sawHeader = false
    /// Whether the trailer (field count -1) has been read.
    public private(set) var finished = false
    /// The number of columns every row must have.
    public let columnCount: Int

    /// Whether every row ends with one more field, a `tid` that is NULL for ordinary rows and the
    /// row's `ctid` for a row whose large values were left out (``SnapshotReader``'s large-value
    /// rule): such rows are not decoded but reported to `deferred`.
    public let trailingRowID: Bool

    public init(columnCount: Int, trailingRowID: Bool = false) {
        self.columnCount = columnCount
        self.trailingRowID = trailingRowID
    }

    /// Decodes every row in one CopyData message into `batch`; returns the number of rows decoded.
    /// A row whose trailing row ID is set is skipped and its `ctid` (block, offset) handed to
    /// `deferred`.
    @discardableResult
    public mutating func decode(
        _ message: UnsafeRawBufferPointer, into batch: inout ColumnBatch,
        deferred: (UInt32, UInt16) throws -> Void
    ) throws -> Int {
        try decodeRows(message, into: &batch, deferredRow: deferred)
    }

    /// Decodes every row in one CopyData message into `batch`; returns the number of rows.
    @discardableResult
    public mutating func decode(_ message: UnsafeRawBufferPointer, into batch: inout ColumnBatch) throws -> Int {
        try decode(message, into: &batch) { _, _ in
            throw CopyDecodingError(reason: "a row ID where none was expected (no deferred-row handler)", offset: 0)
        }
    }

    private mutating func decodeRows(
        _ message: UnsafeRawBufferPointer, into batch: inout ColumnBatch,
        deferredRow: (UInt32, UInt16) throws -> Void
    ) throws -> Int {
        var offset = 0
        if !sawHeader {
            let headerLength = Self.signature.count + 8
            guard message.count >= headerLength, message.prefix(Self.signature.count).elementsEqual(Self.signature) else {
                throw CopyDecodingError(reason: "binary COPY signature missing", offset: 0)
            }
            let extensionLength = Int(BinaryValueDecoder.readU32(message, Self.signature.count + 4))
            offset = headerLength + extensionLength
            guard offset <= message.count else { throw CopyDecodingError(reason: "header extension runs past the message", offset: offset) }
            sawHeader = true
        }
        var rows = 0
        while offset < message.count {
            guard !finished else { throw CopyDecodingError(reason: "data after the trailer", offset: offset) }
            guard offset + 2 <= message.count else { throw CopyDecodingError(reason: "truncated field count", offset: offset) }
            let fields = Int(Int16(bitPattern: BinaryValueDecoder.readU16(message, offset)))
            offset += 2
            if fields == -1 { finished = true; continue }
            guard fields == columnCount + (trailingRowID ? 1 : 0) else {
                throw CopyDecodingError(reason: "row has \(fields) fields, expected \(columnCount + (trailingRowID ? 1 : 0))", offset: offset - 2)
            }
            if trailingRowID, let end = try deferredRowEnd(message, from: offset, deferredRow) {
                offset = end
                continue
            }
            for column in 0..<columnCount {
                guard offset + 4 <= message.count else { throw CopyDecodingError(reason: "truncated field length", offset: offset) }
                let length = Int(Int32(bitPattern: BinaryValueDecoder.readU32(message, offset)))
                offset += 4
                if length == -1 {
                    batch.columns[column].appendNull()
                    continue
                }
                guard length >= 0, offset + length <= message.count else {
                    throw CopyDecodingError(reason: "field length \(length) runs past the message", offset: offset - 4)
                }
                do {
                    try BinaryValueDecoder.append(
                        UnsafeRawBufferPointer(rebasing: message[offset..<offset + length]),
                        to: &batch.columns[column])
                } catch {
                    throw CopyDecodingError(reason: "column \(column + 1): \(error)", offset: offset)
                }
                offset += length
            }
            if trailingRowID { offset += 4 }  // the NULL row ID (checked by deferredRowEnd)
            rows += 1
        }
        return rows
    }

    /// Walks the fields of the row starting at `start` to its trailing row ID: nil when it is NULL
    /// (the row is decoded as usual), else reports the `ctid` and returns the row's end.
    private func deferredRowEnd(
        _ message: UnsafeRawBufferPointer, from start: Int,
        _ deferredRow: (UInt32, UInt16) throws -> Void
    ) throws -> Int? {
        var offset = start
        for _ in 0..<columnCount {
            guard offset + 4 <= message.count else { throw CopyDecodingError(reason: "truncated field length", offset: offset) }
            let length = Int(Int32(bitPattern: BinaryValueDecoder.readU32(message, offset)))
            offset += 4 + max(length, 0)
            guard length >= -1, offset <= message.count else {
                throw CopyDecodingError(reason: "field length \(length) runs past the message", offset: offset)
            }
        }
        guard offset + 4 <= message.count else { throw CopyDecodingError(reason: "truncated row ID length", offset: offset) }
        let length = Int(Int32(bitPattern: BinaryValueDecoder.readU32(message, offset)))
        if length == -1 { return nil }
        guard length == 6, offset + 10 <= message.count else {
            throw CopyDecodingError(reason: "row ID of \(length) bytes, expected a 6-byte tid", offset: offset)
        }
        try deferredRow(BinaryValueDecoder.readU32(message, offset + 4), BinaryValueDecoder.readU16(message, offset + 8))
        return offset + 10
    }
}

/// Binary COPY data that does not follow the format.
public struct CopyDecodingError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    /// Byte offset in the CopyData message.
    public var offset: Int
    public var description: String { "binary COPY: \(reason) at byte \(offset)" }
}
