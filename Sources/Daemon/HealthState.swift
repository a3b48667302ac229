import Foundation
import ObjectStore
import Replication

/// What the service knows about its own progress, fed by the scheduler and read by `/health`,
/// `/metrics` and the sd_notify status line. A value type without I/O or clock: every event carries
/// its time, so the health rules are tested with made-up times.
public struct HealthState: Sendable {
    /// Time between the starts of two cycles.
    public var interval: Duration
    /// When the service started (the reference for "no successful cycle within two intervals").
    public var startedAt: Date
    /// `full_load` or `cdc`, from the checkpoint (or what the first cycle will do).
    public var phase: Checkpoint.Phase
    /// The replication slot (its name is no secret).
    public var slot: String
    /// When the running cycle began; nil between cycles.
    public var cycleStartedAt: Date?
    /// The last finished cycle.
    public var lastCycle: FinishedCycle?
    /// The start and end of the last cycle that succeeded. Changes committed before its start are
    /// stored, so `now - lastSuccessStart` bounds the lag in seconds.
    public var lastSuccessStart: Date?
    public var lastSuccessEnd: Date?
    /// The last failure, kept after later successes so an operator can still read it.
    public var lastError: Failure?
    /// Failed cycles since the last success.
    public var consecutiveFailures = 0
    /// An error that cannot heal: the service reports it, then exits non-zero.
    public var fatal: Failure?
    /// The checkpoint after the last cycle (per-table statistics).
    public var checkpoint: Checkpoint?
    /// Figures asked of the server after the last cycle.
    public var server: ServerPosition?
    /// Retries (failed cycles followed by another try) since start.
    public var retries = 0
    /// Failures since start by kind.
    public var errorsByKind: [String: Int] = [:]
    /// `[task] migration_type` (`full-load-and-cdc`, `full-load`, `cdc`); nil when not told.
    public var migrationType: String?
    /// The configuration file the service runs with (shown in the `reload-table` command of a table in error).
    public var configPath: String?
    /// The running full load's progress, refreshed when a report is made; nil when none runs.
    public var fullLoad: FullLoadProgress.Snapshot?
    /// The recent cycles, for the status page's charts.
    public var history = CycleHistory()

    public init(interval: Duration, startedAt: Date, phase: Checkpoint.Phase, slot: String) {
        self.interval = interval; self.startedAt = startedAt; self.phase = phase; self.slot = slot
    }

    /// A cycle that ended.
    public struct FinishedCycle: Sendable, Equatable {
        public enum Outcome: String, Sendable { case success, failure }
        public var started: Date
        public var ended: Date
        public var outcome: Outcome
        /// `full_load` or `cdc`: what the cycle did (for failures, what it was about to do).
        public var kind: Checkpoint.Phase
        public var files = 0
        public var rows = 0
    }

    /// A failure, classified, with a message safe to show (no secrets, no row values).
    public struct Failure: Sendable, Equatable {
        public var kind: ErrorKind
        public var message: String
        public var at: Date
    }

    /// Where the server and the slot are.
    public struct ServerPosition: Sendable, Equatable {
        /// `pg_current_wal_lsn()`.
        public var walLSN: String
        /// Bytes of WAL between the confirmed LSN and the server's position; nil before a checkpoint.
        public var lagBytes: Int64?
        /// WAL the slot keeps on the server (`pg_current_wal_lsn() - restart_lsn`); nil without a slot.
        public var retainedWALBytes: Int64?

        public init(walLSN: String, lagBytes: Int64?, retainedWALBytes: Int64?) {
            self.walLSN = walLSN; self.lagBytes = lagBytes; self.retainedWALBytes = retainedWALBytes
        }
    }

    // MARK: Events

    /// A cycle begins.
    public mutating func cycleStarted(at now: Date) {
        cycleStartedAt = now
    }

    /// A cycle ended well.
    public mutating func cycleSucceeded(at now: Date, kind: Checkpoint.Phase, files: Int, rows: Int, checkpoint: Checkpoint?) {
        let started = cycleStartedAt ?? now
        lastCycle = FinishedCycle(started: started, ended: now, outcome: .success, kind: kind, files: files, rows: rows)
        lastSuccessStart = started
        lastSuccessEnd = now
        consecutiveFailures = 0
        cycleStartedAt = nil
        if let checkpoint { self.checkpoint = checkpoint; phase = checkpoint.phase }
    }

    /// A cycle failed; `fatal` when retrying cannot help.
    public mutating func cycleFailed(at now: Date, kind: ErrorKind, message: String, fatal isFatal: Bool, checkpoint: Checkpoint?) {
        let started = cycleStartedAt ?? now
        lastCycle = FinishedCycle(started: started, ended: now, outcome: .failure, kind: phase)
        let failure = Failure(kind: kind, message: SecretScrubber.scrub(message), at: now)
        lastError = failure
        consecutiveFailures += 1
        errorsByKind[kind.rawValue, default: 0] += 1
        if isFatal { fatal = failure }
        cycleStartedAt = nil
        if let checkpoint { self.checkpoint = checkpoint; phase = checkpoint.phase }
    }

