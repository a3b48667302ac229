import PGOutput

/// One table's layout as the change stream describes it (from pgoutput's Relation message).
public struct StreamRelation: Sendable, Equatable {
    public var oid: UInt32
    public var schema: String
    public var name: String
    public var columnNames: [String]
    public var kinds: [ColumnKind]
    /// Indexes of the replica identity (key) columns.
    public var keyColumns: [Int]
    /// `relreplident`: `d`, `f`, `i`, `n`.
    public var replicaIdentity: Character
    /// Indexes of the primary key's columns, from the catalog (empty for a table without one). Under
    /// `REPLICA IDENTITY FULL` the Relation flags every column as key, so only these tell whether an
    /// update changed the key.
    public var primaryKeyColumns: [Int]
    /// Whether the table has a primary key (false for a FULL-identity table without one).
    public var hasPrimaryKey: Bool { !primaryKeyColumns.isEmpty }
    /// Per column, from the catalog: `attnum` (0 when the catalog no longer has a column of that
    /// name), the type as PostgreSQL prints it, and the value older rows read for a column added
    /// with a default (see ``ColumnDescription/missingValue``). Empty when unknown.
    public var attnums: [Int]
    public var typeNames: [String]
    public var missingValues: [String?]

    public init(
        oid: UInt32, schema: String, name: String, columnNames: [String], kinds: [ColumnKind],
        keyColumns: [Int], replicaIdentity: Character, primaryKeyColumns: [Int],
        attnums: [Int] = [], typeNames: [String] = [], missingValues: [String?] = []
    ) {
        self.oid = oid; self.schema = schema; self.name = name; self.columnNames = columnNames; self.kinds = kinds
        self.keyColumns = keyColumns; self.replicaIdentity = replicaIdentity; self.primaryKeyColumns = primaryKeyColumns
        self.attnums = attnums; self.typeNames = typeNames; self.missingValues = missingValues
    }
}

/// A table whose changes could not be decoded: its name and why (never a value).
public struct FailedTable: Sendable, Equatable {
    public var schema: String
    public var name: String
    public var reason: String
}

/// The rows of one CDC file: the `Op` column, the table's columns, and the columns whose unchanged
/// TOAST value the server did not send (see the README's rule), in commit order.
public struct ChangeSegment: Sendable {
    public var relation: StreamRelation
    /// `I`, `U`, `D` or `T` per row.
    public var ops: [UInt8] = []
    public var values: ColumnBatch
    /// Per row: the names of the columns left out as unchanged TOAST, comma-separated; nil when none.
    public var unchangedToast: ColumnVector = ColumnVector(kind: .text)
    /// Per row: the commit LSN and time of its transaction and its position in it (`_seq`, `_commit_ts`).
    public var order = ChangeOrder()
    /// Commit end LSN of the last transaction with a row in this segment.
    public var lastCommitEnd: LSN = .zero
    /// Commit time of the first transaction with a row in this segment, microseconds since 1970.
    public var firstCommitTime: Int64 = 0
    public var inserts = 0, updates = 0, deletes = 0, truncates = 0
    /// Rows already moved to a local spool file (a large segment); nil while all rows are in memory.
    public var spool: SegmentSpool?

    init(relation: StreamRelation) {
        self.relation = relation
        values = ColumnBatch(kinds: relation.kinds)
    }

    /// Rows in memory (not yet spilled).
    public var rowCount: Int { ops.count }
    /// Rows in the segment, spilled and in memory.
    public var totalRows: Int { ops.count + (spool?.rows ?? 0) }
    /// The segment's size so far: the spool file's bytes plus the bytes of the rows in memory.
    public var heldBytes: Int64 { (spool?.bytes ?? 0) + Int64(values.byteCount) }

    /// Empties the in-memory rows (after they were spilled), keeping the counts.
    mutating func removeRowsInMemory() {
        ops.removeAll(keepingCapacity: true)
        order.removeAll()
        values.removeAll()
        unchangedToast.removeAll()
    }
}

