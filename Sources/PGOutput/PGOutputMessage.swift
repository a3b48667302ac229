/// A message of the `pgoutput` logical decoding plugin, as carried in the payload of an ``XLogData``.
///
/// Every message type of protocol versions 1 to 4 is decoded. Decode one with ``decode(_:)``,
/// ``decode(_:range:)`` or ``decode(from:context:)``; the default context fits replication started without
/// `streaming`. When streaming in-progress transactions, use ``PGOutputDecoder``, which tracks Stream Start and
/// Stream Stop so that the `Xid` field data messages carry inside a streamed chunk is read.
///
/// Spec: [Logical Replication Message Formats](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
public enum PGOutputMessage: Equatable, Sendable {
    /// `B`: a transaction starts.
    case begin(Begin)
    /// `C`: the transaction committed.
    case commit(Commit)
    /// `O`: the transaction came from another origin.
    case origin(Origin)
    /// `R`: a table's schema, before the first change to it.
    case relation(Relation)
    /// `Y`: a non-built-in data type's name.
    case type(DataType)
    /// `I`: a new row.
    case insert(Insert)
    /// `U`: a changed row.
    case update(Update)
    /// `D`: a removed row.
    case delete(Delete)
    /// `T`: tables truncated.
    case truncate(Truncate)
    /// `M`: a logical decoding message from `pg_logical_emit_message`.
    case message(LogicalDecodingMessage)
    /// `S`: a chunk of an in-progress transaction starts (protocol 2+).
    case streamStart(StreamStart)
    /// `E`: the current streamed chunk ends (protocol 2+).
    case streamStop
    /// `c`: a streamed transaction committed (protocol 2+).
    case streamCommit(StreamCommit)
    /// `A`: a streamed transaction or subtransaction aborted (protocol 2+).
    case streamAbort(StreamAbort)
    /// `b`: a transaction prepared for two-phase commit starts (protocol 3+).
    case beginPrepare(BeginPrepare)
    /// `P`: the transaction was prepared (protocol 3+).
    case prepare(Prepare)
    /// `K`: a prepared transaction committed (protocol 3+).
    case commitPrepared(CommitPrepared)
    /// `r`: a prepared transaction rolled back (protocol 3+).
    case rollbackPrepared(RollbackPrepared)
    /// `p`: a streamed transaction was prepared (protocol 3+).
    case streamPrepare(Prepare)

    /// The first byte of a pgoutput message, which names its type.
    public enum Kind: UInt8, Hashable, Sendable, CaseIterable {
        case begin = 66  // ascii: B
        case commit = 67  // ascii: C
        case origin = 79  // ascii: O
        case relation = 82  // ascii: R
        case type = 89  // ascii: Y
        case insert = 73  // ascii: I
        case update = 85  // ascii: U
        case delete = 68  // ascii: D
        case truncate = 84  // ascii: T
        case message = 77  // ascii: M
        // Protocol version 2+, streaming of in-progress transactions.
        case streamStart = 83  // ascii: S
        case streamStop = 69  // ascii: E
        case streamCommit = 99  // ascii: c
        case streamAbort = 65  // ascii: A
        // Protocol version 3+, two-phase commit.
        case beginPrepare = 98  // ascii: b
        case prepare = 80  // ascii: P
        case commitPrepared = 75  // ascii: K
        case rollbackPrepared = 114  // ascii: r
        case streamPrepare = 112  // ascii: p

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

        /// True for the messages that start with the streamed transaction's xid inside a streamed chunk.
        public var carriesStreamedXid: Bool {
            switch self {
            case .relation, .type, .insert, .update, .delete, .truncate, .message: true
            default: false
            }
        }
    }

    /// What the decoder must know from outside a message to read it: fields whose presence depends on the
    /// replication options or on earlier messages.
    public struct DecodingContext: Hashable, Sendable {
        /// True between Stream Start and Stream Stop: Relation, Type, Insert, Update, Delete, Truncate and
        /// Message then start with the streamed transaction's xid.
        public var inStreamedTransaction: Bool
        /// True with protocol version 4 and `streaming 'parallel'`: Stream Abort then carries the abort's LSN
        /// and time.
        public var parallelStreaming: Bool

