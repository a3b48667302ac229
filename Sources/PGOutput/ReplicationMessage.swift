/// A message the server sends inside a CopyData frame during `START_REPLICATION`: WAL data or a keepalive.
///
/// Decode the CopyData payload (what `PQgetCopyData` returns, without the `d` frame header) with
/// ``decode(_:)``; then decode an ``XLogData``'s payload with ``XLogData/decodeMessage()``.
/// Spec: [Streaming Replication Protocol](https://www.postgresql.org/docs/current/protocol-replication.html),
/// under `START_REPLICATION`.
public enum ReplicationMessage: Equatable, Sendable {
    /// `w`: WAL data; with pgoutput, one pgoutput message.
    case xLogData(XLogData)
    /// `k`: the server's heartbeat.
    case primaryKeepalive(PrimaryKeepalive)

    /// The first byte of a replication message inside CopyData, which names its type.
    public enum Kind: UInt8, Hashable, Sendable {
        case xLogData = 119  // ascii: w
        case primaryKeepalive = 107  // ascii: k

        /// The message's name in the PostgreSQL documentation.
        public var name: String {
            switch self {
            case .xLogData: "XLogData"
            case .primaryKeepalive: "Primary keepalive"
            }
        }
    }

    /// The kind byte of this message.
    public var kind: Kind {
        switch self {
        case .xLogData: .xLogData
        case .primaryKeepalive: .primaryKeepalive
        }
    }

    /// Decodes a whole CopyData payload as exactly one replication message. An XLogData keeps `bytes` (shared,
    /// not copied) and the range of its payload within it.
    public static func decode(_ bytes: [UInt8]) throws(PGOutputError) -> ReplicationMessage {
        var reader = ByteReader(bytes)
        return try decode(from: &reader)
    }

    /// Decodes the reader's remaining bytes as exactly one replication message: type byte, body, nothing left over.
    public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> ReplicationMessage {
        let typeOffset = reader.offset
        let byte = try reader.readUInt8()
        guard let kind = Kind(rawValue: byte) else {
            throw PGOutputError(
                code: .unknownMessageType, offset: typeOffset,
                detail: "unknown replication message type byte \(byte)")
        }
        do throws(PGOutputError) {
            let message: ReplicationMessage
            switch kind {
            case .xLogData: message = .xLogData(try .decode(from: &reader))
            case .primaryKeepalive: message = .primaryKeepalive(try .decode(from: &reader))
            }
            try reader.expectAtEnd()
            return message
        } catch {
            throw error.inMessage(kind.name)
        }
    }
}