/// Turns pgoutput messages into per-table ``ChangeSegment``s: a value-type state machine with no I/O,
/// so it is tested from message fixtures. Rows go straight into their table's open segment (the
/// drain only ever stops at a commit, so a cycle never holds part of a transaction); a transaction
/// whose commit precedes a table's start position (its snapshot already holds it) is dropped for
/// that table. A segment past ``spillRows`` rows in memory is handed to the `spill` closure, which
/// moves its rows to a local file, so a transaction of millions of rows needs bounded memory.
public struct ChangeAccumulator: Sendable {
    /// What the accumulator needs to know of each table of the publication.
    public var relations: [UInt32: StreamRelation] = [:]
    /// Changes of a table committed before this LSN are already in its LOAD files (or in stored
    /// CDC files): skipped. Tables not listed use ``globalStart``.
    public var tableStart: [UInt32: LSN] = [:]
    /// Transactions whose commit LSN precedes this were stored by an earlier cycle.
    public var globalStart: LSN
    /// A segment with this many rows in memory is spilled.
    public var spillRows = 50_000
    /// ...or past this many bytes of values (a row with a large value goes out right away).
    public var spillBytes = 64 << 20
    /// ...or past this many values (rows x columns): a table of 1,000 columns spills every 2,000
    /// rows, where ``spillRows`` alone would hold 50,000 rows of it (a gigabyte in memory).
    public var spillCells = 2_000_000
    /// Whether the message being handled came with large values.
    private var messageHadLargeValues = false
    /// The tables of the publication as the cycle found them, by OID: their changes are written
    /// under these names even when the stream announces another one (a table renamed during the
    /// cycle keeps its folder until the next cycle loads it under its new name). Nil: every table
    /// the stream names, under the name it sends.
    public var tableNames: [UInt32: (schema: String, name: String)]?
    /// Whether changes of tables missing from ``tableNames`` are skipped: a table added to the
    /// publication during the cycle, whose own full load (in a later snapshot, at the next cycle)
    /// holds them.
    public var skipUnknownTables = false
    /// Tables in state `error`: their changes are left out until `reload-table` loads them again.
    public var excludedTables: Set<UInt32> = []
    /// Which changes are kept (DMS's `CdcInsertsOnly`, `CdcInsertsAndUpdates`); the others are
    /// dropped as they arrive and counted nowhere.
    public var writtenChanges: WrittenChanges = .all
    /// Tables whose changes could not be decoded in this accumulator, with the reason (the value
    /// never appears in it): their rows are dropped and the cycle puts them in state `error`,
    /// while every other table goes on.
    public private(set) var failedTables: [UInt32: FailedTable] = [:]

    /// The names for ``tableNames``: the publication's tables as the cycle found them, and tables
    /// the checkpoint knows (`"schema.table"` keys) that left the publication, whose changes from
    /// before they left still land in their folder.
    public static func tableNames(current: [TableDescription], stored: [(key: String, oid: UInt32)]) -> [UInt32: (schema: String, name: String)] {
        var names = Dictionary(current.map { ($0.oid, (schema: $0.schema, name: $0.name)) }, uniquingKeysWith: { first, _ in first })
        for (key, oid) in stored where names[oid] == nil {
            guard let dot = key.firstIndex(of: ".") else { continue }
            names[oid] = (String(key[..<dot]), String(key[key.index(after: dot)...]))
        }
        return names
    }
    private var skippedTables: Set<UInt32> = []
    /// Segments in the order they were opened; one file each.
    public private(set) var segments: [ChangeSegment] = []
    private var openSegment: [UInt32: Int] = [:]

    /// The open transaction: its commit LSN (from Begin), whether it was stored before, and the
    /// segments it wrote to.
    /// Also its commit time and the position of its next row (from 1; `_seq`).
    private var transaction: (commitLSN: LSN, skip: Bool, touched: Set<Int>, commitTime: Int64, nextPosition: UInt32)?
    /// End LSN of the last commit seen (whether or not it had rows for us).
    public private(set) var lastCommitEnd: LSN = .zero
    /// Commit time of the last commit seen, microseconds since 1970.
    public private(set) var lastCommitTime: Int64 = 0
    /// Transactions committed with rows kept in this accumulator.
    public private(set) var transactions = 0
    /// Decodes a value sent in text format (the stream's text mode).
    public var textDecoder: @Sendable (UnsafeRawBufferPointer, inout ColumnVector) throws -> Void

    public init(globalStart: LSN, textDecoder: @escaping @Sendable (UnsafeRawBufferPointer, inout ColumnVector) throws -> Void) {
        self.globalStart = globalStart
        self.textDecoder = textDecoder
    }

    /// Whether a transaction is open (Begin seen, Commit not yet).
    public var inTransaction: Bool { transaction != nil }

