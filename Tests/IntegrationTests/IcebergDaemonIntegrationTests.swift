import Replication
import Foundation
import Logging
import ObjectStore
import PGClient
import Testing
@testable import Daemon

/// `[catalog] iceberg = true` with `replicatord --once` as a process: the full load and every CDC
/// cycle are snapshots of each table's Iceberg table, read by pyiceberg, DuckDB's iceberg extension
/// and polars (`scripts/iceberg_check.py`), whose rows equal the Parquet files'; a crash at each
/// step of a commit (`REPLICATORD_CRASH_AT`) leaves tables every reader opens, and the next run
/// leaves exactly the checkpointed cycles, the oracle still passing.
@Suite(
    .enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON", "REPLICATORD_TEST_ICEBERG_PYTHON")),
    .serialized)
struct IcebergDaemonIntegrationTests {
    let crash = CrashRecoveryIntegrationTests()

    /// The crash tests' set-up with the Iceberg tables on.
    func setUp(_ name: String) throws -> (PostgresFixture, String, String) {
        let (db, dir, config) = try crash.setUp(name)
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try (text + "[catalog]\niceberg = true\n").write(toFile: config, atomically: true, encoding: .utf8)
        return (db, dir, config)
    }

    func parquetFiles(_ dir: String, _ table: String) throws -> (load: [String], cdc: [String]) {
        let all = try FileManager.default.contentsOfDirectory(atPath: dir + "/public/" + table).filter { $0.hasSuffix(".parquet") }.sorted()
        return (all.filter { $0.hasPrefix("LOAD") }, all.filter { !$0.hasPrefix("LOAD") })
    }

    /// One table's expectation for the checker: `snapshots` the current snapshot's ancestry (groups
    /// of file names, oldest first) or nil; `current` the current snapshot's files.
    struct Expected {
        var table: String
        var snapshots: [[String]]?
        var current: [String]
        var readers: [String] = []
        /// Current column name -> former names (files of an earlier layout use those).
        var renamed: [String: [String]] = [:]
        /// The ancestry's first snapshot lists files a reload removed: reading it must fail.
        var firstSnapshotUnreadable = false
    }

