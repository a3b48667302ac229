import Replication
import Foundation
import PGClient
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// `replicatord --config FILE` (service mode) as a process with `interval_seconds = 2`: CDC files
/// appear as changes are made, `/health` stays 200, `/metrics` parses with prometheus_client,
/// sd_notify datagrams arrive, SIGTERM exits 0 and the next start resumes; a dropped slot turns
/// `/health` into 503 and ends the process non-zero.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct ServiceIntegrationTests {
    static let binary = CrashRecoveryIntegrationTests.binary

    /// A datagram socket standing in for systemd's notify socket, read by a thread of its own.
    final class NotifyListener: @unchecked Sendable {
        let path: String
        private let fd: Int32
        private let lock = NSLock()
        private var received: [String] = []
        private var closed = false

        init() {
            path = "/tmp/rd-notify-\(UUID().uuidString.prefix(8))"
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
            let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path)! + bytes.count)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while !lock.withLock({ closed }) {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n > 0 { let m = String(decoding: buffer[0..<n], as: UTF8.self); lock.withLock { received.append(m) } }
                }
                close(fd)
            }.start()
        }

        /// Every datagram received so far.
        func drain() -> [String] { lock.withLock { received } }

        func stop() { lock.withLock { closed = true }; unlink(path) }
    }

    /// The daemon in service mode, its stderr kept in a file.
    final class Daemon: @unchecked Sendable {
        let process = Process()
        let logPath: String

        init(config: String, environment: [String: String], extra: [String] = []) throws {
            logPath = config + ".\(UUID().uuidString.prefix(6)).log"
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: ServiceIntegrationTests.binary)
            process.arguments = ["--config", config] + extra
            var env = ProcessInfo.processInfo.environment
            env.merge(environment) { _, new in new }
            process.environment = env
            process.standardError = FileHandle(forWritingAtPath: logPath)
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        /// Sends `signal` and waits up to `timeout` seconds for the exit status.
        func stop(_ signal: Int32 = SIGTERM, timeout: Double = 60) async -> Int32? {
            if process.isRunning { kill(process.processIdentifier, signal) }
            return await waitExit(timeout: timeout)
        }

        func waitExit(timeout: Double) async -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return nil }
            return process.terminationStatus
        }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    }

    struct HTTPAnswer { var status: Int; var body: String }

    /// GET `url` with Python's urllib (status and body, also for 503); nil when nothing answers.
    func get(_ url: String) async throws -> HTTPAnswer? {
        for _ in 0..<3 {
            if let answer = try await DedicatedThread.run(name: "test-get", { try getOnce(url) }) { return answer }
            try await Task.sleep(for: .milliseconds(300))
        }
        return nil
    }

    func getOnce(_ url: String) throws -> HTTPAnswer? {
        let out = try TestEnvironment.helper("http-get", [url])
        guard let newline = out.firstIndex(of: "\n"), let status = Int(out[..<newline]) else {
            Issue.record("unexpected answer to GET \(url): \(out)")
            return nil
        }
        if status == 0 { print("GET \(url) failed: \(out)"); return nil }
        return HTTPAnswer(status: status, body: String(out[out.index(after: newline)...]))
    }

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    /// Polls `condition` every 200 ms for up to `timeout` seconds.
    /// (Async, so the waiting holds no thread of Swift's two-thread pool that other suites need.)
    func eventually(_ timeout: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(200))
        } while Date() < deadline
        return false
    }

    func freePort() throws -> Int {
        _ = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        let out = try TestEnvironment.helper("free-port", [])
        return Int(out.trimmingCharacters(in: .whitespacesAndNewlines))!
    }

    func setUp(_ name: String) throws -> (db: PostgresFixture, dir: String, config: String, port: Int) {
        let db = try PostgresFixture(name)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let port = try freePort()
        let config = dir + ".toml"
        try TestEnvironment.writeConfig(
            to: config, conninfo: db.conninfo, slot: db.database, target: "url = \"file://\(dir)\"",
            spoolDir: dir + ".spool", interval: 2, listen: "127.0.0.1:\(port)", logLevel: "info")
        try db.execute(EngineIntegrationTests.schema)
        return (db, dir, config, port)
    }

    func cdcFiles(_ dir: String, _ table: String) -> [String] {
        let folder = dir + "/public/" + table
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix("LOAD") && $0.hasSuffix(".parquet") }.sorted()
    }

    @Test func serviceModeStoresChangesStaysHealthyNotifiesSystemdAndStopsCleanly() async throws {
        let (db, dir, config, port) = try setUp("service_mode")
        defer { db.drop() }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let listener = NotifyListener()
        defer { listener.stop() }
        let base = "http://127.0.0.1:\(port)"
        let daemon = try Daemon(config: config, environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "1000000"])

        // The full load, then CDC: /health says cdc and 200.
        let inCDC = try await eventually(90) {
            guard let answer = try await get(base + "/health") else { return false }
            return answer.status == 200 && json(answer.body)["phase"] as? String == "cdc"
        }
        try #require(inCDC, "never reached the cdc phase healthy: \(daemon.log)")

        // Changes are stored by the next cycles, and /health stays 200 throughout.
        try db.execute(EngineIntegrationTests.changes)
        var statuses: Set<Int> = []
        let stored = try await eventually(30) {
            if let answer = try await get(base + "/health") { statuses.insert(answer.status) }
            return !cdcFiles(dir, "orders").isEmpty && !cdcFiles(dir, "events").isEmpty
        }
        #expect(stored, "no CDC files: \(daemon.log)")
        try db.execute(
            "INSERT INTO public.orders SELECT g, 1, 'later', NULL, 1, 1, now(), NULL, true, md5(g::text)::uuid, NULL, NULL FROM generate_series(9001, 9005) g")
        let second = try await eventually(20) {
            if let answer = try await get(base + "/health") { statuses.insert(answer.status) }
            return cdcFiles(dir, "orders").count >= 2
        }
        #expect(second, "the second change made no new file: \(daemon.log)")
        #expect(statuses == [200], "health went unhealthy: \(statuses)")

        let healthAnswer = try await get(base + "/health")
        let health = json(try #require(healthAnswer, "no answer: \(daemon.log)").body)
        #expect(health["confirmed_lsn"] is String)
        #expect(health["lag_bytes"] is NSNumber)
        let tables = health["tables"] as? [String: Any]
        #expect((tables?["public.orders"] as? [String: Any])?["inserts"] as? Int ?? 0 >= 205)

        // /metrics parses as Prometheus text and names the figures.
        let metricsAnswer = try await get(base + "/metrics")
        let metrics = try #require(metricsAnswer, "no answer: \(daemon.log)")
        #expect(metrics.status == 200)
        let parsed = try TestEnvironment.helper("prometheus-samples", [try write(metrics.body, dir + ".metrics")])
        #expect(parsed.contains("replicatord_rows_written_total public.orders insert"))
        for name in [
            "replicatord_files_stored_total", "replicatord_bytes_written_total", "replicatord_cycle_duration_seconds_count",
            "replicatord_last_success_timestamp_seconds", "replicatord_confirmed_lsn", "replicatord_server_wal_lsn",
            "replicatord_lag_bytes", "replicatord_lag_seconds", "replicatord_slot_retained_wal_bytes",
            "replicatord_retries_total", "replicatord_errors_total", "replicatord_full_load_rows",
        ] {
            #expect(parsed.contains(name + " "), "\(name) missing from /metrics")
        }
        #expect(!metrics.body.contains("password"))

        // systemd heard READY=1 and watchdog pings.
        let messages = listener.drain()
        #expect(messages.contains { $0.hasPrefix("READY=1") })
        #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 2)
        #expect(messages.contains { $0.hasPrefix("STATUS=cdc") })

        // SIGTERM: exit 0 after the running cycle, STOPPING=1 sent.
        let stopped_daemon = await daemon.stop()
        #expect(stopped_daemon == 0, "\(daemon.log)")
        #expect(listener.drain().contains("STOPPING=1"))

        // Changes while it is down are stored by the next start.
        try db.execute("UPDATE public.orders SET status = 'while-down' WHERE id BETWEEN 9001 AND 9003")
        let before = cdcFiles(dir, "orders").count
        let again = try Daemon(config: config, environment: [:])
        let resumed = await eventually(30) { cdcFiles(dir, "orders").count > before }
        #expect(resumed, "the restart stored nothing: \(again.log)")
        let stopped_again = await again.stop()
        #expect(stopped_again == 0, "\(again.log)")

        let result = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result["public.orders"]?["ok"] as? Bool == true, "\(result)")
        #expect(result["public.events"]?["ok"] as? Bool == true, "\(result)")
        // 621 change rows of the changes, 5 inserts, 3 updates: none lost, none doubled.
        #expect(result["public.orders"]?["cdc_rows"] as? Int == 621 + 5 + 3)
    }

    /// A PostgreSQL cluster of the test's own (stopping the shared one would break other tests),
    /// made with the test bed's binaries and user.
    final class OwnCluster: @unchecked Sendable {
        let dir: String
        let port: Int
        let runAs: [String]
        let bin = ProcessInfo.processInfo.environment["PG_BIN"] ?? "/usr/lib/postgresql/15/bin"
        var conninfo: String { "host=127.0.0.1 port=\(port) dbname=postgres user=postgres" }

        init(port: Int) throws {
            self.port = port
            dir = "/tmp/rd-own-pg-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if getuid() == 0 {
                let user = try TestEnvironment.require("REPLICATORD_TEST_PG_USER")
                try TestEnvironment.run("/usr/bin/chown", [user, dir])
                runAs = ["/usr/sbin/runuser", "-u", user, "--"]
            } else {
                runAs = []
            }
            try pg("initdb", ["-D", dir + "/data", "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"])
            let conf = """

                listen_addresses = '127.0.0.1'
                port = \(port)
                unix_socket_directories = '\(dir)'
                wal_level = logical
                fsync = off
                """
            let confPath = dir + "/data/postgresql.conf"
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: confPath))
            handle.seekToEndOfFile(); handle.write(Data(conf.utf8)); try handle.close()
            try start()
        }

        /// Runs a PostgreSQL tool through sh with its output to /dev/null (the server pg_ctl starts
        /// would otherwise hold the test's pipes open).
        private func pg(_ tool: String, _ arguments: [String]) throws {
            let words = runAs + [bin + "/" + tool] + arguments
            // Close every descriptor above 2 first: the test process's pipes leak into children, and a
            // server holding one would keep the reader waiting for its end forever.
            let command =
                #"for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; "#
                + "exec " + words.map { "'" + $0 + "'" }.joined(separator: " ") + " </dev/null >/dev/null 2>&1"
            try TestEnvironment.run("/bin/bash", ["-c", command])
        }

        func start() throws { try pg("pg_ctl", ["-D", dir + "/data", "-l", dir + "/log", "-w", "-t", "60", "start"]) }
        func stop() throws { try pg("pg_ctl", ["-D", dir + "/data", "-m", "fast", "-w", "stop"]) }

        deinit {
            try? pg("pg_ctl", ["-D", dir + "/data", "-m", "immediate", "-w", "stop"])
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG_USER")))
    func stoppingPostgreSQLTurnsHealthTo503AndBackTo200WithNoChangeLost() async throws {
        let cluster = try OwnCluster(port: try freePort())
        let source = try PGConnection(conninfo: cluster.conninfo)
        try source.query(EngineIntegrationTests.schema)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freePort()
        let config = dir + ".toml"
        try TestEnvironment.writeConfig(
            to: config, conninfo: cluster.conninfo + " connect_timeout=2", slot: "service_outage",
            target: "url = \"file://\(dir)\"", spoolDir: dir + ".spool", interval: 2, listen: "127.0.0.1:\(port)")
        let base = "http://127.0.0.1:\(port)"
        let daemon = try Daemon(config: config, environment: [:])
        let inCDC = try await eventually(90) {
            guard let answer = try await get(base + "/health") else { return false }
            return answer.status == 200 && json(answer.body)["phase"] as? String == "cdc"
        }
        try #require(inCDC, "never reached the cdc phase healthy: \(daemon.log)")
        try source.query(EngineIntegrationTests.changes)
        let firstFiles = await eventually(20) { !cdcFiles(dir, "orders").isEmpty }
        #expect(firstFiles, "\(daemon.log)")

        // PostgreSQL stops: 503 at the next cycle, naming the source.
        try cluster.stop()
        let stoppedAt = Date()
        var body: [String: Any] = [:]
        let unhealthy = try await eventually(15) {
            guard let answer = try await get(base + "/health"), answer.status == 503 else { return false }
            body = json(answer.body)
            return true
        }
        #expect(unhealthy, "/health stayed 200 with PostgreSQL down: \(daemon.log)")
        // The failing cycle starts within an interval; with the whole suite running beside it (the
        // many-tables test loads 500 tables on the same 2 cores) it has taken up to 10 s.
        #expect(Date().timeIntervalSince(stoppedAt) < 15)
        #expect((body["last_error"] as? [String: Any])?["kind"] as? String == "source", "\(body)")
        #expect(daemon.process.isRunning, "a lost connection must not end the process")

        // It comes back: 200 again, and changes made after are stored.
        try cluster.start()
        let healthy = try await eventually(30) { try await get(base + "/health")?.status == 200 }
        #expect(healthy, "/health never came back to 200: \(daemon.log)")
        let again = try PGConnection(conninfo: cluster.conninfo)
        try again.query(
            "INSERT INTO public.orders SELECT g, 1, 'after', NULL, 1, 1, now(), NULL, true, md5(g::text)::uuid, NULL, NULL FROM generate_series(9001, 9010) g")
        let before = cdcFiles(dir, "orders").count
        let moreFiles = await eventually(20) { cdcFiles(dir, "orders").count > before }
        #expect(moreFiles, "\(daemon.log)")
        let stopped_daemon = await daemon.stop()
        #expect(stopped_daemon == 0, "\(daemon.log)")

        let result = try await Oracle.check(conninfo: cluster.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result["public.orders"]?["ok"] as? Bool == true, "\(result)")
        #expect(result["public.events"]?["ok"] as? Bool == true, "\(result)")
        #expect(result["public.orders"]?["cdc_rows"] as? Int == 621 + 10)
    }

    @Test func aDroppedSlotTurnsHealthTo503AndEndsTheProcessNonZero() async throws {
        let (db, dir, config, port) = try setUp("service_slot")
        defer { db.drop() }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = "http://127.0.0.1:\(port)"
        let daemon = try Daemon(config: config, environment: [:], extra: ["--fatal-exit-seconds", "4"])
        let inCDC = try await eventually(90) {
            guard let answer = try await get(base + "/health") else { return false }
            return answer.status == 200 && json(answer.body)["phase"] as? String == "cdc"
        }
        try #require(inCDC, "never reached the cdc phase healthy: \(daemon.log)")

        // The service streams from the slot all the time: end its walsender, then drop the slot
        // before the daemon reconnects (what an operator does to drop a slot in use).
        let admin = try db.connect()
        let dropped = await eventually(20) {
            _ = try? admin.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active", [db.database])
            return
                (try? admin.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", [db.database])
                .rows.count) == 1
        }
        try #require(dropped, "the slot could not be dropped")
        // Ending the walsender is first a lost connection (503, kind "source", retried); the retry
        // then finds the slot gone, which is what /health must end up naming.
        var body: [String: Any] = [:]
        let unhealthy = try await eventually(20) {
            guard let answer = try await get(base + "/health"), answer.status == 503 else { return false }
            body = json(answer.body)
            return (body["last_error"] as? [String: Any])?["kind"] as? String == "slot_lost"
        }
        #expect(unhealthy, "/health never said 503 with slot_lost: \(body) \(daemon.log)")
        let status = await daemon.waitExit(timeout: 30)
        #expect(status != nil && status != 0, "\(daemon.log)")
        #expect(daemon.log.contains("cannot continue"))
    }

    @Test func checkDescribesTheSourceAndDropSlotRemovesAnIdleSlot() async throws {
        let (db, dir, config, _) = try setUp("service_check")
        defer { db.drop() }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try TestEnvironment.run(Self.binary, ["check", "--config", config])
        #expect(out.contains("publication replicatord: 3 table(s)"), "\(out)")
        #expect(out.contains("public.orders"))
        #expect(out.contains("does not exist yet"))
        #expect(out.contains("ok: ready to replicate"))
        // check changed nothing: no slot, no object.
        #expect(try db.connect().query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [db.database]).rows.isEmpty)
        #expect((try FileManager.default.contentsOfDirectory(atPath: dir)).isEmpty)

        // A publication that is gone: one line per problem, non-zero.
        try db.execute("DROP PUBLICATION replicatord")
        #expect(throws: TestEnvironment.ProcessFailed.self) { try TestEnvironment.run(Self.binary, ["check", "--config", config]) }
        do { try TestEnvironment.run(Self.binary, ["check", "--config", config]) } catch let failure as TestEnvironment.ProcessFailed {
            #expect(failure.stderr.contains("problem: ") && failure.stderr.contains("source-setup.sql"), "\(failure.stderr)")
        }

        try db.connectReplication().query("CREATE_REPLICATION_SLOT \(db.database) LOGICAL pgoutput NOEXPORT_SNAPSHOT")
        let dropped = try TestEnvironment.run(Self.binary, ["drop-slot", "--config", config])
        #expect(dropped.contains("dropped"), "\(dropped)")
        #expect(try db.connect().query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [db.database]).rows.isEmpty)
        let again = try TestEnvironment.run(Self.binary, ["drop-slot", "--config", config])
        #expect(again.contains("does not exist"))
    }

    func write(_ text: String, _ path: String) throws -> String {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
