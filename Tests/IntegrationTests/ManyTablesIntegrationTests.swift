import Replication
import Foundation
import Logging
import ObjectStore
import PGClient
import Testing
@testable import Daemon

/// A directory store that counts listings and checkpoint writes (issue 20 counts requests, not time).
final class ManyTablesCountingStore: ObjectStore, @unchecked Sendable {
    let inner: LocalDirectoryStore
    private let lock = NSLock()
    private var puts: [(key: String, bytes: Int)] = []
    private var listings = 0

    init(root: String) throws { inner = try LocalDirectoryStore(root: root, logger: Logger(label: "test")) }

    private func locked<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }
    struct Counts { var lists: Int; var heads: Int; var shards: Int; var checkpointBytes: Int }
    /// What was asked since the last call.
    func take() -> Counts {
        locked {
            defer { puts = []; listings = 0 }
            let checkpoint = puts.filter { $0.key.hasPrefix("_replicatord/") }
            return Counts(
                lists: listings, heads: checkpoint.filter { $0.key == Checkpoint.key }.count,
                shards: checkpoint.filter { $0.key != Checkpoint.key }.count,
                checkpointBytes: checkpoint.reduce(0) { $0 + $1.bytes })
        }
    }

    func makeUpload(key: String, contentType: String?) async throws -> any ObjectUpload { try await inner.makeUpload(key: key, contentType: contentType) }
    func put(key: String, bytes: [UInt8], contentType: String?) async throws -> StoredObject {
        locked { puts.append((key, bytes.count)) }
        return try await inner.put(key: key, bytes: bytes, contentType: contentType)
    }
    func get(key: String) async throws -> [UInt8] { try await inner.get(key: key) }
    func head(key: String) async throws -> ObjectInfo? { try await inner.head(key: key) }
    /// Listings of the data (the tables' folders or the whole prefix). A CDC cycle's one listing of
    /// `_replicatord/reload/` (waiting `reload-table` requests, a constant cost) is counted apart.
    private(set) var requestListings = 0
    func list(prefix: String) async throws -> [ObjectInfo] {
        locked { if prefix.hasPrefix("_replicatord/") { requestListings += 1 } else { listings += 1 } }
        return try await inner.list(prefix: prefix)
    }
    func delete(key: String) async throws { try await inner.delete(key: key) }
    func listOpenMultipartUploads(prefix: String) async throws -> [OpenMultipartUpload] { try await inner.listOpenMultipartUploads(prefix: prefix) }
    func abortMultipartUpload(_ upload: OpenMultipartUpload) async throws { try await inner.abortMultipartUpload(upload) }
}

