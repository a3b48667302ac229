import Replication
import Foundation
import PGClient
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// Service mode's replication connection: kept open and read between cycles (the same walsender
/// serves cycle after cycle), and a SIGTERM that arrives in the middle of a multipart upload lets the
/// cycle finish: exit 0, no upload left open, nothing lost or doubled after the restart.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON", "REPLICATORD_TEST_S3_ENDPOINT")), .serialized)
struct ServiceStreamingIntegrationTests {
    typealias Daemon = ServiceIntegrationTests.Daemon
    let service = ServiceIntegrationTests()

    /// The pid of the walsender serving the slot, or nil when no one streams from it.
    func walsender(_ db: PostgresFixture) throws -> Int? {
        let result = try PGConnection(conninfo: db.conninfo).query("SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", [db.database])
        return result.rows.first?[0].flatMap { Int($0) }
    }

    /// A service-mode configuration in `dir` (2 s interval, spool and health port of its own)
    /// with `target` as the `[target]` table's lines.
    func writeConfig(_ db: PostgresFixture, dir: String, target: String) throws -> (config: String, port: Int) {
        try writeConfig(conninfo: db.conninfo, slot: db.database, dir: dir, target: target)
    }

    func writeConfig(conninfo: String, slot: String, dir: String, target: String, interval: Int = 2) throws -> (config: String, port: Int) {
        let port = try service.freePort()
        let config = dir + "/replicatord.toml"
        try TestEnvironment.writeConfig(
            to: config, conninfo: conninfo, slot: slot, target: target, spoolDir: dir + "/spool",
            interval: interval, listen: "127.0.0.1:\(port)")
        return (config, port)
    }

    /// The daemon in service mode, once `/health` says it is healthy in the cdc phase.
    func startInCDC(config: String, port: Int) async throws -> Daemon {
        let daemon = try Daemon(config: config, environment: [:])
        let inCDC = try await service.eventually(120) {
            guard let answer = try await service.get("http://127.0.0.1:\(port)/health") else { return false }
            return answer.status == 200 && service.json(answer.body)["phase"] as? String == "cdc"
        }
        try #require(inCDC, "never reached the cdc phase healthy: \(daemon.log)")
        return daemon
    }

    /// Waits until the service has confirmed the source's WAL position now; `statuses` collects
    /// the /health status codes seen meanwhile.
    func caughtUp(_ db: PostgresFixture, base: String, statuses: inout Set<Int>) async throws -> Bool {
        let target = try PGConnection(conninfo: db.conninfo).query("SELECT pg_current_wal_lsn()::text").rows[0][0]!
        var seen = statuses
        defer { statuses = seen }
        return try await service.eventually(30) {
            guard let answer = try await service.get(base + "/health"), let confirmed = service.json(answer.body)["confirmed_lsn"] as? String else {
                return false
            }
            seen.insert(answer.status)
            return try PGConnection(conninfo: db.conninfo).query("SELECT $1::pg_lsn >= $2::pg_lsn", [confirmed, target]).rows[0][0] == "t"
        }
    }

    func caughtUp(_ db: PostgresFixture, base: String) async throws -> Bool {
        var ignored: Set<Int> = []
        return try await caughtUp(db, base: base, statuses: &ignored)
    }

