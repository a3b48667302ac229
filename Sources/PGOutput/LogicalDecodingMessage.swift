extension PGOutputMessage {
    /// Message (`M`): a logical decoding message written with `pg_logical_emit_message` (sent when the
    /// `messages` option is on).
    ///
    /// Spec: [Logical Replication Message Formats, Message](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct LogicalDecodingMessage: Hashable, Sendable {
        /// The flag bit that marks a transactional message.
        public static let transactionalFlag: UInt8 = 1

        /// Flags as sent: 0, or 1 (``transactionalFlag``) when the message is transactional.
        public var flags: UInt8
        /// The LSN of the message.
        public var lsn: LSN
        /// The message's prefix, as given to `pg_logical_emit_message`.
        public var prefix: String
        /// The message's content; a slice of the decoded buffer, not a copy.
        public var content: ArraySlice<UInt8>

        /// True when the message was emitted as part of a transaction.
        public var isTransactional: Bool { flags & Self.transactionalFlag != 0 }

        /// The streamed transaction's id: set only for a message inside a Stream Start ... Stream Stop chunk
        /// (protocol version 2+), where it precedes the other fields.
        public var xid: UInt32?

        /// Creates a logical decoding message.
        public init(flags: UInt8, lsn: LSN, prefix: String, content: ArraySlice<UInt8>, xid: UInt32? = nil) {
            self.flags = flags
            self.lsn = lsn
            self.prefix = prefix
            self.content = content
            self.xid = xid
        }

        /// Decodes the body after the type byte: `Int8` flags, `Int64` LSN, prefix as a C string, `Int32`
        /// content length and the content.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            let flags = try reader.readUInt8()
            let lsn = try reader.readLSN()
            let prefix = try reader.readCString()
            let content = try reader.readLengthPrefixedBytes()
            return LogicalDecodingMessage(flags: flags, lsn: lsn, prefix: prefix, content: reader.bytes[content])
        }
    }
}
