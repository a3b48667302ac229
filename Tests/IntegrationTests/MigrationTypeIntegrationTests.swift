import Foundation
import Logging
import ObjectStore
import PGClient
import Testing
@testable import Daemon

/// The three DMS migration types against the live PostgreSQL and a real directory store.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct MigrationTypeIntegrationTests {
    func engine(_ db: PostgresFixture, _ dir: String, _ type: MigrationType) throws -> Engine {
        var s = EngineSettings(conninfo: db.conninfo, publication: "replicatord", slot: db.database)
        s.migrationType = type
        return Engine(
            settings: s, store: try ObjectStoreLocation(url: "file://\(dir)").makeStore(logger: Logger(label: "test")),
            logger: Logger(label: "test"))
    }

    func slots(_ db: PostgresFixture) throws -> Int {
        Int(try db.connect().query("SELECT count(*) FROM pg_replication_slots WHERE database = $1", [db.database]).rows[0][0] ?? "") ?? -1
    }

    func loadFiles(_ dir: String, _ table: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/public/\(table)")) ?? []).filter { $0.hasPrefix("LOAD") }.sorted()
    }

    @Test func fullLoadReplacesTheLoadSetEachCycleAndKeepsNoSlot() async throws {
        try await withPostgres("mt_full") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try db.execute(EngineIntegrationTests.schema)
            let e = try engine(db, dir, .fullLoad)
            for round in 1...3 {
                guard case .fullLoad = try await e.runCycle() else { Issue.record("not a full load"); return }
                let out = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
                #expect(out.allOK, "round \(round): \(out)")
                #expect(loadFiles(dir, "orders") == [FileNaming.loadFile(round)], "round \(round)")
                #expect(try slots(db) == 0)
                try db.execute(
                    "UPDATE public.orders SET status = 'round \(round)' WHERE id <= \(round * 10); DELETE FROM public.orders WHERE id = \(1000 + round)")
            }
            let state = try #require(await e.keeper.state)
            #expect(
                state.tables["public.orders"]?.firstLoadFile == 3 && state.migrationType == "full-load", "\(String(describing: state.tables["public.orders"]))")
        }
    }

    @Test func cdcWritesOnlyChangesAfterTheSlotsCreation() async throws {
        try await withPostgres("mt_cdc") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try db.execute(EngineIntegrationTests.schema)
            let e = try engine(db, dir, .cdc)
            guard case .cdc(let first) = try await e.runCycle() else { Issue.record("not CDC"); return }
            #expect(first.files.isEmpty)
            #expect(loadFiles(dir, "orders").isEmpty)
            try db.execute(EngineIntegrationTests.changes)
            guard case .cdc(let second) = try await e.runCycle() else { Issue.record("not CDC"); return }
            #expect(second.files.count == 2)
            _ = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
            let counts = try TestEnvironment.helper(
                "duckdb", ["SELECT Op, count(*) FROM read_parquet('\(dir)/public/orders/*.parquet') GROUP BY Op ORDER BY Op"])
            #expect(counts.contains("('D', 110), ('I', 210), ('U', 301)"), "\(counts)")
            #expect(try slots(db) == 1)
            // A configuration naming another migration type refuses this checkpoint.
            await #expect(throws: EngineError.self) { _ = try await engine(db, dir, .fullLoadAndCDC).runCycle() }
        }
    }
}
