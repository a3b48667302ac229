import Foundation
import Logging
import PGClient

/// The full load's side of PostgreSQL: one consistent snapshot, exported by a new replication
/// slot (or a temporary one, or none for a reload), the reader connections inside it, and the
/// plan that cuts the tables into page ranges. Everything of it is opened by ``open(_:tables:logger:)``
/// on one dedicated thread; each ``Reader`` then goes to a thread of its own. The connection that
/// exported the snapshot (``holder``) must live until the last reader is done.
public struct SnapshotSession: Sendable {
    /// How the snapshot is taken.
    public enum Mode: Sendable {
        /// A plain exported snapshot (`full-load` reload): no slot is created, none is left behind.
        case plainSnapshot
        /// The slot stays; a temporary slot gives a fresh snapshot for the tables left or added.
        case temporarySlot
        /// The slot is created now (a leftover of ours no checkpoint knows is dropped first).
        case newSlot
    }

    /// What the session needs to know.
    public struct Options: Sendable {
        public var conninfo: String
        public var slot: ReplicationSlot
        public var mode: Mode
        /// Reader connections at most (`[task] parallel_tables`).
        public var parallelTables: Int
        /// A table of at least twice this many pages is read as page ranges.
        public var minRangePages: Int

        public init(conninfo: String, slot: ReplicationSlot, mode: Mode, parallelTables: Int, minRangePages: Int) {
            self.conninfo = conninfo; self.slot = slot; self.mode = mode
            self.parallelTables = parallelTables; self.minRangePages = minRangePages
        }
    }

    /// One table of the plan and the pieces it is read in: one whole (`[nil]`) or page ranges.
    public struct PlannedTable: Sendable {
        public var table: TableDescription
        public var ranges: [PageRange?]
    }

    /// Tables a reader copies in one transaction before it commits and imports the snapshot again
    /// in a new one: a transaction holds a lock on every table it read until it ends, and
    /// PostgreSQL's lock table (`max_locks_per_transaction` x connections, 6,400 by default) would
    /// not hold thousands of tables' locks.
    public static let tablesPerSnapshotTransaction = 500

    /// The connection that holds the snapshot (and a temporary slot) open.
    public let holder: TransferredValue<PGConnection>
    /// The reader connections, each inside the snapshot; one thread each.
    public let readers: [TransferredValue<Reader>]
    /// The tables, largest first, so the long ones start early.
    public let plan: [PlannedTable]
    /// The snapshot's position: changes committed before it are in the snapshot.
    public let consistentPoint: LSN
    /// `IDENTIFY_SYSTEM`'s system id.
    public let systemID: String
    /// The exported snapshot's name.
    public let snapshotName: String

    /// Takes the snapshot, opens the readers inside it and plans the tables. Blocking.
    public static func open(_ options: Options, tables: [TableDescription], logger: Logger) throws -> SnapshotSession {
        let conninfo = options.conninfo
        let holder: PGConnection, snapshot: String, consistentPoint: LSN, systemID: String
        switch options.mode {
        case .plainSnapshot:
            holder = try PGConnection(conninfo: conninfo)
            try holder.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            guard let exported = try holder.query("SELECT pg_export_snapshot()").rows.first?[0] ?? nil else {
                throw PGError(.protocolViolation, "pg_export_snapshot() returned nothing")
            }
            snapshot = exported
            let lsn = try holder.query("SELECT pg_current_wal_lsn()::text").rows.first?[0].flatMap { $0 }
            consistentPoint = try LSN(serverText: lsn ?? "", from: "pg_current_wal_lsn()")
            systemID = try PGConnection(conninfo: conninfo, replication: true).identifySystem().systemID
        case .temporarySlot, .newSlot:
            holder = try PGConnection(conninfo: conninfo, replication: true)
            systemID = try holder.identifySystem().systemID
            let slot: PGConnection.CreatedSlot
            if options.mode == .temporarySlot {
                slot = try holder.createLogicalSlot("\(options.slot.name)_resume_\(getpid())", exportSnapshot: true, temporary: true)
            } else {
                if try options.slot.isLeftoverToDrop(on: PGConnection(conninfo: conninfo)) {
                    logger.notice("dropping a replication slot no checkpoint knows", metadata: ["slot.name": "\(options.slot.name)"])
                    try holder.dropSlot(options.slot.name)
                }
                slot = try holder.createLogicalSlot(options.slot.name, exportSnapshot: true)
            }
            guard let exported = slot.snapshotName else {
                throw PGError(.protocolViolation, "CREATE_REPLICATION_SLOT exported no snapshot")
            }
            snapshot = exported
            consistentPoint = try LSN(serverText: slot.consistentPoint, from: "CREATE_REPLICATION_SLOT")
        }
        let (readers, plan) = try openReaders(snapshot: snapshot, tables: tables, options: options)
        return SnapshotSession(
            holder: TransferredValue(holder), readers: readers, plan: plan, consistentPoint: consistentPoint,
            systemID: systemID, snapshotName: snapshot)
    }

