/// `replicatord status`: the checkpoint's per-table statistics as a table a person reads at a
/// glance, like DMS's "Table statistics".
public enum StatusTable {
    public static func render(_ state: Checkpoint) -> String {
        let header = ["table", "state", "full-load rows", "inserts", "updates", "deletes", "truncates", "files", "last change (UTC)", "last LSN"]
        var rows: [[String]] = []
        for name in state.tables.keys.sorted() {
            let t = state.tables[name]!
            rows.append([
                name, t.status.rawValue, "\(t.fullLoadRows)", "\(t.inserts)", "\(t.updates)", "\(t.deletes)",
                "\(t.truncates)", "\(t.filesWritten)", t.lastChangeTime.map(Self.utc) ?? "-", t.lastChangeLSN?.description ?? "-",
            ])
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == 0 || i == 1 || i >= 8 ? c.padding(widths[i]) : c.leftPadding(widths[i]) }
                .joined(separator: "  ")
        }
        var out = "slot \(state.slot)  publication \(state.publication)  phase \(state.phase.rawValue)  confirmed LSN \(state.confirmedLSN)\n"
        out += line(header) + "\n" + line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        out += rows.map(line).joined(separator: "\n")
        return out
    }

    /// The running service's `/health` body for a person: the verdict and its reasons, the
    /// positions and lag, the last cycle and error, then one line per table.
    public static func render(_ health: HealthReport, address: String) -> String {
        var out =
            "replicatord at \(address): \(health.healthy ? "healthy" : "UNHEALTHY")  phase \(health.phase)  slot \(health.slot)  running since \(health.started_at)\n"
        for problem in health.problems { out += "  problem: \(problem)\n" }
        var positions = "confirmed LSN \(health.confirmed_lsn ?? "-")  server WAL \(health.server_wal_lsn ?? "-")"
        if let bytes = health.lag_bytes { positions += "  lag \(bytes) bytes" }
        if let seconds = health.lag_seconds { positions += String(format: " / %.1f s", seconds) }
        if let retained = health.retained_wal_bytes { positions += "  slot retains \(retained) bytes of WAL" }
        out += positions + "\n"
        if let since = health.cycle_running_since { out += "cycle running since \(since)\n" }
        if let cycle = health.last_cycle {
            out +=
                "last cycle: \(cycle.kind) \(cycle.outcome), ended \(cycle.ended), " + String(format: "%.3f s", cycle.duration_seconds)
                + ", \(cycle.files) file(s), \(cycle.rows) row(s)\n"
        }
        out += "last success: \(health.last_success ?? "none yet")  consecutive failures: \(health.consecutive_failures)\n"
        if let error = health.last_error { out += "last error (\(error.kind), \(error.at)): \(error.message)\n" }
        if let load = health.full_load {
            var line = "full load: \(load.tables_loaded) of \(load.tables_total) tables loaded, \(load.rows) rows"
            if let estimated = load.estimated_rows { line += " of about \(estimated)" }
            if let percent = load.percent { line += String(format: " (%.1f %%)", percent) }
            line += ", \(Int(load.rows_per_second)) rows/s, ETA \(load.eta_seconds.map(Self.duration) ?? "unknown")"
            out += line + "\n"
        }
        let loading = health.tables.values.contains { $0.progress != nil }
        var header = ["table", "state", "full-load rows", "inserts", "updates", "deletes", "truncates", "files", "bytes", "last change", "error"]
        if loading { header.insert(contentsOf: ["loaded rows", "%", "rows/s", "ETA"], at: 3) }
        let rows: [[String]] = health.tables.keys.sorted().map { name in
            let t = health.tables[name]!
            var row = [
                name, t.status, "\(t.full_load_rows)", "\(t.inserts)", "\(t.updates)", "\(t.deletes)", "\(t.truncates)",
                "\(t.files_written)", "\(t.bytes_written)", t.last_change_time ?? "-", t.error ?? "",
            ]
            if loading {
                let p = t.progress
                row.insert(
                    contentsOf: [
                        p.map { "\($0.rows)" } ?? "", p?.percent.map { String(format: "%.1f", $0) } ?? "",
                        p.map { "\(Int($0.rows_per_second))" } ?? "", p.map { $0.eta_seconds.map(Self.duration) ?? "?" } ?? "",
                    ], at: 3)
            }
            return row
        }
        let leftAligned = loading ? 13 : 9
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == 0 || i == 1 || i >= leftAligned ? c.padding(widths[i]) : c.leftPadding(widths[i]) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        out += line(header) + "\n" + line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        out += rows.map(line).joined(separator: "\n")
        return out
    }

    /// The `STATUS=` line (and `systemctl status`) while a full load runs.
    public static func progressLine(_ p: FullLoadProgress.Snapshot) -> String {
        var line = "full load: \(p.tablesLoaded)/\(p.tablesTotal) tables, \(p.rows) rows"
        if let percent = p.percent { line += String(format: " (%.0f %%)", percent) }
        return line + ", \(Int(p.rowsPerSecond)) rows/s, ETA \(p.etaSeconds.map(duration) ?? "unknown")"
    }

    /// `42 s`, `3 min 5 s`, `2 h 10 min`.
    static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }

    static func utc(_ micros: Int64) -> String {
        let ms = micros / 1000
        let name = FileNaming.cdcName(unixMilliseconds: ms)  // yyyyMMdd-HHmmssSSS
        let c = Array(name)
        return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8])) \(String(c[9..<11])):\(String(c[11..<13])):\(String(c[13..<15]))"
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
