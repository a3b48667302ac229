import Replication
import Foundation
import PGClient
import Testing

/// `replicatord --once` as a process, crashed (exit without cleanup) at each step of a cycle by
/// `REPLICATORD_CRASH_AT`, then run again normally: the tables rebuilt from the files equal the
/// source and the CDC files hold exactly as many rows as changes made.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct CrashRecoveryIntegrationTests {
    /// The daemon built next to the test bundle.
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("replicatord").path

    struct Run { var status: Int32; var stderr: String }

    func once(_ config: String, crashAt: String? = nil) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--config", config, "--once"]
        var env = ProcessInfo.processInfo.environment
        env["REPLICATORD_CRASH_AT"] = crashAt
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stderr: String(decoding: data, as: UTF8.self))
    }

    func setUp(_ name: String) throws -> (PostgresFixture, String, String) {
        let db = try PostgresFixture(name)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let config = dir + ".toml"
        try TestEnvironment.writeConfig(
            to: config, conninfo: db.conninfo, slot: db.database, target: "url = \"file://\(dir)\"",
            spoolDir: dir + ".spool", logLevel: "warning")
        try db.execute(EngineIntegrationTests.schema)
        return (db, dir, config)
    }

    @Test(arguments: ["after-file-written", "after-files-stored", "after-state-committed"])
    func aCrashAtEachStepOfACDCCycleLosesAndDoublesNothing(_ point: String) async throws {
        // Blocking work (child processes, libpq) runs on a thread of its own, not the test pool.
        try await DedicatedThread.run(name: "test") { try self.crashAtEachStep(point) }
    }

    func crashAtEachStep(_ point: String) throws {
        let (db, dir, config) = try setUp("crash_\(point.replacingOccurrences(of: "-", with: "_"))")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        let load = try once(config)
        try #require(load.status == 0, "full load failed: \(load.stderr)")
        try db.execute(EngineIntegrationTests.changes)

        let crashed = try once(config, crashAt: point)
        #expect(crashed.status == 97, "expected the injected crash: \(crashed.stderr)")
        try db.execute(
            "INSERT INTO public.orders SELECT g, 1, 'after', NULL, 1, 1, now(), NULL, true, md5(g::text)::uuid, NULL, NULL FROM generate_series(9001, 9010) g")
        let again = try once(config)
        #expect(again.status == 0, "\(again.stderr)")

        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result["public.orders"]?["ok"] as? Bool == true)
        #expect(result["public.events"]?["ok"] as? Bool == true)
        // 621 rows for the changes, 10 for the inserts after the crash: none lost, none doubled.
        #expect(result["public.orders"]?["cdc_rows"] as? Int == 621 + 10)
    }

    @Test func aCrashDuringTheFullLoadResumesInANewSnapshotWithoutDoubles() async throws {
        try await DedicatedThread.run(name: "test") { try self.crashDuringTheFullLoad() }
    }

    func crashDuringTheFullLoad() throws {
        let (db, dir, config) = try setUp("crash_load")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        let crashed = try once(config, crashAt: "after-load-files-stored")
        #expect(crashed.status == 97, "expected the injected crash: \(crashed.stderr)")
        // Changes between the two snapshots belong to the new LOAD set, never to CDC too.
        try db.execute("UPDATE public.orders SET status = 'between' WHERE id <= 50; DELETE FROM public.events WHERE kind = 'k3'")
        let resumed = try once(config)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try db.execute(EngineIntegrationTests.changes)
        let cdc = try once(config)
        #expect(cdc.status == 0, "\(cdc.stderr)")
        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result["public.orders"]?["ok"] as? Bool == true)
        #expect(result["public.events"]?["ok"] as? Bool == true)
        #expect(result["public.orders"]?["cdc_rows"] as? Int == 621)
        #expect(result["public.orders"]?["load_files"] as? Int == 1)
    }

    @Test func aConfigErrorExitsNonZeroWithOneLineNamingTheKey() async throws {
        try await DedicatedThread.run(name: "test") { try self.configError() }
    }

    func configError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
        let config = dir + ".toml"
        try "[source]\nconninfo = \"host=x\"\n[target]\nurl = \"ftp://nowhere\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let run = try once(config)
        #expect(run.status != 0)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.contains("target.url") == true, "\(run.stderr)")
    }
}
