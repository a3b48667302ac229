extension PGOutputMessage {
    /// Commit (`C`): the end of a transaction's changes.
    ///
    /// Spec: [Logical Replication Message Formats, Commit](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct Commit: Hashable, Sendable {
        /// Flags; currently unused by PostgreSQL (0), kept as sent.
        public var flags: UInt8
        /// The LSN of the commit record.
        public var commitLSN: LSN
        /// The end LSN of the transaction: the position to confirm once its changes are durable.
        public var endLSN: LSN
        /// When the transaction committed.
        public var commitTimestamp: PostgresTimestamp

        /// Creates a Commit message.
        public init(flags: UInt8 = 0, commitLSN: LSN, endLSN: LSN, commitTimestamp: PostgresTimestamp) {
            self.flags = flags
            self.commitLSN = commitLSN
            self.endLSN = endLSN
            self.commitTimestamp = commitTimestamp
        }

        /// Decodes the body after the type byte: `Int8` flags, `Int64` commit LSN, `Int64` end LSN, `Int64` time.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            Commit(
                flags: try reader.readUInt8(), commitLSN: try reader.readLSN(), endLSN: try reader.readLSN(),
                commitTimestamp: try reader.readTimestamp())
        }
    }
}
