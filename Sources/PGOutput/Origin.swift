extension PGOutputMessage {
    /// Origin (`O`): the transaction was replicated here from another node; there may be several per transaction.
    ///
    /// Spec: [Logical Replication Message Formats, Origin](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct Origin: Hashable, Sendable {
        /// The LSN of the commit on the origin server.
        public var commitLSN: LSN
        /// The name of the origin.
        public var name: String

        /// Creates an Origin message.
        public init(commitLSN: LSN, name: String) {
            self.commitLSN = commitLSN
            self.name = name
        }

        /// Decodes the body after the type byte: `Int64` origin commit LSN, then the name as a C string.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            Origin(commitLSN: try reader.readLSN(), name: try reader.readCString())
        }
    }
}
