extension PGOutputMessage {
    /// Delete (`D`): a removed row, identified by its old key (`K`) or whole old row (`O`).
    ///
    /// Spec: [Logical Replication Message Formats, Delete](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct Delete: Equatable, Sendable {
        /// The OID of the relation, described by an earlier Relation message.
        public var relationOID: UInt32
        /// The old key (`K`, other columns null) or, with `REPLICA IDENTITY FULL`, the old row (`O`).
        public var oldTuple: OldTuple

        /// The streamed transaction's id: set only for a message inside a Stream Start ... Stream Stop chunk
        /// (protocol version 2+), where it precedes the other fields.
        public var xid: UInt32?

        /// Creates a Delete message.
        public init(relationOID: UInt32, oldTuple: OldTuple, xid: UInt32? = nil) {
            self.relationOID = relationOID
            self.oldTuple = oldTuple
            self.xid = xid
        }

        /// Decodes the body after the type byte: `Int32` relation OID, `K` or `O`, then the old TupleData.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            let relationOID = try reader.readInteger(as: UInt32.self)
            let markerOffset = reader.offset
            let marker = try reader.readUInt8()
            switch OldTuple.Kind(rawValue: marker) {
            case .key: return Delete(relationOID: relationOID, oldTuple: .key(try .decode(from: &reader)))
            case .full: return Delete(relationOID: relationOID, oldTuple: .full(try .decode(from: &reader)))
            case nil: throw reader.invalidValue("expected K or O (75, 79), found byte \(marker)", at: markerOffset)
            }
        }
    }
}