    /// Handles one pgoutput message. `resolve` describes a relation the stream announces (its
    /// kinds need the catalog: domains, enums); `spill` moves a large segment's rows out of memory.
    /// `largeValues` are the large values the reader large out of the message (``LargeValueSplicer``).
    public mutating func handle(
        _ message: PGOutputMessage, largeValues: [LargeValue] = [],
        resolve: (PGOutputMessage.Relation) throws -> StreamRelation,
        spill: (inout ChangeSegment) throws -> Void = { _ in }
    ) throws {
        let text = textDecoder
        messageHadLargeValues = !largeValues.isEmpty
        func large(_ tuple: Int) -> [Int: LargeValue] {
            var columns: [Int: LargeValue] = [:]
            for value in largeValues where value.tuple == tuple { columns[value.column] = value }
            return columns
        }
        switch message {
        case .begin(let begin):
            guard transaction == nil else { throw ChangeStreamError.protocolOrder("Begin inside an open transaction") }
            transaction = (begin.finalLSN, begin.finalLSN < globalStart, [], begin.commitTimestamp.unixMicroseconds, 1)
        case .commit(let commit):
            guard let txn = transaction else { throw ChangeStreamError.protocolOrder("Commit without Begin") }
            transaction = nil
            lastCommitEnd = commit.endLSN
            lastCommitTime = commit.commitTimestamp.unixMicroseconds
            for index in txn.touched { segments[index].lastCommitEnd = commit.endLSN }
            if !txn.touched.isEmpty { transactions += 1 }
        case .relation(let r):
            var relation = try resolve(r)
            if let known = tableNames?[r.oid] {
                relation.schema = known.schema
                relation.name = known.name
            } else if tableNames != nil && skipUnknownTables {
                skippedTables.insert(r.oid)
            }
            if let previous = relations[r.oid], previous != relation {
                // A new layout (DDL): the next rows go to a new segment, so a new file.
                openSegment[r.oid] = nil
            }
            relations[r.oid] = relation
        case .insert(let insert):
            try withRows(insert.relationOID, spill: spill) { seg, rel in
                try Self.appendRow(
                    &seg, rel, op: UInt8(ascii: "I"), tuple: insert.newTuple, old: nil, text: text,
                    large: large(0))
                seg.inserts += 1
            }
        case .update(let update):
            guard writtenChanges.keepsUpdates else { break }
            let keyChangeAsUpdate = !writtenChanges.keepsDeletes
            try withRows(update.relationOID, spill: spill) { seg, rel in
                let old = update.oldTuple
                let largeOld = old == nil ? [:] : large(0), largeNew = large(old == nil ? 0 : 1)
                var keyChanged = false
                switch old {
                case .key?: keyChanged = true  // the server sends K only when the key changed
                case .full(let oldTuple)?:
                    // FULL sends the whole old row: the update changed the key when a primary key
                    // column differs; a table without a primary key has no key but the whole row.
                    if !rel.hasPrimaryKey {
                        keyChanged = true
                    } else {
                        keyChanged = rel.primaryKeyColumns.contains { !Self.sameValue(oldTuple, update.newTuple, $0) }
                    }
                case nil: break
                }
                if keyChanged, let old, !keyChangeAsUpdate {
                    try Self.appendRow(&seg, rel, op: UInt8(ascii: "D"), tuple: old.tuple, old: nil, text: text, large: largeOld)
                    try Self.appendRow(
                        &seg, rel, op: UInt8(ascii: "I"), tuple: update.newTuple, old: old.tuple, text: text,
                        large: largeNew, largeOld: largeOld)
                    seg.deletes += 1; seg.inserts += 1
                } else {
                    try Self.appendRow(
                        &seg, rel, op: UInt8(ascii: "U"), tuple: update.newTuple, old: old?.tuple, text: text,
                        large: largeNew, largeOld: largeOld)
                    seg.updates += 1
                }
            }
        case .delete(let delete):
            guard writtenChanges.keepsDeletes else { break }
            try withRows(delete.relationOID, spill: spill) { seg, rel in
                try Self.appendRow(
                    &seg, rel, op: UInt8(ascii: "D"), tuple: delete.oldTuple.tuple, old: nil, text: text,
                    large: large(0))
                seg.deletes += 1
            }
        case .truncate(let truncate):
            guard writtenChanges.keepsDeletes else { break }
            for oid in truncate.relationOIDs {
                try withRows(oid, spill: spill) { seg, rel in
                    seg.ops.append(UInt8(ascii: "T"))
                    for c in seg.values.columns.indices { seg.values.columns[c].appendNull() }
                    seg.unchangedToast.appendNull()
                    seg.truncates += 1
                }
            }
        case .origin, .type, .message:
            break
        default:
            // Streamed and two-phase transactions belong to protocol versions we do not request.
            throw ChangeStreamError.protocolOrder("a \(message) message, which protocol version 1 does not send")
        }
    }

