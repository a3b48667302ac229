/// XLogData (`w`): a chunk of WAL; with a logical slot and `pgoutput`, exactly one pgoutput message.
///
/// Spec: [Streaming Replication Protocol, XLogData](https://www.postgresql.org/docs/current/protocol-replication.html).
public struct XLogData: Equatable, Sendable {
    /// The WAL position where this message's data starts.
    public var walStart: LSN
    /// The current end of WAL on the server.
    public var walEnd: LSN
    /// The server's clock when it sent the message.
    public var serverTime: PostgresTimestamp
    /// The buffer the message was decoded from (the whole CopyData payload, shared, not copied).
    public var bytes: [UInt8]
    /// Where the WAL data (the pgoutput message) lies in ``bytes``.
    public var payloadRange: Range<Int>

    /// Creates an XLogData whose payload is `payloadRange` of `bytes`.
    public init(walStart: LSN, walEnd: LSN, serverTime: PostgresTimestamp, bytes: [UInt8], payloadRange: Range<Int>) {
        precondition(
            payloadRange.lowerBound >= bytes.startIndex && payloadRange.upperBound <= bytes.endIndex,
            "XLogData payload range \(payloadRange) must lie within the buffer's \(bytes.indices)")
        self.walStart = walStart
        self.walEnd = walEnd
        self.serverTime = serverTime
        self.bytes = bytes
        self.payloadRange = payloadRange
    }

    /// The WAL data, as a slice of ``bytes``.
    public var payload: ArraySlice<UInt8> { bytes[payloadRange] }

    /// Decodes the payload as one pgoutput message; tuple value ranges index into ``bytes`` and error offsets
    /// count from the payload's first byte. Use ``PGOutputDecoder`` instead when streaming in-progress transactions.
    public func decodeMessage(
        context: PGOutputMessage.DecodingContext = .init()
    ) throws(PGOutputError) -> PGOutputMessage {
        try PGOutputMessage.decode(bytes, range: payloadRange, context: context)
    }

    /// Decodes the body after the type byte: `Int64` start, `Int64` end, `Int64` server time, then the payload
    /// (the rest of the frame).
    public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
        let walStart = try reader.readLSN()
        let walEnd = try reader.readLSN()
        let serverTime = try reader.readTimestamp()
        return XLogData(
            walStart: walStart, walEnd: walEnd, serverTime: serverTime,
            bytes: reader.bytes, payloadRange: reader.readRemaining())
    }

    public static func == (lhs: XLogData, rhs: XLogData) -> Bool {
        lhs.walStart == rhs.walStart && lhs.walEnd == rhs.walEnd && lhs.serverTime == rhs.serverTime
            && lhs.payload == rhs.payload
    }
}
