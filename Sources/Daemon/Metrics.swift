import Foundation
import Prometheus
import Replication

/// The `/metrics` figures in the Prometheus text format, kept in a swift-prometheus registry.
///
/// Per-table figures come from the checkpoint, whose statistics only grow: the counters here are
/// increased by the difference since the last checkpoint seen, so they start from the checkpoint's
/// totals when the process starts and never go down while it runs.
///
/// Metrics (all prefixed `replicatord_`):
/// - `rows_written_total{table,op}` counter, op = `load`, `insert`, `update`, `delete`, `truncate`
/// - `bytes_written_total{table}`, `files_stored_total{table}` counters
/// - `full_load_rows{table}` gauge: rows in the table's LOAD files
/// - `table_state{table,state}` gauge: 1 for the table's state (`loading`, `replicating`, `error`)
/// - `cycle_duration_seconds{kind}` histogram, `cycles_total{kind,outcome}` counter
/// - `last_success_timestamp_seconds` gauge
/// - `confirmed_lsn`, `server_wal_lsn` gauges: WAL positions as byte numbers
/// - `lag_bytes`, `lag_seconds`, `slot_retained_wal_bytes` gauges
/// - `retries_total` counter, `errors_total{kind}` counter
/// - `healthy` gauge: 1 when `/health` answers 200
/// - while a full load runs: `full_load_rows_read{table}` (rows read so far), `full_load_rows_per_second`
///   and `full_load_eta_seconds` (the whole load; absent when no estimate allows one)
final class ReplicationMetrics {
    let registry = PrometheusCollectorRegistry()
    /// The per-table families (see ``LabeledFamilies``: the registry's cost per new series is
    /// quadratic in a family's size).
    private var perTable = LabeledFamilies([
        ("replicatord_rows_written_total", .counter, "Rows written to Parquet files that are stored, by table and operation."),
        ("replicatord_bytes_written_total", .counter, "Bytes of Parquet files stored, by table."),
        ("replicatord_files_stored_total", .counter, "Parquet files stored, by table."),
        ("replicatord_full_load_rows", .gauge, "Rows in the table's LOAD files."),
        ("replicatord_table_state", .gauge, "1 for the table's replication state."),
        ("replicatord_full_load_rows_read", .gauge, "Rows of the table read by the running full load."),
    ])
    private var seen: [String: Int64] = [:]
    private var errorsSeen: [String: Int] = [:]
    private var retriesSeen = 0
    private var lastCycleSeen: HealthState.FinishedCycle?

    private let cycleBuckets: [Duration] = [
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(1800), .seconds(7200),
    ]

    init() {
        // Present from the first scrape, so dashboards and alerts see zeros rather than nothing.
        _ = counter(name: "replicatord_retries_total", help: "Failed cycles that were tried again.")
        for kind in ErrorKind.allCases {
            _ = counter(name: "replicatord_errors_total", labels: [("kind", kind.rawValue)], help: "Failed cycles by kind of error.")
        }
    }

    /// The tables' states as last brought into the registry.
    private var tablesSeen: [String: Checkpoint.TableState] = [:]
    /// Table states brought into the registry since start (a test checks an idle cycle adds none).
    private(set) var tableUpdates = 0

    /// Brings the registry up to `state` at `now`. Only tables whose state differs from the last
    /// one seen are touched; an unchanged checkpoint (an idle cycle: the same dictionary storage)
    /// is recognised without looking at its tables.
    func update(from state: HealthState, at now: Date) {
        let tables = state.checkpoint?.tables ?? [:]
        if tables != tablesSeen {
            updateTables(tables)
            tablesSeen = tables
        }
        updateTotals(from: state, at: now)
    }

    private func updateTables(_ tables: [String: Checkpoint.TableState]) {
        for (table, t) in tables where tablesSeen[table] != t {
            tableUpdates += 1
            for (op, value) in [("load", t.fullLoadRows), ("insert", t.inserts), ("update", t.updates), ("delete", t.deletes), ("truncate", t.truncates)] {
                advance("replicatord_rows_written_total", [("table", table), ("op", op)], to: value)
            }
            advance("replicatord_bytes_written_total", [("table", table)], to: t.bytesWritten)
            advance("replicatord_files_stored_total", [("table", table)], to: t.filesWritten)
            perTable.set("replicatord_full_load_rows", [("table", table)], to: Double(t.fullLoadRows))
            for status in ["loading", "replicating", "error"] {
                perTable.set("replicatord_table_state", [("table", table), ("state", status)], to: t.status.rawValue == status ? 1 : 0)
            }
        }
    }