    /// Opens the reader connections, each inside `snapshot`, and cuts the tables into the pieces
    /// they share: a table of at least two ``Options/minRangePages`` pages is read as page ranges
    /// (a TID range scan, PostgreSQL 14+) by up to ``Options/parallelTables`` connections at once;
    /// the others whole. Largest first, so the long ones start early.
    private static func openReaders(snapshot: String, tables: [TableDescription], options: Options) throws -> ([TransferredValue<Reader>], [PlannedTable]) {
        let budget = max(1, options.parallelTables)
        let first = try PGConnection(conninfo: options.conninfo)
        func integer(_ sql: String, _ parameters: [String] = []) throws -> Int {
            let value: String?? = try first.query(sql, parameters).rows.first?[0]
            return (value ?? nil).flatMap { Int($0) } ?? 0
        }
        // The sizes are taken before the snapshot's transaction, each statement a batch of
        // tables: the locks pg_relation_size takes go with each statement, and there is one round
        // trip per batch rather than per table. (A size is physical: the snapshot does not change it.)
        var pagesByOID: [UInt32: Int] = [:]
        let tidRangeScans = try budget > 1 && integer("SHOW server_version_num") >= 140_000
        if tidRangeScans {
            for start in stride(from: 0, to: tables.count, by: 500) {
                let oids = tables[start..<min(tables.count, start + 500)].map { String($0.oid) }.joined(separator: ",")
                let result = try first.query(
                    "SELECT o, pg_relation_size(o::regclass) / current_setting('block_size')::bigint FROM unnest($1::oid[]) AS o",
                    ["{\(oids)}"])
                for row in result.rows {
                    if let oid = row[0].flatMap({ UInt32($0) }), let pages = row[1].flatMap({ Int($0) }) { pagesByOID[oid] = pages }
                }
            }
        }
        try SnapshotReader.enterSnapshot(snapshot, on: first)
        let sized: [(table: TableDescription, pages: Int)] = tables.map { ($0, pagesByOID[$0.oid] ?? 0) }
        var plan: [PlannedTable] = []
        var pieces = 0
        let sorted = sized.sorted { ($0.pages, $0.table.estimatedRows) > ($1.pages, $1.table.estimatedRows) }
        for (table, pages) in sorted {
            let count = min(budget, pages / max(1, options.minRangePages))
            let ranges: [PageRange?] = count >= 2 ? PageRange.split(pages: pages, into: count) : [nil]
            plan.append(PlannedTable(table: table, ranges: ranges))
            pieces += ranges.count
        }
        let readerCount = max(1, min(budget, pieces))
        var readers = [TransferredValue(Reader(connection: first, snapshot: snapshot, conninfo: options.conninfo))]
        for _ in 1..<readerCount {
            let reader = try PGConnection(conninfo: options.conninfo)
            try SnapshotReader.enterSnapshot(snapshot, on: reader)
            readers.append(TransferredValue(Reader(connection: reader, snapshot: snapshot, conninfo: options.conninfo)))
        }
        return (readers, plan)
    }

    /// One reader connection inside the snapshot: COPYs a table (or a page range of one) into
    /// batches. Used by one thread at a time.
    public final class Reader {
        private var connection: PGConnection
        private let snapshot: String
        private let conninfo: String
        private var tablesInTransaction = 0

        init(connection: PGConnection, snapshot: String, conninfo: String) {
            self.connection = connection
            self.snapshot = snapshot
            self.conninfo = conninfo
        }

        /// Counts the next table or range read; every ``SnapshotSession/tablesPerSnapshotTransaction``
        /// the transaction is committed and the snapshot imported again in a new one.
        public func beginPiece() throws {
            if tablesInTransaction == SnapshotSession.tablesPerSnapshotTransaction {
                try connection.query("COMMIT")
                try SnapshotReader.enterSnapshot(snapshot, on: connection)
                tablesInTransaction = 0
            }
            tablesInTransaction += 1
        }

        /// Reads `table` (or its `pages`) in batches of `batchRows` rows; large values are left to
        /// the batch's consumer to read in pieces on this connection (see
        /// ``SnapshotReader/streamsLargeValues``). Returns the rows read.
        public func read(
            _ table: TableDescription, pages: PageRange?, batchRows: Int,
            onBatch: (inout ColumnBatch) throws -> Void
        ) throws -> Int64 {
            var reader = SnapshotReader(connection: connection, batchRows: batchRows)
            reader.streamsLargeValues = true
            return try reader.read(table, pages: pages, onBatch: onBatch)
        }

        /// After a failed read (its COPY cancelled, which ends the transaction): a new connection
        /// enters the same snapshot for the pieces left. The failed piece counts in the new transaction.
        public func reopen() throws {
            let fresh = try PGConnection(conninfo: conninfo)
            try SnapshotReader.enterSnapshot(snapshot, on: fresh)
            connection = fresh
            tablesInTransaction = 1
        }

        /// Ends the reader's transaction.
        public func finish() throws {
            try connection.query("COMMIT")
        }
    }
}
