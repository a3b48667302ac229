import Foundation
import Logging
import ObjectStore
import Replication
import Synchronization

/// Hands the next unit to whichever reader is free.
actor TableQueue {
    private let units: [LoadUnit]
    private var position = 0
    init(_ units: [LoadUnit]) { self.units = units }
    /// The next unit in order (an index, not removeFirst: that moved every unit left behind, a
    /// cost in the square of the tables).
    func next() -> LoadUnit? {
        guard position < units.count else { return nil }
        defer { position += 1 }
        return units[position]
    }
}

/// One piece of the full load read by one connection: a whole table (`pages` nil) or one page
/// range of it.
struct LoadUnit: Sendable {
    let load: TableLoad
    let pages: PageRange?
    /// The row group size of its files (the readers share ``EngineSettings/fullLoadRowGroupBudget``).
    var rowGroupBytes = 0
}

/// What the units of one table share: the leftovers removed once before any of them writes, one
/// sequence of LOAD file numbers, and the totals, complete when the last unit ends.
final class TableLoad: Sendable {
    let table: TableDescription
    let rangeCount: Int
    /// The order columns' values of every row of the table's LOAD set.
    let order: RowOrder

    /// What the table's units update as they go.
    private struct Progress {
        var prepared = false
        var firstIndex = 1
        var existing: [ObjectInfo] = []
        var fileCount = 0
        var remaining: Int
        var rows: Int64 = 0
        var files: [StoredObject] = []
        var started: ContinuousClock.Instant?
        var fileRows: [String: Int64] = [:]
        var fileStatistics: [String: [ParquetColumnSummary]] = [:]
        var failed = false
    }
    private let progress: Mutex<Progress>

    init(table: TableDescription, ranges: Int, order: RowOrder) {
        self.table = table
        self.order = order
        self.rangeCount = ranges
        self.progress = Mutex(Progress(remaining: ranges))
    }

    /// Runs `prepare` (list and remove leftovers; returns the first file number and the old
    /// objects) for the first unit to arrive; the others wait for it. Returns the first number.
    func prepareOnce(_ prepare: () throws -> (Int, [ObjectInfo])) throws -> Int {
        try progress.withLock { p in
            if !p.prepared {
                (p.firstIndex, p.existing) = try prepare()
                p.prepared = true
                p.started = .now
            }
            return p.firstIndex
        }
    }

    var firstIndex: Int { progress.withLock { $0.firstIndex } }
    /// Whether a unit of the table failed (the table is in state `error`).
    var failed: Bool { progress.withLock { $0.failed } }
    /// Marks the table failed; true for the first unit to do so.
    func markFailed() -> Bool {
        progress.withLock { p in
            defer { p.failed = true }; return !p.failed
        }
    }
    var existing: [ObjectInfo] { progress.withLock { $0.existing } }
    /// Records the rows of a stored LOAD file (the Iceberg manifests carry each file's row count).
    func recordRows(_ rows: Int64, of key: String, statistics: [ParquetColumnSummary] = []) {
        progress.withLock {
            $0.fileRows[key] = rows; $0.fileStatistics[key] = statistics
        }
    }
    /// The column statistics of a stored LOAD file (for its Iceberg manifest entry).
    func statistics(of key: String) -> [ParquetColumnSummary] { progress.withLock { $0.fileStatistics[key] ?? [] } }
    /// The rows of a stored LOAD file.
    func rows(of key: String) -> Int64 { progress.withLock { $0.fileRows[key] ?? 0 } }
    var rows: Int64 { progress.withLock { $0.rows } }
    var files: [StoredObject] { progress.withLock { $0.files.sorted { $0.key < $1.key } } }
    var started: ContinuousClock.Instant { progress.withLock { $0.started ?? .now } }
    func rowsSoFar(plus rows: Int64) -> Int64 { progress.withLock { $0.rows + rows } }

    /// The next file's offset from ``firstIndex``: the table's files are numbered without gaps.
    func nextFileOffset() -> Int {
        progress.withLock { p in
            defer { p.fileCount += 1 }
            return p.fileCount
        }
    }

    /// Records a finished unit; true for the table's last one.
    func rangeDone(rows: Int64, files: [StoredObject]) -> Bool {
        progress.withLock { p in
            p.rows += rows
            p.files += files
            p.remaining -= 1
            return p.remaining == 0
        }
    }
}
