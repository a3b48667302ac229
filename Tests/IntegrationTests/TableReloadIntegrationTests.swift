import Replication
import Foundation
import Logging
import ObjectStore
import PGClient
import Testing
@testable import Daemon

/// Per-table isolation and `replicatord reload-table`, with `replicatord --once` as a process: a
/// table whose files cannot be stored (`REPLICATORD_REFUSE_TABLE`, as a store refusing its path)
/// goes to state `error` while the others replicate; `reload-table` loads it again in a fresh
/// snapshot and its changes continue there; a crash at any step of a reload loses and doubles nothing.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct TableReloadIntegrationTests {
    let crash = CrashRecoveryIntegrationTests()

    /// Runs the daemon binary with `arguments`, the environment given added.
    func replicatord(_ arguments: [String], environment: [String: String] = [:]) throws -> TestEnvironment.Finished {
        try TestEnvironment.capture(CrashRecoveryIntegrationTests.binary, arguments, environment: environment)
    }

    /// One table's state in the checkpoint stored under `dir`, as its JSON fields.
    func table(_ dir: String, _ name: String) throws -> [String: Any] {
        let state = try BlockingCall.wait {
            try await CheckpointStore(store: LocalDirectoryStore(root: dir, logger: Logger(label: "test")), logger: Logger(label: "test")).load()
        }
        let table = try #require(state?.tables[name], "\(name) is not in the checkpoint")
        return try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(table)) as? [String: Any])
    }

    func files(_ dir: String, _ table: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir + "/public/" + table).filter { $0.hasSuffix(".parquet") }.sorted()
    }

    @Test func aTableThatCannotBeStoredGoesToErrorTheOthersGoOnAndReloadTableBringsItBack() async throws {
        try await DedicatedThread.run(name: "test") { try self.isolationAndReload() }
    }

    func isolationAndReload() throws {
        let (db, dir, config) = try crash.setUp("reload_isolation")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        let refuse = ["REPLICATORD_REFUSE_TABLE": "public.events"]
        // The full load: events cannot be stored, orders and untouched are loaded.
        let load = try replicatord(["--config", config, "--once"], environment: refuse)
        try #require(load.status == 0, "\(load.stderr)")
        #expect(try table(dir, "public.events")["status"] as? String == "error")
        #expect((try table(dir, "public.events")["errorMessage"] as? String)?.contains("REPLICATORD_REFUSE_TABLE") == true)
        #expect(try table(dir, "public.orders")["status"] as? String == "replicating")
        #expect(load.stderr.contains("reload-table"), "the log names the way out: \(load.stderr)")

        // CDC goes on for the others (and the slot advances) while events stays in error.
        try db.execute(EngineIntegrationTests.changes)
        let cdc = try replicatord(["--config", config, "--once"], environment: refuse)
        try #require(cdc.status == 0, "\(cdc.stderr)")
        try db.execute("UPDATE public.orders SET note = 'during error' WHERE id <= 20; INSERT INTO public.events VALUES ('2024-07-01', 'while-error', NULL)")
        let stillRefused = try replicatord(["--config", config, "--once"])
        try #require(stillRefused.status == 0, "\(stillRefused.stderr)")
        #expect(try table(dir, "public.events")["status"] as? String == "error", "a table in error stays there until reload-table")
        let status = try replicatord(["status", "--config", config])
        #expect(status.stdout.contains("error") && status.stdout.contains("public.events"), "\(status.stdout)")

        // reload-table with no service running: this process does the cycle.
        let reload = try replicatord(["reload-table", "--config", config, "public.events"])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(reload.stdout.contains("public.events: reloaded"), "\(reload.stdout)")
        #expect(try table(dir, "public.events")["status"] as? String == "replicating")
        #expect(try files(dir, "events").allSatisfy { $0.hasPrefix("LOAD") })

        // Changes continue from the new snapshot on every table.
        try db.execute(
            "INSERT INTO public.events VALUES ('2024-08-01', 'after-reload', '\\x01'); DELETE FROM public.events WHERE kind = 'k3'; UPDATE public.orders SET note = 'after' WHERE id = 1"
        )
        let after = try replicatord(["--config", config, "--once"])
        #expect(after.status == 0, "\(after.stderr)")
        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        for name in EngineIntegrationTests.tables { #expect(result[name]?["ok"] as? Bool == true, "\(name): \(result[name] ?? [:])") }
        // events: its new LOAD set and one CDC file with the changes after the reload (one insert,
        // the 12 rows of kind k3 deleted), nothing of before.
        #expect(result["public.events"]?["cdc_rows"] as? Int == 13)
        #expect(try files(dir, "events").filter { !$0.hasPrefix("LOAD") }.count == 1)
    }

    @Test(arguments: ["after-load-files-stored", "after-replacing-set-committed", "after-replaced-files-removed"])
    func aCrashAtEachStepOfReloadTableLosesAndDoublesNothing(_ point: String) async throws {
        try await DedicatedThread.run(name: "test") { try self.crashDuringReload(point) }
    }

    func crashDuringReload(_ point: String) throws {
        let (db, dir, config) = try crash.setUp("reload_crash_\(point.replacingOccurrences(of: "-", with: "_"))")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        try #require(try replicatord(["--config", config, "--once"]).status == 0)
        try db.execute(EngineIntegrationTests.changes)
        try #require(try replicatord(["--config", config, "--once"]).status == 0)

        let crashed = try replicatord(["reload-table", "--config", config, "public.orders"], environment: ["REPLICATORD_CRASH_AT": point])
        #expect(crashed.status == 97, "expected the injected crash: \(crashed.stderr)")
        // Changes after the crash: in the next snapshot or in CDC, never in both.
        try db.execute(
            "UPDATE public.orders SET status = 'after-crash' WHERE id <= 40; INSERT INTO public.orders SELECT g, 1, 'x', NULL, 1, 1, now(), NULL, true, md5(g::text)::uuid, NULL, NULL FROM generate_series(9001, 9005) g"
        )
        // The request stays until the reload is done: the next run does it again from the start.
        let resumed = try replicatord(["--config", config, "--once"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/_replicatord/reload/public.orders"), "the request is removed once done")
        try db.execute("DELETE FROM public.orders WHERE id BETWEEN 9001 AND 9002")
        #expect(try replicatord(["--config", config, "--once"]).status == 0)

        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        for name in EngineIntegrationTests.tables { #expect(result[name]?["ok"] as? Bool == true, "\(name): \(result[name] ?? [:])") }
        // One LOAD set (the reload's) and, after it, only the two deletes: nothing doubled.
        #expect(result["public.orders"]?["cdc_rows"] as? Int == 2)
        #expect(try files(dir, "orders").filter { !$0.hasPrefix("LOAD") }.count == 1)
        #expect(try table(dir, "public.orders")["status"] as? String == "replicating")
    }
}

/// `reload-table` while the service runs: the command leaves the request, the service does the
/// reload at its next cycle while it goes on storing the other tables' changes, and the command
/// returns once the request is done; /health and /metrics show the table's state throughout.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct TableReloadServiceIntegrationTests {
    let service = ServiceIntegrationTests()
    let reload = TableReloadIntegrationTests()

    @Test func reloadTableThroughTheRunningServiceWhileChangesFlow() async throws {
        let (db, dir, config, port) = try service.setUp("reload_service")
        defer { db.drop() }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = "http://127.0.0.1:\(port)"
        // events cannot be stored while this first service runs: it goes to state error.
        let refused = try ServiceIntegrationTests.Daemon(config: config, environment: ["REPLICATORD_REFUSE_TABLE": "public.events"])
        let inError = try await service.eventually(90) {
            guard let answer = try await service.get(base + "/health") else { return false }
            let tables = service.json(answer.body)["tables"] as? [String: Any]
            return service.json(answer.body)["phase"] as? String == "cdc" && (tables?["public.events"] as? [String: Any])?["status"] as? String == "error"
        }
        try #require(inError, "events never reached state error: \(refused.log)")
        let metrics = try #require(try await service.get(base + "/metrics"))
        #expect(metrics.body.contains("table=\"public.events\",state=\"error\"} 1"), "\(metrics.body)")
        #expect(await refused.stop() == 0)

        // The next start has no refusal; events stays in error until reload-table.
        let daemon = try ServiceIntegrationTests.Daemon(config: config, environment: [:])
        defer { _ = daemon }
        try #require(try await service.eventually(60) { try await service.get(base + "/health")?.status == 200 }, "\(daemon.log)")
        try db.execute(EngineIntegrationTests.changes)
        let command = try await DedicatedThread.run(name: "reload-table") {
            try reload.replicatord(["reload-table", "--config", config, "public.events"])
        }
        #expect(command.status == 0, "\(command.stderr)\n\(daemon.log)")
        #expect(command.stdout.contains("the service on 127.0.0.1:\(port) reloads public.events"), "\(command.stdout)")
        #expect(command.stdout.contains("public.events: reloaded"), "\(command.stdout)")
        try db.execute("INSERT INTO public.events VALUES ('2024-09-01', 'after', NULL); UPDATE public.orders SET note = 'after reload' WHERE id <= 3")
        // Wait until the service has confirmed the source's WAL position, then stop it and compare.
        let target = try await DedicatedThread.run(name: "lsn") { try db.connect().query("SELECT pg_current_wal_lsn()::text").rows[0][0] ?? "" }
        let caughtUp = try await service.eventually(60) {
            guard let answer = try await service.get(base + "/health") else { return false }
            let confirmed = service.json(answer.body)["confirmed_lsn"] as? String ?? ""
            return try await DedicatedThread.run(name: "lsn") {
                try db.connect().query("SELECT $1::pg_lsn >= $2::pg_lsn", [confirmed, target]).rows[0][0] == "t"
            }
        }
        #expect(caughtUp, "\(daemon.log)")
        #expect(await daemon.stop() == 0)
        let result = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        for name in EngineIntegrationTests.tables { #expect(result[name]?["ok"] as? Bool == true, "\(name): \(result[name] ?? [:])") }
        #expect(daemon.log.contains("reloading tables (reload-table)"), "\(daemon.log)")
    }
}
