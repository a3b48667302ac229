/// An error decoding replication-stream or pgoutput bytes: what went wrong, in which message, at which byte.
///
/// Malformed input from the server never traps; every decoder in this module throws this error instead.
/// It never carries row values: `detail` describes the shape of the problem (a length, a kind byte), not the data.
public struct PGOutputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem the decoder met.
    public enum Code: String, Sendable, Hashable {
        /// The bytes ended before the message did (a field, a string terminator or a value is missing).
        case truncated
        /// The message type byte is not one the protocol defines.
        case unknownMessageType
        /// A field holds a value the protocol does not allow (a negative length, an unknown tuple kind byte, ...).
        case invalidValue
        /// The message was decoded whole but bytes were left over after it.
        case trailingBytes
    }

    /// What kind of problem the decoder met.
    public var code: Code
    /// The name of the message being decoded (`"Insert"`, `"XLogData"`), when known.
    public var messageKind: String?
    /// The byte offset of the problem, counted from the first byte of the message (its type byte).
    public var offset: Int
    /// A short explanation of the problem; never contains row values.
    public var detail: String

    /// Creates an error; decoders usually leave `messageKind` for the message-level decode to fill in.
    public init(code: Code, messageKind: String? = nil, offset: Int, detail: String) {
        self.code = code
        self.messageKind = messageKind
        self.offset = offset
        self.detail = detail
    }

    public var description: String {
        "PGOutputError.\(code.rawValue) in \(messageKind ?? "message") at byte \(offset): \(detail)"
    }

    /// Returns this error with `messageKind` set, unless an inner decoder already named the message.
    func inMessage(_ kind: String) -> PGOutputError {
        var copy = self
        if copy.messageKind == nil { copy.messageKind = kind }
        return copy
    }
}