    @Test func theReplicationConnectionStaysOpenAndIsReadBetweenCycles() async throws {
        let (db, dir, config, port) = try service.setUp("service_stream")
        defer { db.drop() }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await startInCDC(config: config, port: port)

        // The first CDC cycle opens the stream; from then on, cycle after cycle with changes in
        // between: one walsender, active the whole time.
        let streaming = try await service.eventually(20) { try walsender(db) != nil }
        try #require(streaming, "no walsender for the slot: \(daemon.log)")
        var pids: Set<Int> = []
        var idleSamples = 0
        for round in 0..<4 {
            try db.execute("INSERT INTO public.events SELECT now(), 'round\(round)', decode(md5(g::text), 'hex') FROM generate_series(1, 100) g")
            let before = service.cdcFiles(dir, "events").count
            let stored = try await service.eventually(20) {
                if let pid = try walsender(db) { pids.insert(pid) } else { idleSamples += 1 }
                return service.cdcFiles(dir, "events").count > before
            }
            #expect(stored, "round \(round) stored nothing: \(daemon.log)")
        }
        #expect(pids.count == 1, "the slot was served by \(pids.count) walsenders: the connection was reopened")
        #expect(idleSamples == 0, "the slot was inactive between cycles \(idleSamples) times")

        // `status` shows the running service's health for a person; once it is gone, the checkpoint.
        let live = try await DedicatedThread.run(name: "test-status") {
            try TestEnvironment.run(ServiceIntegrationTests.binary, ["status", "--config", config])
        }
        #expect(live.contains("replicatord at 127.0.0.1:\(port): healthy  phase cdc"), "\(live)")
        #expect(live.contains("last cycle: cdc success"), "\(live)")
        #expect(live.split(separator: "\n").contains { $0.hasPrefix("public.events") && $0.contains("replicating") }, "\(live)")
        let stopped = await daemon.stop()
        #expect(stopped == 0, "\(daemon.log)")
        #expect(try walsender(db) == nil, "the stream was not closed at exit")
        let offline = try await DedicatedThread.run(name: "test-status") {
            try TestEnvironment.run(ServiceIntegrationTests.binary, ["status", "--config", config])
        }
        #expect(offline.contains("no service answers on 127.0.0.1:\(port)"), "\(offline)")
        #expect(offline.contains("public.events"), "\(offline)")
        let result = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result["public.events"]?["ok"] as? Bool == true, "\(result)")
        #expect(result["public.events"]?["cdc_rows"] as? Int == 400)
    }

    @Test func underARunningDataGeneratorEachCycleStoresAFilePerChangedTable() async throws {
        try await withPostgres("service_datagen") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let generator = DataGeneratorIntegrationTests.binary
            _ = try await DedicatedThread.run(name: "datagen") {
                try TestEnvironment.run(generator, ["--conninfo", db.conninfo, "--initial-rows", "2000", "--publication", "replicatord", "--setup-only"])
            }
            let (config, port) = try writeConfig(db, dir: dir, target: "url = \"file://\(dir)/out\"")
            let daemon = try await startInCDC(config: config, port: port)
            let base = "http://127.0.0.1:\(port)"

            // Ten seconds of changes at 100 a second (public.orders only), /health polled meanwhile.
            let run = Process()
            run.executableURL = URL(fileURLWithPath: generator)
            run.arguments = ["--conninfo", db.conninfo, "--seconds", "10", "--count", "0", "--rate", "100", "--seed", "3"]
            let output = Pipe()
            run.standardOutput = output
            try run.run()
            var statuses: Set<Int> = []
            while run.isRunning {
                if let answer = try await service.get(base + "/health") { statuses.insert(answer.status) }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(run.terminationStatus == 0)
            let made = try JSONSerialization.jsonObject(with: output.fileHandleForReading.readDataToEndOfFile()) as? [String: Any] ?? [:]
            let changes = ["inserts", "updates", "deletes"].reduce(0) { $0 + ((made[$1] as? Int) ?? 0) }
            #expect(changes > 500, "\(made)")
            let caughtUp = try await caughtUp(db, base: base, statuses: &statuses)
            #expect(caughtUp, "\(daemon.log)")
            #expect(statuses == [200], "health went unhealthy: \(statuses)")
            let stopped = await daemon.stop()
            #expect(stopped == 0, "\(daemon.log)")

            // Every cycle that read changes of public.orders stored one file for it: the cycles' files
            // are as many as the cycles with rows, and there were several.
            let cycles = daemon.log.split(separator: "\n").filter { $0.contains("cdc cycle complete") }
            let withRows = cycles.filter { !$0.contains(" rows=0") }
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/out/public/orders")) ?? []).filter { $0.hasPrefix("2") }
            #expect(withRows.count >= 4, "\(cycles)")
            #expect(files.count == withRows.count, "\(files.count) files for \(withRows.count) cycles with rows")
            let out = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir + "/out"), tables: ["public.orders", "public.customers"])
            let verdict = out["public.orders"]
            #expect(verdict?["ok"] as? Bool == true, "\(out)")
            #expect(verdict?["cdc_rows"] as? Int == changes, "\(out)")
        }
    }

    @Test func aTableAddedToThePublicationWhileStreamingIsLoadedOnceAndFollowed() async throws {
        let (db, dir, config, port) = try service.setUp("service_added")
        defer { db.drop() }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await startInCDC(config: config, port: port)
        let base = "http://127.0.0.1:\(port)"
        _ = try await service.eventually(20) { try walsender(db) != nil }

        // Rows before the table joins the publication, then inserts and updates right after it
        // joins, while the stream is open, across several cycles.
        try db.execute("CREATE TABLE public.late (id int PRIMARY KEY, v text); INSERT INTO public.late SELECT g, 'before' FROM generate_series(1, 100) g")
        try db.execute("ALTER PUBLICATION replicatord ADD TABLE public.late")
        var next = 101
        for round in 0..<15 {
            try db.execute(
                "INSERT INTO public.late SELECT g, 'after' FROM generate_series(\(next), \(next + 19)) g; UPDATE public.late SET v = 'round \(round)' WHERE id % 15 = \(round)"
            )
            next += 20
            try await Task.sleep(for: .milliseconds(400))
        }
        let caughtUp = try await caughtUp(db, base: base)
        #expect(caughtUp, "\(daemon.log)")
        let stopped = await daemon.stop()
        #expect(stopped == 0, "\(daemon.log)")
        #expect(daemon.log.contains("tables added to the publication: loading them"), "\(daemon.log)")
        let out = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: ["public.late", "public.orders"])
        #expect(out.allOK, "\(out)")
    }

    /// A fast shutdown of PostgreSQL waits until every logical walsender's client has confirmed
    /// all it was sent; the stream kept open between cycles confirms only what is stored, so it
    /// must step aside rather than hold the shutdown until its next cycle.
    @Test(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG_USER")))
    func postgresqlStopsPromptlyWhileTheStreamHoldsUnconfirmedChanges() async throws {
        let cluster = try ServiceIntegrationTests.OwnCluster(port: try service.freePort())
        let source = try PGConnection(conninfo: cluster.conninfo)
        try source.query(EngineIntegrationTests.schema)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A long interval: no cycle comes to the rescue while PostgreSQL stops.
        let (config, port) = try writeConfig(conninfo: cluster.conninfo, slot: "own_stop", dir: dir, target: "url = \"file://\(dir)/out\"", interval: 20)
        let daemon = try await startInCDC(config: config, port: port)
        let base = "http://127.0.0.1:\(port)"
        let open = try await service.eventually(30) {
            try PGConnection(conninfo: cluster.conninfo).query("SELECT active FROM pg_replication_slots WHERE slot_name = 'own_stop'").rows.first?[0] == "t"
        }
        try #require(open, "the stream was not opened: \(daemon.log)")
        try source.query("INSERT INTO public.events SELECT now(), 'unconfirmed ' || g, '\\x01' FROM generate_series(1, 500) g")
        try await Task.sleep(for: .seconds(1))  // the stream reads them; nothing confirms them

        let started = ContinuousClock.now
        try await DedicatedThread.run(name: "test-pg-stop") { try cluster.stop() }
        let took = ContinuousClock.now - started
        #expect(took < .seconds(10), "PostgreSQL took \(took) to stop")
        try await DedicatedThread.run(name: "test-pg-start") { try cluster.start() }

        try PGConnection(conninfo: cluster.conninfo).query(
            "INSERT INTO public.events SELECT now(), 'after restart ' || g, '\\x02' FROM generate_series(1, 5) g")
        let target = try PGConnection(conninfo: cluster.conninfo).query("SELECT pg_current_wal_lsn()::text").rows[0][0]!
        let caughtUp = try await service.eventually(90) {
            guard let answer = try await service.get(base + "/health"), let confirmed = service.json(answer.body)["confirmed_lsn"] as? String else {
                return false
            }
            return (try? PGConnection(conninfo: cluster.conninfo).query("SELECT $1::pg_lsn >= $2::pg_lsn", [confirmed, target]).rows[0][0]) == "t"
        }
        #expect(caughtUp, "\(daemon.log)")
        let stopped = await daemon.stop()
        #expect(stopped == 0, "\(daemon.log)")
        let out = try await Oracle.check(conninfo: cluster.conninfo, files: .directory(dir + "/out"), tables: ["public.events"])
        #expect(out.allOK && out["public.events"]?["cdc_rows"] as? Int == 505, "\(out)")
    }

    @Test func sigtermDuringAMultipartUploadFinishesTheCycleAndLeavesNothingOpen() async throws {
        try await withPostgres("service_sigterm") { db in
            _ = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
            let endpoint = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
            let bucket = "sigterm-\(UInt32.random(in: 0...UInt32.max))"
            try TestEnvironment.helper("create-bucket", [endpoint, bucket])
            // Every request through the proxy waits up to 1.5 s: a file of several parts takes seconds to store.
            let proxy = try S3FaultInjectionTests.FaultProxy(upstream: endpoint, arguments: ["--latency", "1.0", "--max-latency-ms", "1500", "--seed", "11"])
            defer { proxy.stop() }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let (config, port) = try writeConfig(
                db, dir: dir,
                target: """
                    url = "s3://\(bucket)/replica"
                    endpoint = "\(proxy.endpoint)"
                    path_style = true
                    part_size_mib = 5
                    upload_parallelism = 2
                    """)
            try db.execute(
                """
                CREATE TABLE public.blobs (id bigint PRIMARY KEY, data bytea NOT NULL);
                INSERT INTO public.blobs SELECT g, '\\x00' FROM generate_series(1, 10) g;
                CREATE PUBLICATION replicatord FOR TABLE public.blobs;
                """)
            let daemon = try await startInCDC(config: config, port: port)

            // About 16 MB of incompressible rows in one transaction: a CDC file of four 5 MiB parts.
            try db.execute(
                """
                INSERT INTO public.blobs SELECT g, decode(md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex')
                FROM generate_series(11, 250010) g
                """)
            // SIGTERM as soon as moto holds an open multipart upload of ours.
            let pid = daemon.process.processIdentifier
            let seen = try await DedicatedThread.run(name: "test-watch") {
                try TestEnvironment.helper("sigterm-on-upload", [endpoint, bucket, "\(pid)"])
            }
            #expect(seen.hasPrefix("SIGTERM during"), "\(seen)")
            let status = await daemon.waitExit(timeout: 120)
            #expect(status == 0, "\(daemon.log)")
            #expect(daemon.log.contains("stopping"), "\(daemon.log)")

            // Nothing half-written: no open upload, and the checkpoint covers the file stored.
            let open = try TestEnvironment.helper("open-uploads", [endpoint, bucket])
            #expect(open.trimmingCharacters(in: .whitespacesAndNewlines) == "0")

            // A restart (one cycle) finds nothing to redo or everything in place: the tables match, no doubles.
            try db.execute("UPDATE public.blobs SET data = '\\x01' WHERE id <= 5")
            try await DedicatedThread.run(name: "test-once") { _ = try TestEnvironment.run(ServiceIntegrationTests.binary, ["--config", config, "--once"]) }
            let out = try await Oracle.check(conninfo: db.conninfo, files: .s3(endpoint: endpoint, bucket: bucket, prefix: "replica"), tables: ["public.blobs"])
            let verdict = out["public.blobs"]
            #expect(verdict?["ok"] as? Bool == true, "\(out)")
            #expect(verdict?["cdc_rows"] as? Int == 250_000 + 5, "\(out)")
        }
    }
}