    private func updateTotals(from state: HealthState, at now: Date) {
        if let cycle = state.lastCycle, cycle != lastCycleSeen {
            lastCycleSeen = cycle
            histogram(
                name: "replicatord_cycle_duration_seconds", labels: [("kind", cycle.kind.rawValue)],
                buckets: cycleBuckets, help: "Duration of cycles (full load or CDC)."
            )
            .record(Duration.milliseconds(Int64(cycle.ended.timeIntervalSince(cycle.started) * 1000)))
            counter(
                name: "replicatord_cycles_total", labels: [("kind", cycle.kind.rawValue), ("outcome", cycle.outcome.rawValue)],
                help: "Cycles ended, by kind and outcome."
            ).increment()
        }
        for (kind, count) in state.errorsByKind where count > errorsSeen[kind, default: 0] {
            counter(name: "replicatord_errors_total", labels: [("kind", kind)], help: "Failed cycles by kind of error.")
                .increment(by: Int64(count - errorsSeen[kind, default: 0]))
            errorsSeen[kind] = count
        }
        if state.retries > retriesSeen {
            counter(name: "replicatord_retries_total", help: "Failed cycles that were tried again.").increment(by: Int64(state.retries - retriesSeen))
            retriesSeen = state.retries
        }
        if let end = state.lastSuccessEnd {
            gauge(name: "replicatord_last_success_timestamp_seconds", help: "Unix time the last successful cycle ended.")
                .set(to: end.timeIntervalSince1970)
        }
        if let confirmed = state.checkpoint.map(\.confirmedLSN) {
            gauge(name: "replicatord_confirmed_lsn", help: "The confirmed (stored) WAL position, as a byte number.").set(to: Double(confirmed.value))
        }
        if let server = state.server {
            if let wal = LSN(server.walLSN) {
                gauge(name: "replicatord_server_wal_lsn", help: "The server's WAL position at the last look, as a byte number.").set(to: Double(wal.value))
            }
            if let lag = server.lagBytes {
                gauge(name: "replicatord_lag_bytes", help: "WAL bytes between the confirmed position and the server's.").set(to: Double(lag))
            }
            if let retained = server.retainedWALBytes {
                gauge(name: "replicatord_slot_retained_wal_bytes", help: "WAL the replication slot keeps on the server.").set(to: Double(retained))
            }
        }
        if let lag = state.lagSeconds(at: now) {
            gauge(name: "replicatord_lag_seconds", help: "Seconds since the start of the last successful cycle (changes before it are stored).").set(to: lag)
        }
        gauge(name: "replicatord_healthy", help: "1 when /health answers 200.").set(to: state.problems(at: now).isEmpty ? 1 : 0)
        perTable.clear("replicatord_full_load_rows_read")
        if let load = state.fullLoad {
            for (table, t) in load.tables {
                perTable.set("replicatord_full_load_rows_read", [("table", table)], to: Double(t.rows))
            }
            gauge(name: "replicatord_full_load_rows_per_second", help: "Rows per second of the running full load, all tables.").set(to: load.rowsPerSecond)
            if let eta = load.etaSeconds {
                gauge(name: "replicatord_full_load_eta_seconds", help: "Seconds the running full load still needs at its rate.").set(to: eta)
            }
        }
    }

    /// The text exposition of every metric.
    func text() -> String { registry.emitToString() + perTable.render() }

    private func counter(name: String, labels: [(String, String)] = [], help: String) -> Counter {
        registry.makeCounter(descriptor: .init(metricName: name, unitName: "", helpText: help), labels: labels)
    }

    private func gauge(name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        registry.makeGauge(descriptor: .init(metricName: name, unitName: "", helpText: help), labels: labels)
    }

    private func histogram(name: String, labels: [(String, String)], buckets: [Duration], help: String) -> DurationHistogram {
        registry.makeDurationHistogram(descriptor: .init(metricName: name, unitName: "", helpText: help), labels: labels, buckets: buckets)
    }

    /// A per-table counter follows a checkpoint figure: it grows by what the figure grew since it
    /// was last seen, so it starts from the checkpoint's totals and never goes down while the
    /// process runs; a reload (`full-load` migrations) starts a table's figures again, and the
    /// counter follows it down silently (it does not move).
    private func advance(_ name: String, _ labels: [(String, String)], to value: Int64) {
        let key = name + labels.map { "|\($0.1)" }.joined()
        let previous = seen[key] ?? 0
        let exposed = perTable.value(name, labels) ?? 0
        perTable.set(name, labels, to: exposed + Double(max(0, value - previous)))
        seen[key] = value
    }
}
