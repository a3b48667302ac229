/// Standby status update (`r`): the client's report of how far it has written, flushed and applied WAL.
///
/// Send ``encoded()`` as the payload of a CopyData frame (`PQputCopyData`). The server treats `flushed` of a
/// logical slot as the position it may confirm (`confirmed_flush_lsn`). Pass positions as they should be
/// reported: the protocol's "last byte + 1" is what a Commit's `endLSN` and an XLogData's `walEnd` already are.
/// Spec: [Streaming Replication Protocol, Standby status update](https://www.postgresql.org/docs/current/protocol-replication.html).
public struct StandbyStatusUpdate: Hashable, Sendable {
    /// The message type byte.
    public static let kind: UInt8 = 114  // ascii: r
    /// The length of the encoded message: type byte, four `Int64` and one `Byte1`.
    public static let encodedCount = 34

    /// The WAL position received and written to disk.
    public var written: LSN
    /// The WAL position durably stored (for replicatord: uploaded and checkpointed).
    public var flushed: LSN
    /// The WAL position applied.
    public var applied: LSN
    /// The client's clock when sending.
    public var clientTime: PostgresTimestamp
    /// True to ask the server to reply at once (with a keepalive).
    public var replyRequested: Bool

    /// Creates a status update.
    public init(written: LSN, flushed: LSN, applied: LSN, clientTime: PostgresTimestamp, replyRequested: Bool = false) {
        self.written = written
        self.flushed = flushed
        self.applied = applied
        self.clientTime = clientTime
        self.replyRequested = replyRequested
    }

    /// The 34 wire bytes: `r`, written, flushed, applied, client time (all big-endian `Int64`), reply flag.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.encodedCount)
        encode(into: &bytes)
        return bytes
    }

    /// Appends the 34 wire bytes to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(Self.kind)
        Self.append(written.value, to: &buffer)
        Self.append(flushed.value, to: &buffer)
        Self.append(applied.value, to: &buffer)
        Self.append(UInt64(bitPattern: clientTime.microsecondsSince2000), to: &buffer)
        buffer.append(replyRequested ? 1 : 0)
    }

    private static func append(_ value: UInt64, to buffer: inout [UInt8]) {
        var shift = 56
        while shift >= 0 {
            buffer.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }
}