    /// Takes the segments out (for writing), leaving the accumulator empty but keeping the
    /// relation cache and positions.
    /// Segments of tables that failed are dropped (their spool files removed).
    /// The bytes the segments' files will take in the spool: their spool writers' estimated sizes
    /// (a writer buffers its row group, so little of it may be on disk yet) and the rows in memory.
    public var heldBytes: Int64 { segments.reduce(0) { $0 + $1.heldBytes } }

    public mutating func takeSegments() -> [ChangeSegment] {
        defer { segments = []; openSegment = [:] }
        guard !failedTables.isEmpty else { return segments }
        var kept: [ChangeSegment] = []
        for segment in segments {
            if failedTables[segment.relation.oid] == nil { kept.append(segment) } else { segment.spool?.remove() }
        }
        return kept
    }

    /// Takes the tables that failed since the last call (by OID, with the reason).
    public mutating func takeFailedTables() -> [UInt32: FailedTable] {
        defer { failedTables = [:] }
        return failedTables
    }

    // MARK: Internals

    private mutating func withRows(
        _ oid: UInt32, spill: (inout ChangeSegment) throws -> Void,
        _ body: (inout ChangeSegment, StreamRelation) throws -> Void
    ) throws {
        guard var txn = transaction else { throw ChangeStreamError.protocolOrder("row change outside a transaction") }
        guard let relation = relations[oid] else { throw ChangeStreamError.unknownRelation(oid) }
        if txn.skip || skippedTables.contains(oid) || excludedTables.contains(oid) || failedTables[oid] != nil { return }
        if let start = tableStart[oid], txn.commitLSN < start { return }
        let index: Int
        if let open = openSegment[oid] {
            index = open
        } else {
            var segment = ChangeSegment(relation: relation)
            segment.firstCommitTime = txn.commitTime
            segments.append(segment)
            index = segments.count - 1
            openSegment[oid] = index
        }
        txn.touched.insert(index)
        let before = segments[index].rowCount
        do {
            try body(&segments[index], relation)
            // Each row the change added (two for a key change) gets its place in the transaction.
            for _ in before..<segments[index].rowCount {
                segments[index].order.append(lsn: txn.commitLSN.value, position: txn.nextPosition, commitTime: txn.commitTime)
                txn.nextPosition &+= 1
            }
            transaction = txn
        } catch let error as ValueDecodingError {
            transaction = txn
            // A value this table's mapping cannot take: the table goes to `error`, the others go on.
            failedTables[oid] = FailedTable(schema: relation.schema, name: relation.name, reason: "\(error)")
            return
        }
        // The byte count costs a pass over the columns: taken every 256 rows, and after a row
        // with a large (large) value, which must not wait in memory for the next one.
        let rows = segments[index].rowCount
        if rows >= spillRows || rows * max(1, segments[index].values.columns.count) >= spillCells
            || ((rows & 255 == 0 || messageHadLargeValues) && segments[index].values.byteCount >= spillBytes)
        {
            try spill(&segments[index])
        }
    }

    private static func appendRow(
        _ seg: inout ChangeSegment, _ rel: StreamRelation, op: UInt8, tuple: TupleData, old: TupleData?,
        text: (UnsafeRawBufferPointer, inout ColumnVector) throws -> Void,
        large: [Int: LargeValue] = [:], largeOld: [Int: LargeValue] = [:]
    ) throws {
        guard tuple.count == rel.kinds.count else {
            throw ChangeStreamError.columnCount(table: "\(rel.schema).\(rel.name)", expected: rel.kinds.count, got: tuple.count)
        }
        var unchanged: [String] = []
        for c in 0..<tuple.count {
            var value = tuple[c]
            if case .unchangedToast = value {
                if let old, c < old.count, old[c].range != nil {
                    if let file = largeOld[c]?.file {
                        try appendLargeValueFile(file, binary: old[c].kind == .binary, into: &seg, column: c, text: text)
                    } else {
                        try decode(old, old[c], large: largeOld[c]?.bytes, into: &seg.values.columns[c], text: text)
                    }
                    continue
                }
                unchanged.append(rel.columnNames[c])
                value = .null
            }
            if case .binary = value, rel.kinds[c].needsTextCast {
                // The cycle chose binary mode from the columns it knew; a column added (or retyped)
                // since has a type we only read as text. Failing keeps nothing of this cycle; the
                // next one sees the column in the catalog and reads the stream as text.
                throw ChangeStreamError.binaryValueOfTextType(table: "\(rel.schema).\(rel.name)", column: rel.columnNames[c])
            }
            if let file = large[c]?.file, value.range != nil {
                try appendLargeValueFile(file, binary: value.kind == .binary, into: &seg, column: c, text: text)
            } else {
                try decode(tuple, value, large: large[c]?.bytes, into: &seg.values.columns[c], text: text)
            }
        }
        seg.ops.append(op)
        if unchanged.isEmpty { seg.unchangedToast.appendNull() } else { seg.unchangedToast.appendText(unchanged.joined(separator: ",")) }
    }

