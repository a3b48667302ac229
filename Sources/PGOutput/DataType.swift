extension PGOutputMessage {
    /// Type (`Y`): the name of a non-built-in data type a following Relation uses.
    ///
    /// Spec: [Logical Replication Message Formats, Type](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct DataType: Hashable, Sendable {
        /// The type's OID.
        public var oid: UInt32
        /// The type's schema (empty for `pg_catalog`).
        public var namespace: String
        /// The type's name.
        public var name: String

        /// The streamed transaction's id: set only for a message inside a Stream Start ... Stream Stop chunk
        /// (protocol version 2+), where it precedes the other fields.
        public var xid: UInt32?

        /// Creates a Type message.
        public init(oid: UInt32, namespace: String, name: String, xid: UInt32? = nil) {
            self.oid = oid
            self.namespace = namespace
            self.name = name
            self.xid = xid
        }

        /// Decodes the body after the type byte: `Int32` OID, namespace and name as C strings.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            DataType(
                oid: try reader.readInteger(as: UInt32.self), namespace: try reader.readCString(),
                name: try reader.readCString())
        }
    }
}
