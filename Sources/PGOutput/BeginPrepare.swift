extension PGOutputMessage {
    /// Begin Prepare (`b`, protocol version 3+, `two_phase`): the start of a transaction prepared for two-phase commit.
    ///
    /// Spec: [Logical Replication Message Formats, Begin Prepare](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct BeginPrepare: Hashable, Sendable {
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

        /// Creates a Begin Prepare message.
        public init(prepareLSN: LSN, endLSN: LSN, prepareTimestamp: PostgresTimestamp, xid: UInt32, gid: String) {
            self.prepareLSN = prepareLSN
            self.endLSN = endLSN
            self.prepareTimestamp = prepareTimestamp
            self.xid = xid
            self.gid = gid
        }

        /// Decodes the body after the type byte: `Int64` prepare LSN, `Int64` end LSN, `Int64` prepare time,
        /// `Int32` xid, gid as a C string.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            BeginPrepare(
                prepareLSN: try reader.readLSN(), endLSN: try reader.readLSN(),
                prepareTimestamp: try reader.readTimestamp(), xid: try reader.readInteger(as: UInt32.self),
                gid: try reader.readCString())
        }
    }
}
