/// A PostgreSQL WAL position (`XLogRecPtr`), printed as `X/Y` in hex like `pg_current_wal_lsn()`.
public struct LSN: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 64-bit byte position in the WAL.
    public var value: UInt64

    /// The position 0/0, which PostgreSQL uses for "none".
    public static let zero = LSN(0)

    /// Wraps a raw 64-bit WAL position.
    public init(_ value: UInt64) { self.value = value }

    /// Parses the `X/Y` text form; nil when the text is not two hex numbers of at most 8 digits each.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...8).contains(parts[0].count), (1...8).contains(parts[1].count),
            let high = UInt32(parts[0], radix: 16), let low = UInt32(parts[1], radix: 16)
        else { return nil }
        self.value = UInt64(high) << 32 | UInt64(low)
    }

    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.value < rhs.value }
}

extension LSN: Codable {
    /// Decodes the `X/Y` text form strictly: anything else is a `DecodingError.dataCorrupted`
    /// whose description quotes the text.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let lsn = LSN(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(text)\" is not an LSN (two hex numbers X/Y, as pg_current_wal_lsn() prints)")
        }
        self = lsn
    }

    /// Encodes the `X/Y` text form (``description``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