/// Many small tables (issue 20) at a size CI affords: the full load's store listings and checkpoint
/// writes do not grow with the square of the tables, an idle cycle writes no table's state, and a
/// kill -9 in the middle of the load loses and doubles nothing.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct ManyTablesIntegrationTests {
    /// Creates `count` tables `public.t1...` of `rows` rows each (100 per transaction: each
    /// holds a lock per table) and the publication `replicatord` of them all.
    static func makeTables(_ db: PostgresFixture, count: Int, rows: Int) throws {
        for start in stride(from: 1, through: count, by: 100) {
            try db.execute(
                """
                DO $$ BEGIN FOR i IN \(start)..\(min(count, start + 99)) LOOP
                  EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, name text, amount numeric(12,2), at timestamptz)', i);
                  EXECUTE format('INSERT INTO public.t%s SELECT g, ''name '' || g, g * 1.25, timestamptz ''2026-01-01 00:00:00+00'' + g * interval ''1 minute'' FROM generate_series(1, \(rows)) g', i);
                END LOOP; END $$
                """)
        }
        try db.execute("CREATE PUBLICATION replicatord FOR TABLES IN SCHEMA public")
    }

    /// Runs `sql` (with `%s` for the table number) on tables `1...count` whose number `where` accepts.
    static func forTables(_ db: PostgresFixture, count: Int, where accept: String = "true", _ sql: String) throws {
        for start in stride(from: 1, through: count, by: 100) {
            try db.execute(
                """
                DO $$ BEGIN FOR i IN \(start)..\(min(count, start + 99)) LOOP
                  IF \(accept) THEN EXECUTE format('\(sql.replacingOccurrences(of: "'", with: "''"))', i); END IF;
                END LOOP; END $$
                """)
        }
    }

    struct LoadCounts {
        var load: ManyTablesCountingStore.Counts
        var idle: ManyTablesCountingStore.Counts
        var changes: [ManyTablesCountingStore.Counts]
        var stateBytes: Int
    }

    /// The full load of `count` tables, an idle cycle, and three cycles with changes in 5 tables each, counted.
    func countedRun(tables count: Int) async throws -> LoadCounts {
        return try await withPostgres("many_\(count)") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try Self.makeTables(db, count: count, rows: 20)
            let store = try ManyTablesCountingStore(root: dir)
            var settings = EngineSettings(conninfo: db.conninfo, publication: "replicatord", slot: db.database)
            settings.parallelTables = 2
            let engine = Engine(settings: settings, store: store, logger: Logger(label: "test"))
            guard case .fullLoad(let n) = try await engine.runCycle() else { throw EngineError(.writeFailed, "the first cycle was not the full load") }
            #expect(n == count)
            let load = store.take()
            let state = try #require(await engine.keeper.state)
            #expect(state.tables.count == count && state.tables.values.allSatisfy { $0.status == .replicating && $0.loadFiles == 1 })
            let stateBytes = try CheckpointLayout.Shard(tables: state.tables).encoded().count

            guard case .cdc(let idle) = try await engine.runCycle() else { throw EngineError(.writeFailed, "not a CDC cycle") }
            #expect(idle.files.isEmpty)
            let idleCounts = store.take()

            var changes: [ManyTablesCountingStore.Counts] = []
            for round in 0..<3 {
                try Self.forTables(db, count: 5 * (round + 1), where: "i > \(5 * round)", "UPDATE public.t%s SET amount = amount + 1 WHERE id = 1")
                guard case .cdc(let changed) = try await engine.runCycle() else { throw EngineError(.writeFailed, "not a CDC cycle") }
                #expect(changed.files.count == 5)
                changes.append(store.take())
            }
            return LoadCounts(load: load, idle: idleCounts, changes: changes, stateBytes: stateBytes)
        }
    }

    @Test func storeListingsAndCheckpointWritesGrowLinearlyWithTheTables() async throws {
        let small = try await countedRun(tables: 100)
        let large = try await countedRun(tables: 500)
        // Listings: a fixed number per full load (the prefix once, the checkpoint's shards once),
        // not one per table.
        #expect(large.load.lists == small.load.lists && large.load.lists <= 3, "lists: \(small.load.lists) -> \(large.load.lists)")
        // The checkpoint is written in batches (1/16 of the tables, or every 5 s), not per table.
        #expect(large.load.heads <= 16 + 2 + 10, "checkpoint writes during the full load of 500 tables: \(large.load.heads)")
        // Bytes: each table's entry is written a few times in all (base, its delta, one
        // compaction), so 5x the tables cost about 5x the bytes; rewriting the whole state per
        // table would cost 25x.
        let ratio = Double(large.load.checkpointBytes) / Double(small.load.checkpointBytes)
        #expect(ratio < 7.5, "checkpoint bytes \(small.load.checkpointBytes) -> \(large.load.checkpointBytes) (\(ratio)x)")
        #expect(large.load.checkpointBytes < 5 * large.stateBytes, "\(large.load.checkpointBytes) bytes written for a state of \(large.stateBytes)")
        // An idle cycle writes no table's state (at most the head, if the WAL position moved) and lists
        // nothing of the data (only the reload-table requests' prefix).
        for run in [small, large] {
            #expect(run.idle.shards == 0 && run.idle.heads <= 1 && run.idle.lists == 0, "idle cycle: \(run.idle)")
            // Changes in 5 tables: the head and one delta of those 5, whatever the table count;
            // once, the deltas of the full load (an entry per table) become new base shards.
            let deltaOnly = run.changes.filter { $0.shards == 1 }
            #expect(deltaOnly.count >= 2 && run.changes.allSatisfy { $0.heads <= 2 }, "cycles with 5 changed tables: \(run.changes)")
        }
        let smallest = { (run: LoadCounts) in run.changes.map(\.checkpointBytes).min() ?? 0 }
        #expect(smallest(large) < 2 * smallest(small), "checkpoint bytes of a 5-table cycle: \(smallest(small)) -> \(smallest(large))")
    }

    /// An idle cycle does no per-table work: the catalog is not read table by table (one signature
    /// query; a new process takes the tables from the spool directory's kept read), no table's
    /// state is written, no table's metrics are touched. A catalog change (a table created, a
    /// column added) is seen at the next cycle.
    @Test func anIdleCycleReadsNoTableOfTheCatalogAndWritesNoTableStateButSeesACatalogChange() async throws {
        let count = 60
        try await withPostgres("many_idle") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
            try Self.makeTables(db, count: count, rows: 5)
            let store = try ManyTablesCountingStore(root: dir)
            var settings = EngineSettings(conninfo: db.conninfo, publication: "replicatord", slot: db.database)
            settings.spoolDirectory = dir + ".spool"
            let engine = Engine(settings: settings, store: store, logger: Logger(label: "test"))
            guard case .fullLoad = try await engine.runCycle() else { throw EngineError(.writeFailed, "the first cycle was not the full load") }
            #expect(engine.catalog.fullReads == 1)
            _ = store.take()
            let monitor = ServiceMonitor(state: HealthState(interval: .seconds(10), startedAt: Date(), phase: .cdc, slot: db.database))
            for round in 0..<3 {
                guard case .cdc(let idle) = try await engine.runCycle() else { throw EngineError(.writeFailed, "not a CDC cycle") }
                #expect(idle.files.isEmpty)
                let checkpoint = await engine.keeper.state
                await monitor.update { $0.cycleSucceeded(at: Date(), kind: .cdc, files: 0, rows: 0, checkpoint: checkpoint) }
                let counts = store.take()
                #expect(counts.shards == 0 && counts.lists == 0 && counts.heads <= 1, "idle cycle \(round): \(counts)")
            }
            #expect(
                engine.catalog.fullReads == 1 && engine.catalog.reuses == 3, "catalog: \(engine.catalog.fullReads) full reads, \(engine.catalog.reuses) reuses")
            let metricsUpdates = await monitor.metricsTableUpdates
            #expect(metricsUpdates == count, "metrics: \(metricsUpdates) table updates for \(count) tables")

            // A new process (as --once is): the kept read in the spool directory, no full read.
            let again = Engine(settings: settings, store: store, logger: Logger(label: "test"))
            guard case .cdc = try await again.runCycle() else { throw EngineError(.writeFailed, "not a CDC cycle") }
            #expect(again.catalog.fullReads == 0 && again.catalog.reuses == 1)
            #expect(store.take().shards == 0)

            // A table created in the published schema: read in full, and the table gets its own full load.
            try db.execute("CREATE TABLE public.added (id int PRIMARY KEY, note text); INSERT INTO public.added VALUES (1, 'one'), (2, 'two')")
            _ = try await again.runCycle()
            #expect(again.catalog.fullReads == 1)
            let added = await again.keeper.state?.tables["public.added"]
            #expect(added?.fullLoadRows == 2, "public.added: \(String(describing: added))")
            // A column added: read in full once, then kept again.
            try db.execute("ALTER TABLE public.t1 ADD COLUMN extra text")
            _ = try await again.runCycle()
            _ = try await again.runCycle()
            #expect(again.catalog.fullReads == 2 && again.catalog.reuses == 2, "catalog: \(again.catalog.fullReads) full reads, \(again.catalog.reuses) reuses")
        }
    }

    @Test func aKill9InTheMiddleOfTheFullLoadOfManyTablesLosesAndDoublesNothing() async throws {
        try await DedicatedThread.run(name: "test") { try self.killDuringTheLoad() }
    }

    func killDuringTheLoad() throws {
        let count = 500
        try withPostgres("many_kill") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { for path in [dir, dir + ".spool", dir + ".toml"] { try? FileManager.default.removeItem(atPath: path) } }
            try Self.makeTables(db, count: count, rows: 50)
            let config = dir + ".toml"
            try TestEnvironment.writeConfig(
                to: config, conninfo: db.conninfo, slot: db.database, target: "url = \"file://\(dir)\"",
                spoolDir: dir + ".spool", logLevel: "warning")

            // The full load, killed (SIGKILL) once some of the tables' LOAD files are stored.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CrashRecoveryIntegrationTests.binary)
            process.arguments = ["--config", config, "--once"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            func loadFiles() -> Int {
                let folder = dir + "/public"
                let tables = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                return tables.reduce(0) { n, t in n + (FileManager.default.fileExists(atPath: "\(folder)/\(t)/LOAD00000001.parquet") ? 1 : 0) }
            }
            let deadline = Date().addingTimeInterval(120)
            while process.isRunning, loadFiles() < count / 3, Date() < deadline { usleep(20_000) }
            try #require(process.isRunning, "the full load ended before it could be killed")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)

            // Killed in the middle: the checkpoint records some tables, not all.
            let store = try LocalDirectoryStore(root: dir, logger: Logger(label: "test"))
            let killed = try BlockingCall.wait { try await CheckpointStore(store: store, logger: Logger(label: "test")).load() }
            let recordedTables = Set(killed?.tables.filter { $0.value.status == .replicating }.map(\.key) ?? [])
            let recorded = recordedTables.count
            #expect(killed?.phase == .fullLoad && recorded < count, "phase \(String(describing: killed?.phase)), \(recorded) tables recorded")
            let stored = loadFiles()
            #expect(stored >= recorded, "\(stored) tables with LOAD files, \(recorded) recorded")

            // Changes while the daemon is down; then the resumed load (a new snapshot for the tables
            // not recorded), changes, and a CDC cycle.
            try Self.forTables(db, count: count, where: "i % 7 = 0", "INSERT INTO public.t%s VALUES (1000, 'between', 1, now())")
            let resumed = try TestEnvironment.capture(CrashRecoveryIntegrationTests.binary, ["--config", config, "--once"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            try Self.forTables(db, count: count, "UPDATE public.t%s SET name = 'changed' WHERE id = 1")
            try Self.forTables(db, count: count, where: "i % 3 = 0", "DELETE FROM public.t%s WHERE id = 2")
            let cdc = try TestEnvironment.capture(CrashRecoveryIntegrationTests.binary, ["--config", config, "--once"])
            #expect(cdc.status == 0, "\(cdc.stderr)")

            // Every table rebuilt from its files equals the source; each has one LOAD file (one LOAD
            // set), and its CDC files hold exactly its changes.
            let names = (1...count).map { "public.t\($0)" }
            let results = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: names).verdicts
            var problems: [String] = []
            for result in results {
                let table = result["table"] as? String ?? "?"
                let n = Int(table.dropFirst("public.t".count)) ?? 0
                // The update, the delete in every third table, and the insert made while the daemon
                // was down in every seventh: a change for a table recorded before the kill, part of
                // the new LOAD set for one loaded again.
                let expectedCDC = 1 + (n % 3 == 0 ? 1 : 0) + (n % 7 == 0 && recordedTables.contains(table) ? 1 : 0)
                if result["ok"] as? Bool != true { problems.append("\(table): \(result["problems"] ?? "")") }
                if result["load_files"] as? Int != 1 { problems.append("\(table): \(result["load_files"] ?? "?") LOAD files") }
                if result["cdc_rows"] as? Int != expectedCDC { problems.append("\(table): \(result["cdc_rows"] ?? "?") CDC rows, expected \(expectedCDC)") }
            }
            #expect(problems.isEmpty, "\(problems.count) problems: \(problems.prefix(10))")
            // The kill came between a table's files and its record for some tables (not a certainty
            // of timing, so only logged): those were loaded again, never doubled (one LOAD file each).
            print("kill -9 test: \(recorded) of \(count) tables recorded at the kill, \(stored) with LOAD files stored")
        }
    }
}
