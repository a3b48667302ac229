/// A message of the `pgoutput` logical decoding plugin, as carried in the payload of an ``XLogData``.
///
/// Decode one with ``decode(_:)``, ``decode(_:range:)`` or ``decode(from:)``. All the messages of protocol
/// version 1 are decoded. The streaming (protocol version 2+, `streaming 'on'`) and two-phase commit
/// (version 3+, `two_phase 'on'`) message types are recognised and rejected with
/// `PGOutputError.Code.unsupportedMessageType` naming the message: replicatord starts replication without those
/// options, so the server never sends them. For the same reason the `Xid` field that Message, Relation, Type,
/// Insert, Update, Delete and Truncate carry *inside a streamed transaction* is never expected.
///
/// Spec: [Logical Replication Message Formats](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
public enum PGOutputMessage: Equatable, Sendable {
    case begin(Begin)
    case commit(Commit)
    case origin(Origin)
    case relation(Relation)
    case type(DataType)
    case insert(Insert)
    case update(Update)
    case delete(Delete)
    case truncate(Truncate)
    case message(LogicalDecodingMessage)

    /// The first byte of a pgoutput message, which names its type.
    public enum Kind: UInt8, Hashable, Sendable, CaseIterable {
        case begin = 66            // ascii: B
        case commit = 67           // ascii: C
        case origin = 79           // ascii: O
        case relation = 82         // ascii: R
        case type = 89             // ascii: Y
        case insert = 73           // ascii: I
        case update = 85           // ascii: U
        case delete = 68           // ascii: D
        case truncate = 84         // ascii: T
        case message = 77          // ascii: M
        // Protocol version 2+, streaming of in-progress transactions: recognised, not decoded.
        case streamStart = 83      // ascii: S
        case streamStop = 69       // ascii: E
        case streamCommit = 99     // ascii: c
        case streamAbort = 65      // ascii: A
        // Protocol version 3+, two-phase commit: recognised, not decoded.
        case beginPrepare = 98     // ascii: b
        case prepare = 80          // ascii: P
        case commitPrepared = 75   // ascii: K
        case rollbackPrepared = 114 // ascii: r
        case streamPrepare = 112   // ascii: p

        /// The message's name in the PostgreSQL documentation.
        public var name: String {
            switch self {
            case .begin: "Begin"
            case .commit: "Commit"
            case .origin: "Origin"
            case .relation: "Relation"
            case .type: "Type"
            case .insert: "Insert"
            case .update: "Update"
            case .delete: "Delete"
            case .truncate: "Truncate"
            case .message: "Message"
            case .streamStart: "Stream Start"
            case .streamStop: "Stream Stop"
            case .streamCommit: "Stream Commit"
            case .streamAbort: "Stream Abort"
            case .beginPrepare: "Begin Prepare"
            case .prepare: "Prepare"
            case .commitPrepared: "Commit Prepared"
            case .rollbackPrepared: "Rollback Prepared"
            case .streamPrepare: "Stream Prepare"
            }
        }

        /// True for the streaming and two-phase message types this module recognises but does not decode.
        public var isSupported: Bool {
            switch self {
            case .begin, .commit, .origin, .relation, .type, .insert, .update, .delete, .truncate, .message: true
            default: false
            }
        }
    }

    /// The kind byte of this message.
    public var kind: Kind {
        switch self {
        case .begin: .begin
        case .commit: .commit
        case .origin: .origin
        case .relation: .relation
        case .type: .type
        case .insert: .insert
        case .update: .update
        case .delete: .delete
        case .truncate: .truncate
        case .message: .message
        }
    }

    /// Decodes `bytes` as exactly one message; the ranges in its tuples index into `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(PGOutputError) -> PGOutputMessage {
        var reader = ByteReader(bytes)
        return try decode(from: &reader)
    }

    /// Decodes `range` of `bytes` (an XLogData payload inside a CopyData frame, say) as exactly one message.
    public static func decode(_ bytes: [UInt8], range: Range<Int>) throws(PGOutputError) -> PGOutputMessage {
        var reader = ByteReader(bytes, range: range)
        return try decode(from: &reader)
    }

    /// Decodes the reader's remaining bytes as exactly one message: type byte, body, then nothing left over.
    ///
    /// Errors carry the message's name and the offset from the reader's start.
    public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> PGOutputMessage {
        let typeOffset = reader.offset
        let byte = try reader.readUInt8()
        guard let kind = Kind(rawValue: byte) else {
            throw PGOutputError(code: .unknownMessageType, offset: typeOffset,
                                detail: "unknown pgoutput message type byte \(byte)")
        }
        do throws(PGOutputError) {
            let message: PGOutputMessage
            switch kind {
            case .begin: message = .begin(try .decode(from: &reader))
            case .commit: message = .commit(try .decode(from: &reader))
            case .origin: message = .origin(try .decode(from: &reader))
            case .relation: message = .relation(try .decode(from: &reader))
            case .type: message = .type(try .decode(from: &reader))
            case .insert: message = .insert(try .decode(from: &reader))
            case .update: message = .update(try .decode(from: &reader))
            case .delete: message = .delete(try .decode(from: &reader))
            case .truncate: message = .truncate(try .decode(from: &reader))
            case .message: message = .message(try .decode(from: &reader))
            case .streamStart, .streamStop, .streamCommit, .streamAbort,
                 .beginPrepare, .prepare, .commitPrepared, .rollbackPrepared, .streamPrepare:
                throw PGOutputError(
                    code: .unsupportedMessageType, offset: typeOffset,
                    detail: "\(kind.name) is sent only with streaming or two_phase on, which replicatord does not request")
            }
            try reader.expectAtEnd()
            return message
        } catch {
            throw error.inMessage(kind.name)
        }
    }
}
