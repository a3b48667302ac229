extension PGOutputMessage {
    /// Prepare (`P`, protocol version 3+) and Stream Prepare (`p`, protocol version 3+ with streaming): a
    /// transaction was prepared for two-phase commit. Both messages have this layout.
    ///
    /// Spec: [Logical Replication Message Formats, Prepare and Stream Prepare](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct Prepare: Hashable, Sendable {
        /// Flags; currently unused by PostgreSQL (0), kept as sent.
        public var flags: UInt8
        /// The LSN of the prepare.
        public var prepareLSN: LSN
        /// The end LSN of the prepared transaction.
        public var endLSN: LSN
        /// When the transaction was prepared.
        public var prepareTimestamp: PostgresTimestamp
        /// The transaction id.
        public var xid: UInt32
        /// The user-defined global id of the prepared transaction.
        public var gid: String

        /// Creates a Prepare message.
        public init(
            flags: UInt8 = 0, prepareLSN: LSN, endLSN: LSN, prepareTimestamp: PostgresTimestamp, xid: UInt32,
            gid: String
        ) {
            self.flags = flags
            self.prepareLSN = prepareLSN
            self.endLSN = endLSN
            self.prepareTimestamp = prepareTimestamp
            self.xid = xid
            self.gid = gid
        }

        /// Decodes the body after the type byte: `Int8` flags, `Int64` prepare LSN, `Int64` end LSN, `Int64`
        /// prepare time, `Int32` xid, gid as a C string.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            Prepare(
                flags: try reader.readUInt8(), prepareLSN: try reader.readLSN(), endLSN: try reader.readLSN(),
                prepareTimestamp: try reader.readTimestamp(), xid: try reader.readInteger(as: UInt32.self),
                gid: try reader.readCString())
        }
    }
}
