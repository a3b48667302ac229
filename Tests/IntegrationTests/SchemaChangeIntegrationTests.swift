import Replication
import Foundation
import Logging
import ObjectStore
import PGClient
import Testing
@testable import Daemon

/// Small transactions against the source on a thread of their own until stopped: the workload the
/// schema changes happen under. Statements that fail (a table renamed away) are counted, not fatal.
final class BackgroundWriter: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private var table: String
    private let conninfo: String
    private let done = DispatchSemaphore(value: 0)
    private(set) var transactions = 0
    private(set) var failures = 0
    private var next: Int

    init(conninfo: String, table: String, firstID: Int) {
        self.conninfo = conninfo
        self.table = table
        self.next = firstID
    }

    /// The table the writer changes from now on.
    func retarget(_ table: String) { lock.withLock { self.table = table } }

    func start() {
        lock.withLock { running = true }
        let thread = Thread { [self] in
            defer { done.signal() }
            guard let connection = try? PGConnection(conninfo: conninfo) else { return }
            while lock.withLock({ running }) {
                let (table, id) = lock.withLock { () -> (String, Int) in
                    next += 1; return (self.table, next)
                }
                do {
                    try connection.query(
                        """
                        BEGIN;
                        INSERT INTO \(table) (id, qty) VALUES (\(id), \(id % 97));
                        UPDATE \(table) SET qty = qty + 1 WHERE id IN (\(id - 3), \(id % 40));
                        DELETE FROM \(table) WHERE id = \(id - 7) AND \(id) % 3 = 0;
                        UPDATE public.other SET v = 'w\(id)' WHERE id = \(id % 20);
                        COMMIT;
                        """)
                    lock.withLock { transactions += 1 }
                } catch {
                    _ = try? connection.query("ROLLBACK")
                    lock.withLock { failures += 1 }
                }
                usleep(2_000)
            }
        }
        thread.start()
    }

    /// Stops the writer and waits for its last transaction to end.
    func stop() async {
        lock.withLock { running = false }
        let done = self.done
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread {
                done.wait(); c.resume()
            }.start()
        }
    }
}

