extension PGOutputMessage {
    /// Insert (`I`): a new row.
    ///
    /// Spec: [Logical Replication Message Formats, Insert](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct Insert: Equatable, Sendable {
        /// The OID of the relation, described by an earlier Relation message.
        public var relationOID: UInt32
        /// The new row.
        public var newTuple: TupleData

        /// The streamed transaction's id: set only for a message inside a Stream Start ... Stream Stop chunk
        /// (protocol version 2+), where it precedes the other fields.
        public var xid: UInt32?

        /// Creates an Insert message.
        public init(relationOID: UInt32, newTuple: TupleData, xid: UInt32? = nil) {
            self.relationOID = relationOID
            self.newTuple = newTuple
            self.xid = xid
        }

        /// Decodes the body after the type byte: `Int32` relation OID, `N`, then the new row's TupleData.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            let relationOID = try reader.readInteger(as: UInt32.self)
            try reader.expectNewTupleMarker()
            return Insert(relationOID: relationOID, newTuple: try .decode(from: &reader))
        }
    }
}

/// The byte that introduces the new row in Insert and Update.
let newTupleMarker: UInt8 = 78  // ascii: N

extension ByteReader {
    /// Reads the `N` that introduces a new row; any other byte is `.invalidValue`.
    mutating func expectNewTupleMarker() throws(PGOutputError) {
        let markerOffset = offset
        let byte = try readUInt8()
        guard byte == newTupleMarker else {
            throw invalidValue("expected new tuple marker N (78), found byte \(byte)", at: markerOffset)
        }
    }
}
