extension PGOutputMessage {
    /// Update (`U`): a changed row, with its old key (`K`) or old row (`O`) when the replica identity sends one.
    ///
    /// Spec: [Logical Replication Message Formats, Update](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct Update: Equatable, Sendable {
        /// The OID of the relation, described by an earlier Relation message.
        public var relationOID: UInt32
        /// The old key or old row; nil when the key did not change and the identity is not FULL.
        public var oldTuple: OldTuple?
        /// The new row; unchanged TOASTed columns come as ``TupleValue/unchangedToast``.
        public var newTuple: TupleData

        /// The streamed transaction's id: set only for a message inside a Stream Start ... Stream Stop chunk
        /// (protocol version 2+), where it precedes the other fields.
        public var xid: UInt32?

        /// Creates an Update message.
        public init(relationOID: UInt32, oldTuple: OldTuple?, newTuple: TupleData, xid: UInt32? = nil) {
            self.relationOID = relationOID
            self.oldTuple = oldTuple
            self.newTuple = newTuple
            self.xid = xid
        }

        /// Decodes the body after the type byte: `Int32` relation OID, optionally `K` or `O` and the old
        /// TupleData, then `N` and the new TupleData.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            let relationOID = try reader.readInteger(as: UInt32.self)
            let markerOffset = reader.offset
            let marker = try reader.readUInt8()
            var oldTuple: OldTuple?
            switch marker {
            case OldTuple.Kind.key.rawValue:
                oldTuple = .key(try .decode(from: &reader))
                try reader.expectNewTupleMarker()
            case OldTuple.Kind.full.rawValue:
                oldTuple = .full(try .decode(from: &reader))
                try reader.expectNewTupleMarker()
            case newTupleMarker:
                oldTuple = nil
            default:
                throw reader.invalidValue("expected K, O or N (75, 79, 78), found byte \(marker)", at: markerOffset)
            }
            return Update(relationOID: relationOID, oldTuple: oldTuple, newTuple: try .decode(from: &reader))
        }
    }
}
