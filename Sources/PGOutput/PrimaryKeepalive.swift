/// Primary keepalive (`k`): the server's heartbeat, possibly asking for a Standby Status Update at once.
///
/// Spec: [Streaming Replication Protocol, Primary keepalive message](https://www.postgresql.org/docs/current/protocol-replication.html).
public struct PrimaryKeepalive: Hashable, Sendable {
    /// The current end of WAL on the server.
    public var walEnd: LSN
    /// The server's clock when it sent the message.
    public var serverTime: PostgresTimestamp
    /// True when the server asks for a reply as soon as possible, to avoid a timeout disconnect.
    public var replyRequested: Bool

    /// Creates a keepalive.
    public init(walEnd: LSN, serverTime: PostgresTimestamp, replyRequested: Bool) {
        self.walEnd = walEnd
        self.serverTime = serverTime
        self.replyRequested = replyRequested
    }

    /// Decodes the body after the type byte: `Int64` WAL end, `Int64` server time, `Byte1` reply requested
    /// (0 or 1; other values are `.invalidValue`).
    public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
        let walEnd = try reader.readLSN()
        let serverTime = try reader.readTimestamp()
        let flagOffset = reader.offset
        let flag = try reader.readUInt8()
        guard flag <= 1 else { throw reader.invalidValue("reply-requested byte \(flag) is neither 0 nor 1", at: flagOffset) }
        return PrimaryKeepalive(walEnd: walEnd, serverTime: serverTime, replyRequested: flag == 1)
    }
}
