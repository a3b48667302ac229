/// A PostgreSQL `TimestampTz` on the wire: microseconds since the PostgreSQL epoch, 2000-01-01 00:00:00 UTC.
public struct PostgresTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds between the Unix epoch (1970-01-01) and the PostgreSQL epoch (2000-01-01).
    public static let postgresEpochInUnixMicroseconds: Int64 = 946_684_800_000_000

    /// The PostgreSQL epoch itself, 2000-01-01 00:00:00 UTC.
    public static let postgresEpoch = PostgresTimestamp(microsecondsSince2000: 0)

    /// Microseconds since 2000-01-01 00:00:00 UTC, the value PostgreSQL sends and expects.
    public var microsecondsSince2000: Int64

    /// Wraps the wire value: microseconds since 2000-01-01 00:00:00 UTC.
    public init(microsecondsSince2000: Int64) { self.microsecondsSince2000 = microsecondsSince2000 }

    /// Converts from microseconds since the Unix epoch (1970-01-01 00:00:00 UTC).
    public init(unixMicroseconds: Int64) {
        self.microsecondsSince2000 = unixMicroseconds &- Self.postgresEpochInUnixMicroseconds
    }

    /// The same instant as microseconds since the Unix epoch (1970-01-01 00:00:00 UTC).
    public var unixMicroseconds: Int64 { microsecondsSince2000 &+ Self.postgresEpochInUnixMicroseconds }

    public var description: String { "PostgresTimestamp(\(microsecondsSince2000) µs since 2000-01-01)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.microsecondsSince2000 < rhs.microsecondsSince2000 }
}
