import Daemon
import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import Logging
import PGClient
import Replication

/// Benchmark driver for scripts/bench-*: runs one measured piece of work and prints one
/// `key=value` line that the script tabulates. Not a test.
///
///   replicatord-bench copy-decode CONNINFO SCHEMA.TABLE   read + decode a table with binary COPY
///   replicatord-bench status-page [TABLES] [--html FILE]   GET / of the health listener with TABLES tables (default 1000);
///                                                          with --html, writes that page to FILE (a fixture for the browser test)
///   replicatord-bench iceberg-day DIR CYCLES INTERVAL_S on|off RETENTION_S
///                                                          CYCLES Iceberg commits on a simulated clock into DIR, with or
///                                                          without housekeeping (IcebergDaySimulation)
@main
struct ReplicatordBench {
    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count >= 2 else { usage() }
        switch args[1] {
        case "copy-decode" where args.count == 4:
            try await copyDecode(conninfo: args[2], table: args[3])
        case "status-page" where args.count <= 5:
            // status-page [TABLES] [--html FILE]: with --html, the page is written to FILE instead of timed.
            var html: String? = nil
            if let at = args.firstIndex(of: "--html"), at + 1 < args.count { html = args[at + 1] as String }
            let count = args.count >= 3 && args[2] != "--html" ? Int(args[2]) ?? 1000 : 1000
            try await statusPage(tables: count, htmlFile: html)
        case "iceberg-day" where args.count == 7:
            guard let cycles = Int(args[3]), let interval = Int64(args[4]), let retention = Int64(args[6]),
                args[5] == "on" || args[5] == "off"
            else { usage() }
            let outcome = try await DedicatedThread.run(name: "bench") {
                try IcebergDaySimulation.run(
                    directory: args[2], cycles: cycles, intervalSeconds: interval,
                    housekeeping: args[5] == "on", retentionSeconds: retention)
            }
            print(
                "table=\(outcome.tableFolder) metadata_files=\(outcome.metadataFiles) metadata_bytes=\(outcome.metadataBytes) "
                    + "snapshots=\(outcome.snapshots) manifests=\(outcome.currentManifests) live_files=\(outcome.liveDataFiles) "
                    + "commit_s=\(String(format: "%.2f", outcome.commitSeconds))")
        default:
            usage()
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(
            Data(
                "usage: replicatord-bench copy-decode CONNINFO SCHEMA.TABLE | status-page [TABLES] [--html FILE] | iceberg-day DIR CYCLES INTERVAL_S on|off RETENTION_S\n"
                    .utf8))
        exit(2)
    }

    /// Reads every row of the table through ``SnapshotReader`` and decodes it into column batches.
    static func copyDecode(conninfo: String, table qualified: String) async throws {
        let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { usage() }
        let (rows, seconds, checksum) = try await DedicatedThread.run(name: "bench") { () throws -> (Int64, Double, Int) in
            let connection = try PGConnection(conninfo: conninfo)
            let r = try connection.query(
                "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2", parts)
            guard let oid = r.rows.first?[0].flatMap({ UInt32($0) }) else { throw PGError(.queryFailed, "no table \(qualified)") }
            let table = TableDescription(
                oid: oid, schema: parts[0], name: parts[1],
                columns: try Catalog.tableColumns(oid: oid, on: connection),
                replicaIdentity: "d", estimatedRows: -1)
            var checksum = 0
            let start = ContinuousClock.now
            let rows = try SnapshotReader(connection: connection).read(table) { batch in
                for column in batch.columns { checksum &+= column.valueCount }
            }
            let elapsed = ContinuousClock.now - start
            return (rows, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, checksum)
        }
        print("rows=\(rows) seconds=\(String(format: "%.3f", seconds)) rows_per_s=\(Int(Double(rows) / seconds)) values=\(checksum)")
    }

