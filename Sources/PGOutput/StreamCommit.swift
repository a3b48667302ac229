extension PGOutputMessage {
    /// Stream Commit (`c`, protocol version 2+): a streamed transaction committed.
    ///
    /// Spec: [Logical Replication Message Formats, Stream Commit](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct StreamCommit: Hashable, Sendable {
        /// The id of the streamed transaction.
        public var xid: UInt32
        /// Flags; currently unused by PostgreSQL (0), kept as sent.
        public var flags: UInt8
        /// The LSN of the commit record.
        public var commitLSN: LSN
        /// The end LSN of the transaction.
        public var endLSN: LSN
        /// When the transaction committed.
        public var commitTimestamp: PostgresTimestamp

        /// Creates a Stream Commit message.
        public init(xid: UInt32, flags: UInt8 = 0, commitLSN: LSN, endLSN: LSN, commitTimestamp: PostgresTimestamp) {
            self.xid = xid
            self.flags = flags
            self.commitLSN = commitLSN
            self.endLSN = endLSN
            self.commitTimestamp = commitTimestamp
        }

        /// Decodes the body after the type byte: `Int32` xid, `Int8` flags, `Int64` commit LSN, `Int64` end LSN,
        /// `Int64` commit time.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            StreamCommit(
                xid: try reader.readInteger(as: UInt32.self), flags: try reader.readUInt8(),
                commitLSN: try reader.readLSN(), endLSN: try reader.readLSN(),
                commitTimestamp: try reader.readTimestamp())
        }
    }
}