    private static func decode(
        _ tuple: TupleData, _ value: TupleValue, large: [UInt8]?, into vector: inout ColumnVector,
        text: (UnsafeRawBufferPointer, inout ColumnVector) throws -> Void
    ) throws {
        if var bytes = large, value.range != nil {
            try appendLargeValue(&bytes, binary: value.kind == .binary, into: &vector, text: text)
            return
        }
        switch value {
        case .null, .unchangedToast: vector.appendNull()
        case .binary(let range):
            try tuple.bytes.withUnsafeBytes { try BinaryValueDecoder.append(UnsafeRawBufferPointer(rebasing: $0[range]), to: &vector) }
        case .text(let range):
            try tuple.bytes.withUnsafeBytes { try text(UnsafeRawBufferPointer(rebasing: $0[range]), &vector) }
        }
    }

    /// Appends a value the reader large out of its message: the segment takes the array over where
    /// the value is its bytes (text, json, jsonb after its version byte, bytea in binary), so it is
    /// never copied; other kinds decode it as usual.
    private static func appendLargeValue(
        _ bytes: inout [UInt8], binary: Bool, into vector: inout ColumnVector,
        text: (UnsafeRawBufferPointer, inout ColumnVector) throws -> Void
    ) throws {
        switch vector.kind {
        case .text, .json, .textCast:
            vector.adoptBytes(&bytes)
        case .bytea where binary:
            vector.adoptBytes(&bytes)
        case .jsonb:
            if binary {
                guard bytes.first == 1 else { throw ValueDecodingError(kind: .jsonb, reason: "jsonb version byte is not 1") }
                bytes.removeFirst()
            }
            vector.adoptBytes(&bytes)
        default:
            try bytes.withUnsafeBytes { binary ? try BinaryValueDecoder.append($0, to: &vector) : try text($0, &vector) }
        }
    }

    /// Appends a value the reader wrote to a file: where the value is its bytes, a streamed value
    /// the writer reads from the file when it writes the row (never in memory), with a NULL in its
    /// place in the vector; other kinds are read and decoded as usual.
    private static func appendLargeValueFile(
        _ file: LargeValueFile, binary: Bool, into seg: inout ChangeSegment, column c: Int,
        text: (UnsafeRawBufferPointer, inout ColumnVector) throws -> Void
    ) throws {
        var skip = 0
        switch seg.values.columns[c].kind {
        case .text, .json, .textCast:
            break
        case .bytea where binary:
            break
        case .jsonb:
            if binary {
                guard try file.firstByte() == 1 else { throw ValueDecodingError(kind: .jsonb, reason: "jsonb version byte is not 1") }
                skip = 1
            }
        default:
            let bytes = try file.readAll()
            try bytes.withUnsafeBytes { binary ? try BinaryValueDecoder.append($0, to: &seg.values.columns[c]) : try text($0, &seg.values.columns[c]) }
            return
        }
        seg.values.columns[c].appendNull()
        let offset = skip
        seg.values.largeValueStreams.append(
            LargeValueStream(row: seg.values.columns[c].count - 1, column: c, count: file.count - offset) { emit in
                try file.read(from: offset, emit)
            })
    }

    static func sameValue(_ a: TupleData, _ b: TupleData, _ column: Int) -> Bool {
        guard column < a.count, column < b.count else { return false }
        switch (a[column], b[column]) {
        case (.null, .null), (.unchangedToast, .unchangedToast): return true
        case (.unchangedToast, _), (_, .unchangedToast): return true  // unchanged means the same
        case (.text(let x), .text(let y)), (.binary(let x), .binary(let y)): return a.bytes[x] == b.bytes[y]
        default: return false
        }
    }
}

/// The change stream did something the protocol does not allow, or named what we do not know.
public enum ChangeStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    case protocolOrder(String)
    case unknownRelation(UInt32)
    case columnCount(table: String, expected: Int, got: Int)
    case binaryValueOfTextType(table: String, column: String)

    public var description: String {
        switch self {
        case .protocolOrder(let what): "change stream out of order: \(what)"
        case .unknownRelation(let oid): "change for relation \(oid) before its Relation message"
        case .columnCount(let table, let expected, let got): "change for \(table) has \(got) columns, its relation has \(expected)"
        case .binaryValueOfTextType(let table, let column):
            "column \(column) of \(table) arrived in binary but is read as text (it was added or retyped during the cycle); the next cycle reads the stream as text"
        }
    }
}