    /// A retry is about to happen.
    public mutating func retrying() { retries += 1 }

    /// Records the last finished cycle in ``history`` with the lag measured after it.
    public mutating func recordCycle(at now: Date) {
        guard let cycle = lastCycle else { return }
        history.append(
            .init(
                at: cycle.ended, kind: cycle.kind.rawValue, outcome: cycle.outcome.rawValue, rows: cycle.rows,
                lagBytes: server?.lagBytes, lagSeconds: lagSeconds(at: now)))
    }

    /// The task's state in the words of DMS's console: "Starting", "Running (full load)",
    /// "Load complete", "Load complete, replication ongoing", "Replication ongoing", "Failed".
    public func taskStatus(at now: Date) -> String {
        if fatal != nil { return "Failed" }
        let retrying = consecutiveFailures > 0 ? ", retrying" : ""
        if phase == .fullLoad && (cycleStartedAt != nil || fullLoad != nil) { return "Running (full load)" + retrying }
        guard lastSuccessEnd != nil else { return "Starting" + retrying }
        switch migrationType {
        case "full-load": return "Load complete" + retrying
        case "cdc": return "Replication ongoing" + retrying
        default: return (phase == .cdc ? "Load complete, replication ongoing" : "Running (full load)") + retrying
        }
    }

    // MARK: Rules

    /// Why the service is not healthy at `now`; empty when it is. The rules of the contract: an
    /// error that cannot heal, the last cycle failed (the source or the store unreachable), or no
    /// successful cycle within two intervals, except while a full load that has not failed runs.
    public func problems(at now: Date) -> [String] {
        var problems: [String] = []
        if let fatal { problems.append("cannot continue (\(fatal.kind.rawValue)): \(fatal.message)") }
        if fatal == nil, consecutiveFailures > 0, let lastError {
            problems.append("\(consecutiveFailures) cycle(s) failed in a row, last (\(lastError.kind.rawValue)): \(lastError.message)")
        }
        let loading = cycleStartedAt != nil && phase == .fullLoad && consecutiveFailures == 0
        let reference = lastSuccessEnd ?? startedAt
        let limit = 2 * interval.seconds
        let since = now.timeIntervalSince(reference)
        if !loading, since > limit {
            problems.append("no successful cycle within two intervals (\(Int(since)) s since \(lastSuccessEnd == nil ? "start" : "the last one"))")
        }
        return problems
    }

    /// Seconds of changes that may not be stored yet: `now` minus the start of the last successful
    /// cycle (every change committed before a cycle's start is stored when it succeeds); nil
    /// before the first success.
    public func lagSeconds(at now: Date) -> Double? {
        lastSuccessStart.map { max(0, now.timeIntervalSince($0)) }
    }

    /// The `/health` body at `now`; without its per-table part when `withTables` is false (the
    /// status line after each cycle needs none, and an idle cycle does no per-table work).
    public func report(at now: Date, withTables: Bool = true) -> HealthReport {
        let problems = problems(at: now)
        var tables: [String: HealthReport.Table] = [:]
        for (name, t) in withTables ? checkpoint?.tables ?? [:] : [:] {
            tables[name] = HealthReport.Table(
                status: t.status.rawValue, full_load_rows: t.fullLoadRows, inserts: t.inserts, updates: t.updates,
                deletes: t.deletes, truncates: t.truncates, files_written: t.filesWritten, bytes_written: t.bytesWritten,
                last_change_lsn: t.lastChangeLSN?.description,
                last_change_time: t.lastChangeTime.map { HealthReport.iso(Date(timeIntervalSince1970: Double($0) / 1_000_000)) },
                error: t.errorMessage.map(SecretScrubber.scrub),
                progress: fullLoad?.tables[name].flatMap { $0.done ? nil : HealthReport.TableProgress($0) })
        }
        // Tables the running full load reads that no checkpoint lists yet.
        for (name, p) in withTables ? fullLoad?.tables ?? [:] : [:] where tables[name] == nil {
            tables[name] = HealthReport.Table(
                status: p.done ? "replicating" : "loading", full_load_rows: p.done ? p.rows : 0, inserts: 0, updates: 0, deletes: 0,
                truncates: 0, files_written: 0, bytes_written: 0, progress: p.done ? nil : HealthReport.TableProgress(p))
        }
        return HealthReport(
            status: problems.isEmpty ? "ok" : "unhealthy",
            problems: problems,
            phase: phase.rawValue,
            slot: slot,
            started_at: HealthReport.iso(startedAt),
            cycle_running_since: cycleStartedAt.map(HealthReport.iso),
            last_cycle: lastCycle.map {
                .init(
                    started: HealthReport.iso($0.started), ended: HealthReport.iso($0.ended), outcome: $0.outcome.rawValue,
                    kind: $0.kind.rawValue, duration_seconds: $0.ended.timeIntervalSince($0.started), files: $0.files, rows: $0.rows)
            },
            last_success: lastSuccessEnd.map(HealthReport.iso),
            consecutive_failures: consecutiveFailures,
            last_error: lastError.map { .init(kind: $0.kind.rawValue, message: $0.message, at: HealthReport.iso($0.at)) },
            confirmed_lsn: checkpoint?.confirmedLSN.description,
            server_wal_lsn: server?.walLSN,
            lag_bytes: server?.lagBytes,
            lag_seconds: lagSeconds(at: now).map { ($0 * 1000).rounded() / 1000 },
            retained_wal_bytes: server?.retainedWALBytes,
            tables: tables,
            task_status: taskStatus(at: now),
            migration_type: migrationType,
            config_path: configPath,
            full_load: fullLoad.map(HealthReport.FullLoad.init))
    }
}

