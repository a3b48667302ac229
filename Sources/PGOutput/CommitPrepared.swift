extension PGOutputMessage {
    /// Commit Prepared (`K`, protocol version 3+): `COMMIT PREPARED` of a transaction sent earlier.
    ///
    /// Spec: [Logical Replication Message Formats, Commit Prepared](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct CommitPrepared: Hashable, Sendable {
        /// Flags; currently unused by PostgreSQL (0), kept as sent.
        public var flags: UInt8
        /// The LSN of the commit prepared.
        public var commitLSN: LSN
        /// The end LSN of the commit prepared transaction.
        public var endLSN: LSN
        /// When the transaction committed.
        public var commitTimestamp: PostgresTimestamp
        /// The transaction id.
        public var xid: UInt32
        /// The user-defined global id of the prepared transaction.
        public var gid: String

        /// Creates a Commit Prepared message.
        public init(
            flags: UInt8 = 0, commitLSN: LSN, endLSN: LSN, commitTimestamp: PostgresTimestamp, xid: UInt32,
            gid: String
        ) {
            self.flags = flags
            self.commitLSN = commitLSN
            self.endLSN = endLSN
            self.commitTimestamp = commitTimestamp
            self.xid = xid
            self.gid = gid
        }

        /// Decodes the body after the type byte: `Int8` flags, `Int64` commit LSN, `Int64` end LSN, `Int64`
        /// commit time, `Int32` xid, gid as a C string.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            CommitPrepared(
                flags: try reader.readUInt8(), commitLSN: try reader.readLSN(), endLSN: try reader.readLSN(),
                commitTimestamp: try reader.readTimestamp(), xid: try reader.readInteger(as: UInt32.self),
                gid: try reader.readCString())
        }
    }
}
