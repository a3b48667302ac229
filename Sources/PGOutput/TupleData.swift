/// One column of a ``TupleData``: its kind and, for text and binary values, where its bytes lie in the
/// message's buffer.
///
/// The enum is small and holds no references, so decoding a row allocates one array of these and nothing per
/// value. See [Logical Replication Message Formats, TupleData](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
public enum TupleValue: Hashable, Sendable {
    /// `n`: the value is SQL NULL.
    case null
    /// `u`: an unchanged TOASTed value; the server did not send it (the old value still holds).
    case unchangedToast
    /// `t`: the value in text format; the range is absolute into ``TupleData/bytes``.
    case text(Range<Int>)
    /// `b`: the value in binary format; the range is absolute into ``TupleData/bytes``.
    case binary(Range<Int>)

    /// The kind byte that introduces a column in TupleData.
    public enum Kind: UInt8, Hashable, Sendable {
        case null = 110  // ascii: n
        case unchangedToast = 117  // ascii: u
        case text = 116  // ascii: t
        case binary = 98  // ascii: b
    }

    /// The kind byte of this value.
    @inlinable
    public var kind: Kind {
        switch self {
        case .null: .null
        case .unchangedToast: .unchangedToast
        case .text: .text
        case .binary: .binary
        }
    }

    /// The absolute range of the value's bytes in the buffer, or nil for null and unchanged TOAST.
    @inlinable
    public var range: Range<Int>? {
        switch self {
        case .null, .unchangedToast: nil
        case .text(let range), .binary(let range): range
        }
    }
}

/// The column values of one row in an Insert, Update or Delete message (`TupleData`).
///
/// Values are not copied out of the message: ``bytes`` is the buffer the message was decoded from (shared,
/// not copied) and each ``TupleValue`` holds a range into it. Get column `i` with `tuple[i]`, its bytes with
/// ``slice(_:)`` or ``withUnsafeBytes(_:_:)``.
public struct TupleData: Sendable, RandomAccessCollection {
    /// The buffer the message was decoded from; value ranges index into it.
    public let bytes: [UInt8]
    /// One value per column, in the relation's column order.
    public let values: [TupleValue]

    /// Wraps decoded values and the buffer their ranges index into.
    public init(bytes: [UInt8], values: [TupleValue]) {
        self.bytes = bytes
        self.values = values
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { values.count }
    @inlinable public subscript(column: Int) -> TupleValue { values[column] }

    /// The bytes of column `column` (text or binary) without copying, or nil for null and unchanged TOAST.
    @inlinable
    public func slice(_ column: Int) -> ArraySlice<UInt8>? {
        guard let range = values[column].range else { return nil }
        return bytes[range]
    }

    /// Calls `body` with the bytes of column `column` (empty for null and unchanged TOAST; check the kind first).
    @inlinable
    public func withUnsafeBytes<R>(_ column: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let range = values[column].range ?? 0..<0
        return try bytes.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[range]))
        }
    }

    /// Decodes `Int16` column count, then per column a kind byte and, for `t` and `b`, an `Int32` length and
    /// that many bytes.
    public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> TupleData {
        let countOffset = reader.offset
        let count = Int(try reader.readInteger(as: Int16.self))
        guard count >= 0 else { throw reader.invalidValue("negative column count \(count)", at: countOffset) }
        var values: [TupleValue] = []
        // Every column takes at least one byte, so a bogus count cannot make us reserve more than the input.
        values.reserveCapacity(Swift.min(count, reader.remaining))
        for _ in 0..<count {
            let kindOffset = reader.offset
            let byte = try reader.readUInt8()
            switch TupleValue.Kind(rawValue: byte) {
            case .null: values.append(.null)
            case .unchangedToast: values.append(.unchangedToast)
            case .text: values.append(.text(try reader.readLengthPrefixedBytes()))
            case .binary: values.append(.binary(try reader.readLengthPrefixedBytes()))
            case nil:
                throw reader.invalidValue("unknown tuple value kind byte \(byte)", at: kindOffset)
            }
        }
        return TupleData(bytes: reader.bytes, values: values)
    }
}

extension TupleData: Equatable {
    /// Two tuples are equal when they hold the same kinds and the same value bytes, wherever those lie.
    public static func == (lhs: TupleData, rhs: TupleData) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for column in 0..<lhs.count {
            guard lhs[column].kind == rhs[column].kind, lhs.slice(column) == rhs.slice(column) else { return false }
        }
        return true
    }
}

/// The old row an Update or Delete carries: only the replica identity key columns (`K`) or, with
/// `REPLICA IDENTITY FULL`, the whole old row (`O`).
public enum OldTuple: Equatable, Sendable {
    /// `K`: the old values of the replica identity (key) columns; other columns are null.
    case key(TupleData)
    /// `O`: the whole old row (`REPLICA IDENTITY FULL`).
    case full(TupleData)

    /// The submessage byte that introduces the old row.
    public enum Kind: UInt8, Hashable, Sendable {
        case key = 75  // ascii: K
        case full = 79  // ascii: O
    }

    /// The old row's values, whichever kind.
    @inlinable
    public var tuple: TupleData {
        switch self {
        case .key(let tuple), .full(let tuple): tuple
        }
    }

    /// Which kind of old row this is.
    @inlinable
    public var kind: Kind {
        switch self {
        case .key: .key
        case .full: .full
        }
    }
}
