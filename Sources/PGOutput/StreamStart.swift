extension PGOutputMessage {
    /// Stream Start (`S`, protocol version 2+): the start of a chunk of an in-progress transaction's changes.
    ///
    /// Until the next Stream Stop, Relation, Type, Insert, Update, Delete, Truncate and Message carry this xid.
    /// Spec: [Logical Replication Message Formats, Stream Start](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct StreamStart: Hashable, Sendable {
        /// The id of the streamed transaction.
        public var xid: UInt32
        /// True for the transaction's first chunk.
        public var isFirstSegment: Bool

        /// Creates a Stream Start message.
        public init(xid: UInt32, isFirstSegment: Bool) {
            self.xid = xid
            self.isFirstSegment = isFirstSegment
        }

        /// Decodes the body after the type byte: `Int32` xid, `Int8` first-segment flag (0 or 1).
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            let xid = try reader.readInteger(as: UInt32.self)
            let flagOffset = reader.offset
            let flag = try reader.readUInt8()
            guard flag <= 1 else { throw reader.invalidValue("first-segment byte \(flag) is neither 0 nor 1", at: flagOffset) }
            return StreamStart(xid: xid, isFirstSegment: flag == 1)
        }
    }
}