        /// Creates a context; the defaults fit replication started without `streaming`.
        public init(inStreamedTransaction: Bool = false, parallelStreaming: Bool = false) {
            self.inStreamedTransaction = inStreamedTransaction
            self.parallelStreaming = parallelStreaming
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
        case .streamStart: .streamStart
        case .streamStop: .streamStop
        case .streamCommit: .streamCommit
        case .streamAbort: .streamAbort
        case .beginPrepare: .beginPrepare
        case .prepare: .prepare
        case .commitPrepared: .commitPrepared
        case .rollbackPrepared: .rollbackPrepared
        case .streamPrepare: .streamPrepare
        }
    }

    /// Decodes `bytes` as exactly one message; the ranges in its tuples index into `bytes`.
    public static func decode(_ bytes: [UInt8], context: DecodingContext = .init()) throws(PGOutputError) -> PGOutputMessage {
        var reader = ByteReader(bytes)
        return try decode(from: &reader, context: context)
    }

    /// Decodes `range` of `bytes` (an XLogData payload inside a CopyData frame, say) as exactly one message.
    public static func decode(
        _ bytes: [UInt8], range: Range<Int>, context: DecodingContext = .init()
    ) throws(PGOutputError) -> PGOutputMessage {
        var reader = ByteReader(bytes, range: range)
        return try decode(from: &reader, context: context)
    }

    /// Decodes the reader's remaining bytes as exactly one message: type byte, body, then nothing left over.
    ///
    /// Errors carry the message's name and the offset from the reader's start.
    public static func decode(
        from reader: inout ByteReader, context: DecodingContext = .init()
    ) throws(PGOutputError) -> PGOutputMessage {
        let typeOffset = reader.offset
        let byte = try reader.readUInt8()
        guard let kind = Kind(rawValue: byte) else {
            throw PGOutputError(
                code: .unknownMessageType, offset: typeOffset,
                detail: "unknown pgoutput message type byte \(byte)")
        }
        do throws(PGOutputError) {
            let xid: UInt32? =
                context.inStreamedTransaction && kind.carriesStreamedXid
                ? try reader.readInteger(as: UInt32.self) : nil
            let message: PGOutputMessage
            switch kind {
            case .begin: message = .begin(try .decode(from: &reader))
            case .commit: message = .commit(try .decode(from: &reader))
            case .origin: message = .origin(try .decode(from: &reader))
            case .relation:
                var relation = try Relation.decode(from: &reader)
                relation.xid = xid
                message = .relation(relation)
            case .type:
                var type = try DataType.decode(from: &reader)
                type.xid = xid
                message = .type(type)
            case .insert:
                var insert = try Insert.decode(from: &reader)
                insert.xid = xid
                message = .insert(insert)
            case .update:
                var update = try Update.decode(from: &reader)
                update.xid = xid
                message = .update(update)
            case .delete:
                var delete = try Delete.decode(from: &reader)
                delete.xid = xid
                message = .delete(delete)
            case .truncate:
                var truncate = try Truncate.decode(from: &reader)
                truncate.xid = xid
                message = .truncate(truncate)
            case .message:
                var logical = try LogicalDecodingMessage.decode(from: &reader)
                logical.xid = xid
                message = .message(logical)
            case .streamStart: message = .streamStart(try .decode(from: &reader))
            case .streamStop: message = .streamStop
            case .streamCommit: message = .streamCommit(try .decode(from: &reader))
            case .streamAbort:
                message = .streamAbort(try .decode(from: &reader, parallelStreaming: context.parallelStreaming))
            case .beginPrepare: message = .beginPrepare(try .decode(from: &reader))
            case .prepare: message = .prepare(try .decode(from: &reader))
            case .commitPrepared: message = .commitPrepared(try .decode(from: &reader))
            case .rollbackPrepared: message = .rollbackPrepared(try .decode(from: &reader))
            case .streamPrepare: message = .streamPrepare(try .decode(from: &reader))
            }
            try reader.expectAtEnd()
            return message
        } catch {
            throw error.inMessage(kind.name)
        }
    }
}