/// Removes what could be a secret from a message before it is shown (`password=...` of a conninfo,
/// a URL's user info, AWS secret-looking query parameters).
public enum SecretScrubber {
    public static func scrub(_ text: String) -> String {
        var out = text
        let rules: [(pattern: String, template: String)] = [
            (#"(?i)(password\s*=\s*)('[^']*'|\S+)"#, "$1***"),
            (#"(?i)(://[^/@\s:]+:)[^@\s/]+(@)"#, "$1***$2"),
            (#"(?i)(X-Amz-Signature=|X-Amz-Security-Token=|AWSAccessKeyId=|Signature=)[^&\s]+"#, "$1***"),
        ]
        for rule in rules {
            guard let regex = try? NSRegularExpression(pattern: rule.pattern) else { continue }
            out = regex.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: rule.template)
        }
        return out
    }
}

/// The `GET /health` JSON body (snake_case keys, times in ISO 8601 UTC).
public struct HealthReport: Codable, Sendable, Equatable {
    public var status: String
    public var problems: [String]
    public var phase: String
    public var slot: String
    public var started_at: String
    public var cycle_running_since: String?
    public var last_cycle: Cycle?
    public var last_success: String?
    public var consecutive_failures: Int
    public var last_error: ErrorBody?
    public var confirmed_lsn: String?
    public var server_wal_lsn: String?
    public var lag_bytes: Int64?
    public var lag_seconds: Double?
    public var retained_wal_bytes: Int64?
    public var tables: [String: Table]
    /// The task's state as DMS's console words it (``HealthState/taskStatus(at:)``).
    public var task_status: String? = nil
    public var migration_type: String? = nil
    /// The configuration file the service runs with (for the `reload-table` command).
    public var config_path: String? = nil
    /// The running full load, all tables; absent when none runs.
    public var full_load: FullLoad? = nil

    public struct Cycle: Codable, Sendable, Equatable {
        public var started: String, ended: String, outcome: String, kind: String
        public var duration_seconds: Double, files: Int, rows: Int
    }
    public struct ErrorBody: Codable, Sendable, Equatable { public var kind: String, message: String, at: String }
    public struct Table: Codable, Sendable, Equatable {
        public var status: String
        public var full_load_rows, inserts, updates, deletes, truncates, files_written, bytes_written: Int64
        public var last_change_lsn: String?
        public var last_change_time: String?
        public var error: String?
        /// While the table is being loaded: rows so far, estimate, rate and ETA.
        public var progress: TableProgress? = nil
    }
    /// A table's full-load progress.
    public struct TableProgress: Codable, Sendable, Equatable {
        public var rows: Int64
        public var estimated_rows: Int64?
        public var percent: Double?
        public var rows_per_second: Double
        public var eta_seconds: Double?

        init(_ p: FullLoadProgress.Snapshot.Table) {
            rows = p.rows; estimated_rows = p.estimatedRows; percent = p.percent.map { ($0 * 10).rounded() / 10 }
            rows_per_second = p.rowsPerSecond.rounded(); eta_seconds = p.etaSeconds.map { $0.rounded() }
        }
    }
    /// The whole full load's progress.
    public struct FullLoad: Codable, Sendable, Equatable {
        public var started: String
        public var rows: Int64
        public var estimated_rows: Int64?
        public var percent: Double?
        public var rows_per_second: Double
        public var eta_seconds: Double?
        public var tables_loaded: Int
        public var tables_total: Int

        init(_ p: FullLoadProgress.Snapshot) {
            started = HealthReport.iso(p.started); rows = p.rows; estimated_rows = p.estimatedRows
            percent = p.percent.map { ($0 * 10).rounded() / 10 }; rows_per_second = p.rowsPerSecond.rounded()
            eta_seconds = p.etaSeconds.map { $0.rounded() }; tables_loaded = p.tablesLoaded; tables_total = p.tablesTotal
        }
    }

    /// Whether `/health` answers 200.
    public var healthy: Bool { status == "ok" }

    /// Pretty JSON, keys sorted; fields without a value yet (nil) are left out.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// `2026-11-25T14:43:38.545Z`. A format style is a value (Sendable, made once); a formatter
    /// object per call cost 0.1 ms, so 100 ms for the status page of 1,000 tables.
    static func iso(_ date: Date) -> String { isoStyle.format(date) }
    private static let isoStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