    /// Runs `scripts/iceberg_check.py`; fails the test on any "FAIL" line. Returns its output.
    @discardableResult
    func check(_ dir: String, _ tables: [Expected]) throws -> String {
        let python = try TestEnvironment.require("REPLICATORD_TEST_ICEBERG_PYTHON")
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/iceberg_check.py").path
        let spec: [String: Any] = [
            "tables": tables.map { t -> [String: Any] in
                var o: [String: Any] = [
                    "folder": dir + "/public/" + t.table, "current": t.current, "readers": t.readers, "renamed": t.renamed,
                    "first_snapshot_unreadable": t.firstSnapshotUnreadable,
                ]
                o["snapshots"] = t.snapshots.map { $0 as Any } ?? NSNull()
                return o
            }
        ]
        let path = dir + ".iceberg-check.json"
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try TestEnvironment.capture(python, [script, path])
        for line in run.stdout.split(separator: "\n") where line.hasPrefix("FAIL") { Issue.record("\(line)") }
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("ok "), "the checker checked nothing: \(run.stdout)\(run.stderr)")
        return run.stdout
    }

    /// The LOAD files as the first snapshot, then one snapshot per CDC file (one file per table
    /// per cycle: the changes here never change a table's layout within a cycle).
    func ancestry(_ dir: String, _ table: String, readers: [String] = []) throws -> Expected {
        let (load, cdc) = try parquetFiles(dir, table)
        return Expected(table: table, snapshots: [load] + cdc.map { [$0] }, current: load + cdc, readers: readers)
    }

    func metadataFiles(_ dir: String, _ table: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dir + "/public/" + table + "/metadata")) ?? []
    }

    @Test func aKillBetweenTheHintAndItsDeletesLeavesNothingOnceTheNextRunCommits() async throws {
        try await DedicatedThread.run(name: "test") { try self.leftoverMetadata() }
    }

    /// The names of the files of `metadata/` the table's current metadata uses or keeps.
    func referencedMetadata(_ dir: String, _ table: String) throws -> Set<String> {
        var settings = EngineSettings(conninfo: "", publication: "", slot: "")
        settings.iceberg = true
        settings.icebergLocation = dir
        let sync = IcebergSync(store: try LocalDirectoryStore(root: dir, logger: Logger(label: "test")), settings: settings)
        let loaded = try #require(try sync.load(folder: "public/\(table)/"))
        return Set(loaded.metadataFiles.map { String($0.split(separator: "/").last!) })
    }

    func leftoverMetadata() throws {
        let (db, dir, config) = try setUp("iceberg_leftovers")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        // Snapshots expire after a second: from the third snapshot on, each commit's chain expires
        // the oldest, whose manifest list it deletes after the hint moves.
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try (text + "iceberg_snapshot_retention = \"1s\"\n").write(toFile: config, atomically: true, encoding: .utf8)
        let load = try crash.once(config)
        try #require(load.status == 0, "full load failed: \(load.stderr)")
        try db.execute("UPDATE public.orders SET note = 'first' WHERE id <= 10")
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try crash.once(config).status == 0)
        try db.execute("UPDATE public.orders SET note = 'second' WHERE id <= 10")
        Thread.sleep(forTimeInterval: 1.2)
        let killed = try crash.once(config, crashAt: "after-iceberg-hint-advanced")
        #expect(killed.status == 97, "expected the injected crash: \(killed.stderr)")
        let left = Set(metadataFiles(dir, "orders")).subtracting(try referencedMetadata(dir, "orders"))
        #expect(!left.isEmpty, "the kill left no metadata file behind: the test tests nothing")
        // The table opens in every reader as it is: the hint moved, the cycle's snapshot is current.
        let (loaded, cdc) = try parquetFiles(dir, "orders")
        try check(dir, [Expected(table: "orders", snapshots: nil, current: loaded + cdc)])

        try db.execute("UPDATE public.orders SET note = 'third' WHERE id <= 10")
        let next = try crash.once(config)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(Set(metadataFiles(dir, "orders")) == (try referencedMetadata(dir, "orders")), "leftovers stayed: \(left.sorted())")
        let oracle = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: ["public.orders"])
        #expect(oracle["public.orders"]?["ok"] as? Bool == true, "\(oracle)")
    }

    @Test func fullLoadAndCyclesAreOneSnapshotEachReadByEveryReader() async throws {
        try await DedicatedThread.run(name: "test") { try self.cycles() }
    }

    func cycles() throws {
        let (db, dir, config) = try setUp("iceberg_cycles")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        let load = try crash.once(config)
        try #require(load.status == 0, "full load failed: \(load.stderr)")
        for table in ["orders", "events", "untouched"] {
            #expect(metadataFiles(dir, table).contains("version-hint.text"), "\(table) has an Iceberg table")
        }
        try check(dir, [try ancestry(dir, "orders"), try ancestry(dir, "events"), try ancestry(dir, "untouched")])

        // Three cycles; the third after a schema change (a new column) on events.
        try db.execute(EngineIntegrationTests.changes)
        #expect(try crash.once(config).status == 0)
        try db.execute("UPDATE public.orders SET note = 'second' WHERE id <= 40; INSERT INTO public.events VALUES ('2024-07-01', 'second', NULL)")
        #expect(try crash.once(config).status == 0)
        try db.execute(
            "ALTER TABLE public.events ADD COLUMN source text; INSERT INTO public.events VALUES ('2024-08-01', 'third', '\\x02', 'api'); DELETE FROM public.orders WHERE id BETWEEN 100 AND 109"
        )
        let third = try crash.once(config)
        #expect(third.status == 0, "\(third.stderr)")
        // A fourth, after a rename: the files before it name the column kind, the table category.
        try db.execute("ALTER TABLE public.events RENAME COLUMN kind TO category; INSERT INTO public.events VALUES ('2024-09-01', 'fourth', NULL, 'cli')")
        let fourth = try crash.once(config)
        #expect(fourth.status == 0, "\(fourth.stderr)")

        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        for name in EngineIntegrationTests.tables { #expect(result[name]?["ok"] as? Bool == true, "\(name): \(result[name] ?? [:])") }
        let readers = ["duckdb", "polars"]
        let orders = try ancestry(dir, "orders", readers: readers)
        var events = try ancestry(dir, "events", readers: readers)
        events.renamed = ["category": ["kind"]]
        #expect(orders.snapshots?.count == 4 && events.snapshots?.count == 5, "a LOAD snapshot and one per cycle with changes")
        let out = try check(dir, [orders, events, try ancestry(dir, "untouched", readers: readers)])
        #expect(out.contains("ok public/events: DuckDB iceberg_scan(table folder) current rows"), "\(out)")
        #expect(out.contains("ok public/orders: polars scan_iceberg current rows"), "\(out)")
        // The schema change is an Iceberg schema update: events' current schema has the new column.
        let hint = try String(contentsOfFile: dir + "/public/events/metadata/version-hint.text", encoding: .utf8)
        let metadata = try String(
            contentsOfFile: dir + "/public/events/metadata/v\(hint.trimmingCharacters(in: .whitespacesAndNewlines)).metadata.json", encoding: .utf8)
        #expect(metadata.contains("\"source\""), "the new column is in the Iceberg schema")
        #expect(metadata.contains("\"category\"") && metadata.contains("\"kind\""), "renamed, the former name in the name mapping")
    }

    @Test func turnedOnLaterTheFirstCycleWarnsAndReloadTableMakesTheWholeTable() async throws {
        try await DedicatedThread.run(name: "test") { try self.turnedOnLater() }
    }

    func turnedOnLater() throws {
        let (db, dir, config) = try crash.setUp("iceberg_later")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(try crash.once(config).status == 0)
        #expect(metadataFiles(dir, "orders").isEmpty, "iceberg off: no metadata")
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try (text + "[catalog]\niceberg = true\n").write(toFile: config, atomically: true, encoding: .utf8)
        try db.execute(EngineIntegrationTests.changes)
        let cycle = try crash.once(config)
        #expect(cycle.status == 0, "\(cycle.stderr)")
        #expect(cycle.stderr.contains("earlier files are not in it") && cycle.stderr.contains("public.orders"), "\(cycle.stderr)")
        let (_, cdc) = try parquetFiles(dir, "orders")
        try check(dir, [Expected(table: "orders", snapshots: [cdc], current: cdc)])
        let reload = try TestEnvironment.capture(CrashRecoveryIntegrationTests.binary, ["reload-table", "--config", config, "public.orders"])
        #expect(reload.status == 0, "\(reload.stderr)")
        let (load, after) = try parquetFiles(dir, "orders")
        #expect(after.isEmpty)
        try check(dir, [Expected(table: "orders", snapshots: nil, current: load, readers: ["duckdb"])])
        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result["public.orders"]?["ok"] as? Bool == true)
    }

    @Test func theFullLoadMigrationTypeOverwritesEveryRun() async throws {
        try await DedicatedThread.run(name: "test") { try self.fullLoadMigration() }
    }

    func fullLoadMigration() throws {
        let (db, dir, config) = try setUp("iceberg_full_load")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try text.replacingOccurrences(of: "[task]\n", with: "[task]\nmigration_type = \"full-load\"\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try crash.once(config).status == 0)
        try db.execute("DELETE FROM public.events WHERE kind = 'k2'; UPDATE public.orders SET note = 'again' WHERE id <= 5")
        let second = try crash.once(config)
        #expect(second.status == 0, "\(second.stderr)")
        var expected: [Expected] = []
        for table in ["orders", "events", "untouched"] {
            let (load, cdc) = try parquetFiles(dir, table)
            #expect(cdc.isEmpty && load.count == 1, "\(table): the second run's LOAD set only: \(load)")
            expected.append(Expected(table: table, snapshots: nil, current: load, readers: table == "events" ? ["duckdb", "polars"] : []))
        }
        try check(dir, expected)
        let hint = try String(contentsOfFile: dir + "/public/events/metadata/version-hint.text", encoding: .utf8)
        let metadata = try String(
            contentsOfFile: dir + "/public/events/metadata/v\(hint.trimmingCharacters(in: .whitespacesAndNewlines)).metadata.json", encoding: .utf8)
        #expect(metadata.contains("\"overwrite\""), "the second run is an overwrite snapshot")
    }

    @Test(arguments: ["after-files-stored", "after-iceberg-metadata-stored", "after-iceberg-hint-advanced", "after-state-committed"])
    func aCrashAtEachStepOfACycleCommitLeavesTheCheckpointedCycles(_ point: String) async throws {
        try await DedicatedThread.run(name: "test") { try self.crashInACycle(point) }
    }

    func crashInACycle(_ point: String) throws {
        let (db, dir, config) = try setUp("iceberg_crash_\(point.replacingOccurrences(of: "-", with: "_"))")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        let load = try crash.once(config)
        try #require(load.status == 0, "full load failed: \(load.stderr)")
        let loaded = ["orders": try parquetFiles(dir, "orders").load, "events": try parquetFiles(dir, "events").load]
        try db.execute(EngineIntegrationTests.changes)

        let crashed = try crash.once(config, crashAt: point)
        #expect(crashed.status == 97, "expected the injected crash: \(crashed.stderr)")
        // Every reader opens each table now. Before the hint moves a table shows its LOAD set; the
        // first table committed (orders: its changes come first) shows the cycle once its hint
        // moved, though the checkpoint does not cover it yet (the redo finds it committed).
        let cdc = ["orders": try parquetFiles(dir, "orders").cdc, "events": try parquetFiles(dir, "events").cdc]
        func seen(_ table: String, cycle: Bool) -> Expected {
            cycle
                ? Expected(table: table, snapshots: [loaded[table]!, cdc[table]!], current: loaded[table]! + cdc[table]!)
                : Expected(table: table, snapshots: [loaded[table]!], current: loaded[table]!)
        }
        let ordersHasCycle = point == "after-iceberg-hint-advanced" || point == "after-state-committed"
        try check(dir, [seen("orders", cycle: ordersHasCycle), seen("events", cycle: point == "after-state-committed")])

        try db.execute(
            "INSERT INTO public.orders SELECT g, 1, 'after', NULL, 1, 1, now(), NULL, true, md5(g::text)::uuid, NULL, NULL FROM generate_series(9001, 9010) g")
        let again = try crash.once(config)
        #expect(again.status == 0, "\(again.stderr)")
        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result["public.orders"]?["ok"] as? Bool == true)
        #expect(result["public.events"]?["ok"] as? Bool == true)
        #expect(result["public.orders"]?["cdc_rows"] as? Int == 621 + 10)
        // The LOAD set, the cycle (redone or not), the next cycle: no snapshot lost or doubled. A
        // redo may read past its intent's end (then it removes the intent's files and writes the
        // inserts made after the crash into its own file, "redone cycle differs from its intent"):
        // orders then has one CDC file, and the rolled-back snapshot must not be an ancestor.
        let orders = try ancestry(dir, "orders"), events = try ancestry(dir, "events")
        let ordersSnapshots = point == "after-state-committed" ? [3] : [2, 3]
        #expect(
            ordersSnapshots.contains(orders.snapshots?.count ?? 0) && events.snapshots?.count == 2,
            "orders \(orders.snapshots ?? []), events \(events.snapshots ?? [])")
        try check(dir, [orders, events])
    }

    @Test(arguments: ["after-load-files-stored", "after-iceberg-metadata-stored", "after-iceberg-hint-advanced"])
    func aCrashInTheFullLoadsCommitIsReplacedByTheResumedLoad(_ point: String) async throws {
        try await DedicatedThread.run(name: "test") { try self.crashInTheLoad(point) }
    }

    func crashInTheLoad(_ point: String) throws {
        let (db, dir, config) = try setUp("iceberg_load_\(point.replacingOccurrences(of: "-", with: "_"))")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        let crashed = try crash.once(config, crashAt: point)
        #expect(crashed.status == 97, "expected the injected crash: \(crashed.stderr)")
        try db.execute("UPDATE public.orders SET status = 'between' WHERE id <= 50; DELETE FROM public.events WHERE kind = 'k3'")
        let resumed = try crash.once(config)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try db.execute(EngineIntegrationTests.changes)
        let cdc = try crash.once(config)
        #expect(cdc.status == 0, "\(cdc.stderr)")
        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result["public.orders"]?["ok"] as? Bool == true)
        #expect(result["public.events"]?["ok"] as? Bool == true)
        #expect(result["public.orders"]?["cdc_rows"] as? Int == 621)
        // The current snapshot holds exactly the files of the checkpoint (the resumed load's LOAD
        // set and the cycle); a table whose first load got as far as its hint has that snapshot
        // as an ancestor, overwritten (its files were removed with the interrupted load).
        var expected: [Expected] = []
        for table in ["orders", "events", "untouched"] {
            let (load, cdcFiles) = try parquetFiles(dir, table)
            expected.append(Expected(table: table, snapshots: nil, current: load + cdcFiles))
        }
        try check(dir, expected)
    }

    /// On S3 (moto): the engine commits through the S3 store (head, get, put of the metadata);
    /// the stored table, read back from S3, has one snapshot for the load and one per cycle, and a
    /// table added to the publication during CDC gets its own table. Checked with the Iceberg module
    /// (the Python readers are not given S3 access here).
    @Test(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_S3_ENDPOINT")))
    func onS3TheEngineCommitsEveryCycle() async throws {
        try await withPostgres("iceberg_s3") { db in
            let endpoint = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
            let bucket = "iceberg-\(UInt32.random(in: 0...UInt32.max))"
            _ = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
            try TestEnvironment.helper("create-bucket", [endpoint, bucket])
            let store = try ObjectStoreLocation(url: "s3://\(bucket)/replica/db", region: "us-east-1", endpoint: endpoint, pathStyle: true)
                .makeStore(logger: Logger(label: "test"))
            try db.execute(EngineIntegrationTests.schema)
            var settings = EngineIntegrationTests().settings(db)
            settings.iceberg = true
            settings.icebergLocation = "s3://\(bucket)/replica/db"
            let engine = Engine(settings: settings, store: store, logger: Logger(label: "test"))
            _ = try await engine.runCycle()
            try db.execute(EngineIntegrationTests.changes)
            _ = try await engine.runCycle()
            try db.execute(
                """
                CREATE TABLE public.late (id int PRIMARY KEY, v text);
                INSERT INTO public.late SELECT g, 'before' FROM generate_series(1, 100) g;
                ALTER PUBLICATION replicatord ADD TABLE public.late;
                INSERT INTO public.late SELECT g, 'added' FROM generate_series(101, 150) g;
                """)
            _ = try await engine.runCycle()
            try db.execute("INSERT INTO public.late VALUES (1000, 'after')")
            _ = try await engine.runCycle()
            let oracle = try await Oracle.check(
                conninfo: db.conninfo, files: .s3(endpoint: endpoint, bucket: bucket, prefix: "replica/db"),
                tables: ["public.orders", "public.late"])
            #expect(oracle.allOK, "\(oracle)")

            let sync = IcebergSync(store: store, settings: settings)
            let tables = try await DedicatedThread.run(name: "test") { () throws -> [String: (snapshots: Int, files: [String], rows: Int64)] in
                var out: [String: (Int, [String], Int64)] = [:]
                for name in ["orders", "events", "late"] {
                    guard let table = try sync.load(folder: "public/\(name)/") else { continue }
                    var ancestry = 0
                    var cursor = table.metadata.currentSnapshot
                    while let s = cursor { ancestry += 1; cursor = s.parentSnapshotID.flatMap { table.metadata.snapshot(id: $0) } }
                    out[name] = (ancestry, table.liveDataFiles().map(\.path).sorted(), table.liveDataFiles().reduce(0) { $0 + $1.recordCount })
                }
                return out
            }
            let stored = try await store.list(prefix: "public/")
            for name in ["orders", "events", "late"] {
                let parquet = stored.filter { $0.key.hasPrefix("public/\(name)/") && $0.key.hasSuffix(".parquet") }
                    .map { "s3://\(bucket)/replica/db/" + $0.key }.sorted()
                let table = try #require(tables[name], "\(name) has an Iceberg table on S3")
                #expect(table.files == parquet, "\(name): the current snapshot holds every stored Parquet file")
            }
            #expect(tables["orders"]?.snapshots == 2 && tables["events"]?.snapshots == 2, "the load and the cycle")
            #expect(tables["orders"]?.rows == Int64(3000 + 621), "the files' record counts")
            // late: its own load (150 rows in its snapshot), then the cycle with the insert after it.
            #expect(tables["late"]?.snapshots == 2 && tables["late"]?.rows == 151)
        }
    }

    @Test func reloadTableIsAnOverwriteSnapshot() async throws {
        try await DedicatedThread.run(name: "test") { try self.reload() }
    }

    func reload() throws {
        let (db, dir, config) = try setUp("iceberg_reload")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(try crash.once(config).status == 0)
        try db.execute(EngineIntegrationTests.changes)
        #expect(try crash.once(config).status == 0)
        let reload = try TestEnvironment.capture(CrashRecoveryIntegrationTests.binary, ["reload-table", "--config", config, "public.events"])
        #expect(reload.status == 0, "\(reload.stderr)")
        try db.execute("INSERT INTO public.events VALUES ('2024-08-01', 'after-reload', '\\x01')")
        #expect(try crash.once(config).status == 0)
        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        for name in EngineIntegrationTests.tables { #expect(result[name]?["ok"] as? Bool == true, "\(name): \(result[name] ?? [:])") }
        let (load, cdc) = try parquetFiles(dir, "events")
        #expect(cdc.count == 1)
        let out = try check(
            dir,
            [
                Expected(
                    table: "events", snapshots: nil, current: load + cdc, readers: ["duckdb", "polars"],
                    firstSnapshotUnreadable: true),
                try ancestry(dir, "orders"),
            ])
        #expect(out.contains("ok public/events: pyiceberg time travel to the snapshot before the reload fails"), "\(out)")
        let hint = try String(contentsOfFile: dir + "/public/events/metadata/version-hint.text", encoding: .utf8)
        let metadata = try String(
            contentsOfFile: dir + "/public/events/metadata/v\(hint.trimmingCharacters(in: .whitespacesAndNewlines)).metadata.json", encoding: .utf8)
        #expect(metadata.contains("\"operation\":\"overwrite\"") || metadata.contains("\"operation\": \"overwrite\""), "reload-table is an overwrite snapshot")
    }
}
