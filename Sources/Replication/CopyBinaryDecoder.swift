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

    public init(columnCount: Int) { self.columnCount = columnCount }

    /// Decodes every row in one CopyData message into `batch`; returns the number of rows.
    @discardableResult
    public mutating func decode(_ message: UnsafeRawBufferPointer, into batch: inout ColumnBatch) throws -> Int {
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
            guard fields == columnCount else {
                throw CopyDecodingError(reason: "row has \(fields) fields, expected \(columnCount)", offset: offset - 2)
            }
            for column in 0..<fields {
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
                    try BinaryValueDecoder.append(UnsafeRawBufferPointer(rebasing: message[offset..<offset + length]),
                                                  to: &batch.columns[column])
                } catch {
                    throw CopyDecodingError(reason: "column \(column + 1): \(error)", offset: offset)
                }
                offset += length
            }
            rows += 1
        }
        return rows
    }
}

/// Binary COPY data that does not follow the format.
public struct CopyDecodingError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    /// Byte offset in the CopyData message.
    public var offset: Int
    public var description: String { "binary COPY: \(reason) at byte \(offset)" }
}
