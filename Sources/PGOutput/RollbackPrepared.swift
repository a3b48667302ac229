extension PGOutputMessage {
    /// Rollback Prepared (`r`, protocol version 3+): `ROLLBACK PREPARED` of a transaction sent earlier.
    ///
    /// Spec: [Logical Replication Message Formats, Rollback Prepared](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct RollbackPrepared: Hashable, Sendable {
        /// Flags; currently unused by PostgreSQL (0), kept as sent.
        public var flags: UInt8
        /// The end LSN of the prepared transaction.
        public var prepareEndLSN: LSN
        /// The end LSN of the rollback prepared transaction.
        public var rollbackEndLSN: LSN
        /// When the transaction was prepared.
        public var prepareTimestamp: PostgresTimestamp
        /// When the transaction was rolled back.
        public var rollbackTimestamp: PostgresTimestamp
        /// The transaction id.
        public var xid: UInt32
        /// The user-defined global id of the prepared transaction.
        public var gid: String

        /// Creates a Rollback Prepared message.
        public init(
            flags: UInt8 = 0, prepareEndLSN: LSN, rollbackEndLSN: LSN, prepareTimestamp: PostgresTimestamp,
            rollbackTimestamp: PostgresTimestamp, xid: UInt32, gid: String
        ) {
            self.flags = flags
            self.prepareEndLSN = prepareEndLSN
            self.rollbackEndLSN = rollbackEndLSN
            self.prepareTimestamp = prepareTimestamp
            self.rollbackTimestamp = rollbackTimestamp
            self.xid = xid
            self.gid = gid
        }

        /// Decodes the body after the type byte: `Int8` flags, `Int64` prepare end LSN, `Int64` rollback end LSN,
        /// `Int64` prepare time, `Int64` rollback time, `Int32` xid, gid as a C string.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            RollbackPrepared(
                flags: try reader.readUInt8(), prepareEndLSN: try reader.readLSN(),
                rollbackEndLSN: try reader.readLSN(), prepareTimestamp: try reader.readTimestamp(),
                rollbackTimestamp: try reader.readTimestamp(), xid: try reader.readInteger(as: UInt32.self),
                gid: try reader.readCString())
        }
    }
}