/// Schema changes while the daemon runs, each between CDC cycles under a running workload: after
/// each step the oracle (scripts/oracle.py) rebuilds the tables from the files and finds them equal
/// to the source; the files of every layout read together with DuckDB's `union_by_name`.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct SchemaChangeIntegrationTests {
    func helper(_ command: String, _ arguments: [String]) async throws -> String {
        try await DedicatedThread.run(name: "python") { try TestEnvironment.helper(command, arguments) }
    }

    func files(_ dir: String, _ schema: String, _ table: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/\(schema)/\(table)")) ?? []).filter { $0.hasSuffix(".parquet") }.sorted()
    }

    /// Runs `ddl` while the writer writes, one cycle during the writes, then stops the writer, runs
    /// the cycle that drains the rest and checks every table with the oracle.
    func step(
        _ name: String, _ ddl: String, db: PostgresFixture, engine: Engine, writer: BackgroundWriter, dir: String,
        check tables: [String], retarget: String? = nil
    ) async throws -> [String] {
        writer.start()
        try await Task.sleep(for: .milliseconds(150))
        try db.execute(ddl)
        if let retarget { writer.retarget(retarget) }
        try await Task.sleep(for: .milliseconds(150))
        var stored: [String] = []
        if case .cdc(let report) = try await engine.runCycle() { stored += report.files }
        await writer.stop()
        if case .cdc(let report) = try await engine.runCycle() { stored += report.files }
        let out = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: tables)
        #expect(out.allOK, "\(name): \(out)")
        return stored
    }

    @Test func eachSchemaChangeUnderWritesStartsANewFileAndTheRebuiltTablesEqualTheSource() async throws {
        try await withPostgres("schema") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-schema-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try db.execute(
                """
                CREATE TABLE public.items (id int PRIMARY KEY, name text, qty int, price numeric(10,2));
                INSERT INTO public.items SELECT g, 'item ' || g, g % 13, g * 1.25 FROM generate_series(1, 500) g;
                CREATE TABLE public.other (id int PRIMARY KEY, v text);
                INSERT INTO public.other SELECT g, 'o' || g FROM generate_series(0, 50) g;
                CREATE TABLE public.keyless (n int, s text);
                ALTER TABLE public.keyless REPLICA IDENTITY FULL;
                INSERT INTO public.keyless SELECT g, 's' || g FROM generate_series(1, 50) g;
                CREATE PUBLICATION replicatord FOR TABLE public.items, public.other, public.keyless;
                """)
            var settings = EngineSettings(conninfo: db.conninfo, publication: "replicatord", slot: db.database)
            settings.parallelTables = 2
            let store = try ObjectStoreLocation(url: "file://\(dir)").makeStore(logger: Logger(label: "test"))
            let engine = Engine(settings: settings, store: store, logger: Logger(label: "test"))
            guard case .fullLoad = try await engine.runCycle() else { Issue.record("no full load"); return }
            let writer = BackgroundWriter(conninfo: db.conninfo, table: "public.items", firstID: 10_000)
            let both = ["public.items", "public.other"]

            // ADD COLUMN without a default, with an update on each side of it in the same cycle: two files.
            writer.start()
            try db.execute("UPDATE public.items SET qty = -1 WHERE id = 1")
            try db.execute("ALTER TABLE public.items ADD COLUMN note text")
            try db.execute("UPDATE public.items SET note = 'noted 😀' WHERE id BETWEEN 2 AND 20")
            guard case .cdc(let addReport) = try await engine.runCycle() else { Issue.record("no CDC cycle"); return }
            #expect(addReport.files.filter { $0.contains("/items/") }.count >= 2, "\(addReport.files)")
            await writer.stop()
            _ = try await engine.runCycle()
            let added = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: both)
            #expect(added.allOK, "\(added)")

            // ADD COLUMN with a default: the rows stored before read the default (attmissingval), which
            // the new files carry in their replicatord.columns metadata. A table without a key (rebuilt
            // by all its columns) too: its updates' old rows carry the default.
            _ = try await step(
                "add column with default",
                """
                ALTER TABLE public.items ADD COLUMN flag text NOT NULL DEFAULT 'dflt';
                ALTER TABLE public.keyless ADD COLUMN tag text DEFAULT 'd';
                UPDATE public.keyless SET s = 'changed' WHERE n <= 5;
                DELETE FROM public.keyless WHERE n BETWEEN 6 AND 8;
                """, db: db, engine: engine, writer: writer, dir: dir, check: both + ["public.keyless"])
            _ = try await step(
                "drop column", "ALTER TABLE public.items DROP COLUMN name",
                db: db, engine: engine, writer: writer, dir: dir, check: both)
            _ = try await step(
                "alter column type", "ALTER TABLE public.items ALTER COLUMN qty TYPE bigint",
                db: db, engine: engine, writer: writer, dir: dir, check: both)
            _ = try await step(
                "rename column", "ALTER TABLE public.items RENAME COLUMN price TO unit_price",
                db: db, engine: engine, writer: writer, dir: dir, check: both)

            // A column of a type read as text (inet): from the next cycle on the stream runs in text mode.
            _ = try await step(
                "add inet column", "ALTER TABLE public.items ADD COLUMN addr inet; INSERT INTO public.items (id, qty, addr) VALUES (9999999, 1, '10.0.0.1/8')",
                db: db, engine: engine, writer: writer, dir: dir, check: both)

            // Files of every layout read together by column name.
            let union = try await helper(
                "duckdb",
                [
                    "SELECT count(*), count(note), count(unit_price), count(price), count(addr) FROM read_parquet('\(dir)/public/items/*.parquet', union_by_name=true)"
                ])
            #expect(union.hasPrefix("[("), "\(union)")
            let itemsFilesBeforeRename = files(dir, "public", "items")
            #expect(itemsFilesBeforeRename.count >= 8, "\(itemsFilesBeforeRename)")

            // RENAME TABLE: the table under its new name is loaded again in a new snapshot into its new
            // folder, and its changes continue there; the old folder keeps its files, unchanged.
            _ = try await step(
                "rename table", "ALTER TABLE public.items RENAME TO goods",
                db: db, engine: engine, writer: writer, dir: dir, check: ["public.goods", "public.other"], retarget: "public.goods")
            #expect(files(dir, "public", "items") == itemsFilesBeforeRename)
            #expect(files(dir, "public", "goods").contains("LOAD00000001.parquet"))

            // A table added to the publication while writes go on: its own full load, then its changes.
            try db.execute("CREATE TABLE public.late (id int PRIMARY KEY, qty int); INSERT INTO public.late SELECT g, g FROM generate_series(1, 300) g")
            writer.retarget("public.late")
            _ = try await step(
                "table added", "ALTER PUBLICATION replicatord ADD TABLE public.late",
                db: db, engine: engine, writer: writer, dir: dir, check: ["public.goods", "public.other", "public.late"])

            // A table removed from the publication: its changes up to the removal are stored, then its
            // folder keeps its files and gets no new one.
            _ = try await step(
                "table removed", "ALTER PUBLICATION replicatord DROP TABLE public.other",
                db: db, engine: engine, writer: writer, dir: dir, check: ["public.late"])
            let otherFiles = files(dir, "public", "other")
            try db.execute("UPDATE public.other SET v = 'after removal'")
            _ = try await engine.runCycle()
            #expect(files(dir, "public", "other") == otherFiles)
            #expect(writer.transactions > 20, "\(writer.transactions) transactions, \(writer.failures) failed")
        }
    }

    @Test func truncateOfSeveralTablesAndCascadeIsATRowInEachTablesFile() async throws {
        try await withPostgres("truncate") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-trunc-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try db.execute(
                """
                CREATE TABLE public.a (id int PRIMARY KEY, v text);
                CREATE TABLE public.b (id int PRIMARY KEY, v numeric(8,2), t timestamptz);
                CREATE TABLE public.c (id int PRIMARY KEY, a_id int REFERENCES public.a, tags text[]);
                CREATE TABLE public.d (x text, y int);
                ALTER TABLE public.d REPLICA IDENTITY FULL;
                INSERT INTO public.a SELECT g, 'a' || g FROM generate_series(1, 20) g;
                INSERT INTO public.b SELECT g, g, now() FROM generate_series(1, 20) g;
                INSERT INTO public.c SELECT g, g, ARRAY['x'] FROM generate_series(1, 20) g;
                INSERT INTO public.d SELECT 'd' || g, g FROM generate_series(1, 20) g;
                CREATE PUBLICATION replicatord FOR TABLE public.a, public.b, public.c, public.d;
                """)
            let settings = EngineSettings(conninfo: db.conninfo, publication: "replicatord", slot: db.database)
            let store = try ObjectStoreLocation(url: "file://\(dir)").makeStore(logger: Logger(label: "test"))
            let engine = Engine(settings: settings, store: store, logger: Logger(label: "test"))
            _ = try await engine.runCycle()
            try db.execute(
                """
                INSERT INTO public.b VALUES (100, 1.5, now());
                TRUNCATE public.b, public.d;
                INSERT INTO public.b VALUES (101, 2.5, now());
                INSERT INTO public.d VALUES ('after', 1);
                TRUNCATE public.a CASCADE;
                INSERT INTO public.a VALUES (1, 'again');
                INSERT INTO public.c VALUES (1, 1, '{y}');
                """)
            guard case .cdc(let report) = try await engine.runCycle() else { Issue.record("no CDC cycle"); return }
            #expect(report.files.count == 4)
            let out = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: ["public.a", "public.b", "public.c", "public.d"])
            #expect(out.allOK && out.verdicts.allSatisfy { $0["T"] as? Int == 1 }, "\(out)")
            // Each T row has every other column null but its order and time (`_seq`, `_commit_ts`).
            let tRows = try await helper("truncate-rows", [dir, "a", "b", "c", "d"])
            #expect(tRows == "a 1 True\nb 1 True\nc 1 True\nd 1 True\n", "\(tRows)")
            let state = try #require(await engine.keeper.state)
            #expect(["public.a", "public.b", "public.c", "public.d"].allSatisfy { state.tables[$0]?.truncates == 1 })
        }
    }

    @Test func partitionedTableChangesLandUnderTheRootViaRootAndUnderEachPartitionOtherwise() async throws {
        try await withPostgres("partitions") { db in
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-part-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: base) }
            try db.execute(
                """
                CREATE TABLE public.m (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
                CREATE TABLE public.m_eu PARTITION OF public.m FOR VALUES IN ('eu');
                CREATE TABLE public.m_us PARTITION OF public.m FOR VALUES IN ('us');
                INSERT INTO public.m SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'v' || g FROM generate_series(1, 400) g;
                CREATE PUBLICATION via_root FOR TABLE public.m WITH (publish_via_partition_root = true);
                CREATE PUBLICATION via_leaf FOR TABLE public.m;
                """)
            var engines: [(String, Engine)] = []
            for publication in ["via_root", "via_leaf"] {
                let settings = EngineSettings(conninfo: db.conninfo, publication: publication, slot: db.database + "_" + publication)
                let store = try ObjectStoreLocation(url: "file://\(base)/\(publication)").makeStore(logger: Logger(label: "test"))
                let engine = Engine(settings: settings, store: store, logger: Logger(label: "test"))
                guard case .fullLoad(let n) = try await engine.runCycle() else { Issue.record("no full load"); return }
                #expect(n == (publication == "via_root" ? 1 : 2))
                engines.append((publication, engine))
            }
            try db.execute(
                """
                INSERT INTO public.m SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'new' FROM generate_series(401, 450) g;
                UPDATE public.m SET v = 'changed' WHERE id BETWEEN 1 AND 10;
                UPDATE public.m SET region = 'us' WHERE id = 2;
                DELETE FROM public.m WHERE id BETWEEN 11 AND 15;
                """)
            for (_, engine) in engines { _ = try await engine.runCycle() }

            // Via the root: one folder, the root's; the full load read each row once.
            let root = try await Oracle.check(conninfo: db.conninfo, files: .directory("\(base)/via_root"), tables: ["public.m"])
            #expect(root.allOK && root["public.m"]?["load_rows"] as? Int == 400, "\(root)")
            #expect(files("\(base)/via_root", "public", "m_eu").isEmpty && files("\(base)/via_root", "public", "m_us").isEmpty)
            // Without it: one folder per partition, none for the root; the moved row is a D in m_eu and an I in m_us.
            let leaves = try await Oracle.check(conninfo: db.conninfo, files: .directory("\(base)/via_leaf"), tables: ["public.m_eu", "public.m_us"])
            #expect(leaves.allOK && leaves.verdicts.allSatisfy { $0["load_rows"] as? Int == 200 }, "\(leaves)")
            #expect(files("\(base)/via_leaf", "public", "m").isEmpty)

            // TRUNCATE of the root: a T row under the root via the root, one in each partition otherwise.
            try db.execute("TRUNCATE public.m; INSERT INTO public.m VALUES (1, 'eu', 'after'), (2, 'us', 'after')")
            for (_, engine) in engines { _ = try await engine.runCycle() }
            let rootAfter = try await Oracle.check(conninfo: db.conninfo, files: .directory("\(base)/via_root"), tables: ["public.m"])
            #expect(rootAfter.allOK && rootAfter["public.m"]?["T"] as? Int == 1, "\(rootAfter)")
            let leavesAfter = try await Oracle.check(conninfo: db.conninfo, files: .directory("\(base)/via_leaf"), tables: ["public.m_eu", "public.m_us"])
            #expect(leavesAfter.allOK && leavesAfter.verdicts.allSatisfy { $0["T"] as? Int == 1 }, "\(leavesAfter)")
        }
    }
}
