import Foundation
import Synchronization

/// How far the running full load is, for a person: per table the rows copied so far against
/// PostgreSQL's estimate (`pg_class.reltuples`), the rate and an ETA, and the same for the whole
/// load. The readers count rows into it as they go (one lock per batch of thousands of rows);
/// `/health`, `replicatord status`, the status page and the progress log read snapshots of it.
///
/// Estimates are estimates: a table that turns out larger than its estimate shows 99 % and no ETA
/// until it ends; a table never analyzed (no estimate) shows its rows and rate only.
public final class FullLoadProgress: Sendable {
    private struct Entry {
        var estimatedRows: Int64?
        var rows: Int64 = 0
        var started: Date?
        var finished: Date?
    }
    private struct Load {
        var started: Date
        var tables: [String: Entry]
    }
    private let load = Mutex<Load?>(nil)

    public init() {}

    /// A full load of `tables` (name `schema.table`, estimated rows, negative when unknown) begins.
    public func begin(tables: [(name: String, estimatedRows: Int64)], at now: Date = Date()) {
        var entries: [String: Entry] = [:]
        for table in tables { entries[table.name] = Entry(estimatedRows: table.estimatedRows >= 0 ? table.estimatedRows : nil) }
        load.withLock { $0 = Load(started: now, tables: entries) }
    }

    /// `rows` more rows of `table` were read.
    public func add(table: String, rows: Int64, at now: Date = Date()) {
        load.withLock { load in
            guard load != nil else { return }
            var entry = load!.tables[table] ?? Entry()
            if entry.started == nil { entry.started = now }
            entry.rows += rows
            load!.tables[table] = entry
        }
    }

    /// `table` is loaded, with exactly `rows` rows.
    public func finish(table: String, rows: Int64, at now: Date = Date()) {
        load.withLock { load in
            guard load != nil else { return }
            var entry = load!.tables[table] ?? Entry()
            if entry.started == nil { entry.started = now }
            entry.rows = rows
            entry.finished = now
            load!.tables[table] = entry
        }
    }

    /// The load ended (done or failed): nothing is running any more.
    public func end() {
        load.withLock { $0 = nil }
    }

    /// The figures at `now`; nil when no full load runs.
    public func snapshot(at now: Date = Date()) -> Snapshot? {
        guard let load = load.withLock({ $0 }) else { return nil }
        var tables: [String: Snapshot.Table] = [:]
        var rows: Int64 = 0, remaining: Int64 = 0, estimated: Int64 = 0
        var unknown = false
        for (name, entry) in load.tables {
            let done = entry.finished != nil
            let elapsed = entry.started.map { max(0.001, (entry.finished ?? now).timeIntervalSince($0)) }
            let rate = elapsed.map { Double(entry.rows) / $0 } ?? 0
            var percent: Double? = nil
            var eta: Double? = nil
            if done {
                percent = 100; eta = 0
            } else if let total = entry.estimatedRows {
                percent = total > 0 ? min(99, 100 * Double(entry.rows) / Double(total)) : (entry.rows > 0 ? 99 : 0)
                if entry.rows < total, rate > 0 { eta = Double(total - entry.rows) / rate }
            }
            tables[name] = .init(
                rows: entry.rows, estimatedRows: entry.estimatedRows, percent: percent,
                rowsPerSecond: rate, etaSeconds: eta, done: done)
            rows += entry.rows
            if let total = entry.estimatedRows { estimated += done ? entry.rows : max(total, entry.rows) }
            if !done {
                if let total = entry.estimatedRows { remaining += max(0, total - entry.rows) } else { unknown = true }
            }
        }
        let elapsed = max(0.001, now.timeIntervalSince(load.started))
        let rate = Double(rows) / elapsed
        let loaded = tables.values.filter(\.done).count
        let overallETA: Double? = unknown ? nil : loaded == tables.count ? 0 : rate > 0 ? Double(remaining) / rate : nil
        let percent: Double? = unknown ? nil : estimated > 0 ? min(loaded == tables.count ? 100 : 99, 100 * Double(rows) / Double(estimated)) : nil
        return Snapshot(
            started: load.started, rows: rows, estimatedRows: unknown ? nil : estimated, percent: percent,
            rowsPerSecond: rate, etaSeconds: overallETA, tablesLoaded: loaded, tablesTotal: tables.count, tables: tables)
    }

    /// The full load's figures at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// When the load began.
        public var started: Date
        /// Rows read so far, all tables.
        public var rows: Int64
        /// Rows expected in all: loaded tables' counts plus the others' estimates; nil when a table has none.
        public var estimatedRows: Int64?
        /// 0...100; nil without estimates.
        public var percent: Double?
        /// Rows per second since the load began.
        public var rowsPerSecond: Double
        /// Seconds left at the current rate; nil when it cannot be told.
        public var etaSeconds: Double?
        public var tablesLoaded: Int
        public var tablesTotal: Int
        /// Per table, keyed `schema.table`.
        public var tables: [String: Table]

        /// One table's figures.
        public struct Table: Sendable, Equatable {
            public var rows: Int64
            public var estimatedRows: Int64?
            public var percent: Double?
            /// Rows per second since the table's first rows (to its end once loaded).
            public var rowsPerSecond: Double
            public var etaSeconds: Double?
            public var done: Bool
        }
    }
}