    /// Serves the status page of a service that replicates `count` tables (every table with
    /// statistics, a full history of cycles, a full load running over half of them) on a loopback
    /// port, and times `GET /` over HTTP as a browser asks for it: 5 warm-up requests, then 50.
    static func statusPage(tables count: Int, htmlFile: String? = nil) async throws {
        let t0 = Date()
        var state = HealthState(interval: .seconds(120), startedAt: t0.addingTimeInterval(-86_400), phase: .cdc, slot: "replicatord")
        state.migrationType = "full-load-and-cdc"
        state.configPath = "/etc/replicatord/replicatord.toml"
        var checkpoint = Checkpoint(
            slot: "replicatord", publication: "replicatord", systemID: "7300000000000000000",
            phase: .cdc, confirmedLSN: LSN(0x1A_2B3C_4D5E))
        let progress = FullLoadProgress()
        var loading: [(name: String, estimatedRows: Int64)] = []
        for i in 0..<count {
            let name = "schema_\(i % 7).table_with_a_longish_name_\(i)"
            var t = Checkpoint.TableState(status: i % 97 == 0 ? .error : .replicating, oid: UInt32(16_384 + i), cdcStartLSN: LSN(0x1A_0000_0000))
            t.fullLoadRows = Int64(i) * 1_234; t.inserts = Int64(i) * 17; t.updates = Int64(i) * 5; t.deletes = Int64(i)
            t.truncates = Int64(i % 3); t.filesWritten = Int64(i % 50); t.bytesWritten = Int64(i) * 98_765
            t.lastChangeLSN = LSN(0x1A_2B3C_4D5E); t.lastChangeTime = Int64(t0.timeIntervalSince1970 * 1_000_000)
            if t.status == .error || (count < 97 && i == count / 2) {
                t.status = .error
                t.errorMessage = "cannot write a value of column payload: value too large"
            }
            checkpoint.tables[name] = t
            if i % 2 == 0 { loading.append((name, Int64(i) * 2_000)) }
        }
        progress.begin(tables: loading, at: t0.addingTimeInterval(-60))
        for (i, table) in loading.enumerated() { progress.add(table: table.name, rows: Int64(i) * 900, at: t0.addingTimeInterval(-50)) }
        state.cycleStarted(at: t0.addingTimeInterval(-2))
        state.cycleSucceeded(at: t0.addingTimeInterval(-1), kind: .cdc, files: 12, rows: 34_567, checkpoint: checkpoint)
        state.server = .init(walLSN: "1A/2B3C5000", lagBytes: 4_096, retainedWALBytes: 1 << 30)
        for _ in 0..<state.history.capacity { state.recordCycle(at: t0) }
        state.cycleStarted(at: t0)  // a cycle running, so the report reads the full load's progress
        let monitor = ServiceMonitor(state: state, progress: progress)
        if let htmlFile {
            try StatusPage.html(await monitor.statusData()).write(toFile: htmlFile, atomically: true, encoding: .utf8)
            return
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .critical  // the server logs its own cancellation at the end as an error
        // Where the time goes, in process: the figures (report), the JSON, the page around it.
        var figures: [Double] = [], encoding: [Double] = [], page: [Double] = []
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        for _ in 0..<20 {
            let a = ContinuousClock.now
            let data = await monitor.statusData()
            let b = ContinuousClock.now
            let json = StatusPage.jsonBytes(data)
            let c = ContinuousClock.now
            let html = StatusPage.htmlBytes(data)
            let d = ContinuousClock.now
            precondition(!json.isEmpty && !html.isEmpty, "an empty page")
            figures.append(ms(b - a)); encoding.append(ms(c - b)); page.append(ms(d - c))
        }
        let mid = { (v: [Double]) in v.sorted()[v.count / 2] }
        print(String(format: "status_page_parts figures_ms=%.1f json_ms=%.1f html_ms=%.1f", mid(figures), mid(encoding), mid(page)))
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = HealthServer.application(monitor: monitor, host: "127.0.0.1", port: 0, logger: logger) { port in
            portContinuation.yield(port)
        }
        let server = Task { try await app.run() }
        var ports = portStream.makeAsyncIterator()
        guard let port = await ports.next() else { fatalError("the server did not start") }
        let url = URL(string: "http://127.0.0.1:\(port)/")!
        let session = URLSession(configuration: .ephemeral)
        var times: [Double] = []
        var size = 0
        for i in 0..<55 {
            let start = ContinuousClock.now
            let (data, response) = try await session.data(from: url)
            let elapsed = ContinuousClock.now - start
            guard (response as? HTTPURLResponse)?.statusCode == 200 else { fatalError("GET / did not answer 200") }
            size = data.count
            if i >= 5 { times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000) }
        }
        server.cancel()
        times.sort()
        let median = times[times.count / 2], p95 = times[Int(Double(times.count) * 0.95)], worst = times.last!
        print(
            String(format: "status_page tables=%d bytes=%d median_ms=%.1f p95_ms=%.1f max_ms=%.1f target_ms=50", count, size, median, p95, worst)
                + " met=\(p95 < 50 ? "yes" : "no")")
    }
}
