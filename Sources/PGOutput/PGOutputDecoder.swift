/// Decodes the pgoutput messages of one replication stream in order, tracking the state that changes how
/// later messages are laid out: whether they fall inside a streamed chunk (Stream Start ... Stream Stop).
///
/// A value-type state machine with no I/O. Without `streaming`, it behaves exactly like
/// ``PGOutputMessage/decode(_:context:)`` with the default context.
public struct PGOutputDecoder: Sendable {
    /// True with protocol version 4 and `streaming 'parallel'` (Stream Abort then carries LSN and time).
    public var parallelStreaming: Bool
    /// True after a Stream Start and until the matching Stream Stop.
    public private(set) var inStreamedTransaction: Bool = false

    /// Creates a decoder at the start of a replication stream.
    public init(parallelStreaming: Bool = false) {
        self.parallelStreaming = parallelStreaming
    }

    /// The context the next message is decoded with.
    public var context: PGOutputMessage.DecodingContext {
        .init(inStreamedTransaction: inStreamedTransaction, parallelStreaming: parallelStreaming)
    }

    /// Decodes the payload of `xLogData` as the next message of the stream.
    public mutating func decode(_ xLogData: XLogData) throws(PGOutputError) -> PGOutputMessage {
        var reader = ByteReader(xLogData.bytes, range: xLogData.payloadRange)
        return try decode(from: &reader)
    }

    /// Decodes the reader's remaining bytes as the next message of the stream.
    ///
    /// A message that fails to decode leaves the state unchanged.
    public mutating func decode(from reader: inout ByteReader) throws(PGOutputError) -> PGOutputMessage {
        let message = try PGOutputMessage.decode(from: &reader, context: context)
        switch message {
        case .streamStart: inStreamedTransaction = true
        case .streamStop: inStreamedTransaction = false
        default: break
        }
        return message
    }
}
