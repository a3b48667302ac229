extension PGOutputMessage {
    /// Stream Abort (`A`, protocol version 2+): a streamed transaction or one of its subtransactions aborted.
    ///
    /// With protocol version 4 and `streaming 'parallel'` the message also carries the abort's LSN and time;
    /// decode it with ``DecodingContext/parallelStreaming`` set.
    /// Spec: [Logical Replication Message Formats, Stream Abort](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct StreamAbort: Hashable, Sendable {
        /// The id of the streamed transaction.
        public var xid: UInt32
        /// The id of the aborted subtransaction; equal to `xid` when the whole transaction aborted.
        public var subtransactionXid: UInt32
        /// The abort's LSN and time, present only with `streaming 'parallel'` (protocol version 4).
        public var abort: (lsn: LSN, timestamp: PostgresTimestamp)?

        /// Creates a Stream Abort message.
        public init(xid: UInt32, subtransactionXid: UInt32, abort: (lsn: LSN, timestamp: PostgresTimestamp)? = nil) {
            self.xid = xid
            self.subtransactionXid = subtransactionXid
            self.abort = abort
        }

        /// Decodes the body after the type byte, without the parallel-streaming fields: `Int32` xid, `Int32`
        /// subtransaction xid.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            try decode(from: &reader, parallelStreaming: false)
        }

        /// Decodes the body after the type byte: `Int32` xid, `Int32` subtransaction xid and, with
        /// `parallelStreaming`, `Int64` abort LSN and `Int64` abort time.
        public static func decode(from reader: inout ByteReader, parallelStreaming: Bool) throws(PGOutputError) -> Self {
            let xid = try reader.readInteger(as: UInt32.self)
            let subtransactionXid = try reader.readInteger(as: UInt32.self)
            guard parallelStreaming else { return StreamAbort(xid: xid, subtransactionXid: subtransactionXid) }
            let lsn = try reader.readLSN()
            let timestamp = try reader.readTimestamp()
            return StreamAbort(xid: xid, subtransactionXid: subtransactionXid, abort: (lsn, timestamp))
        }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.xid == rhs.xid && lhs.subtransactionXid == rhs.subtransactionXid
                && lhs.abort?.lsn == rhs.abort?.lsn && lhs.abort?.timestamp == rhs.abort?.timestamp
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(xid)
            hasher.combine(subtransactionXid)
            hasher.combine(abort?.lsn)
            hasher.combine(abort?.timestamp)
        }
    }
}
