extension PGOutputMessage {
    /// Begin (`B`): the start of a transaction's changes.
    ///
    /// Spec: [Logical Replication Message Formats, Begin](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct Begin: Hashable, Sendable {
        /// The LSN of the transaction's commit record (its final LSN).
        public var finalLSN: LSN
        /// When the transaction committed.
        public var commitTimestamp: PostgresTimestamp
        /// The transaction id.
        public var xid: UInt32

        /// Creates a Begin message.
        public init(finalLSN: LSN, commitTimestamp: PostgresTimestamp, xid: UInt32) {
            self.finalLSN = finalLSN
            self.commitTimestamp = commitTimestamp
            self.xid = xid
        }

        /// Decodes the body after the type byte: `Int64` final LSN, `Int64` commit time, `Int32` xid.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            Begin(
                finalLSN: try reader.readLSN(), commitTimestamp: try reader.readTimestamp(),
                xid: try reader.readInteger(as: UInt32.self))
        }
    }
}
