import Replication
import Foundation
import Logging
import ObjectStore
import PGClient
import Testing
@testable import Daemon

/// The engine end to end against the live PostgreSQL and a real store (a directory, and
/// moto_server with SigV4 on), checked by the oracle (scripts/oracle.py), which rebuilds every
/// table from the files with pyarrow and compares it with the source row by row.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct EngineIntegrationTests {
    static let schema = """
        CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL, note text,
          amount numeric(12,2), price double precision, created_at timestamptz NOT NULL, ship_date date, is_paid boolean NOT NULL,
          ref uuid NOT NULL, attrs jsonb, big text);
        ALTER TABLE public.orders ALTER COLUMN big SET STORAGE EXTERNAL;
        CREATE TABLE public.events (at timestamp, kind text, payload bytea);
        ALTER TABLE public.events REPLICA IDENTITY FULL;
        CREATE TABLE public.untouched (id int PRIMARY KEY);
        INSERT INTO public.orders SELECT g, g % 100, (ARRAY['new','paid','shipped'])[1 + g % 3],
          CASE WHEN g % 10 = 0 THEN NULL ELSE md5(g::text) END, (g * 7) / 100.0, g * 1.5,
          timestamptz '2024-01-01 00:00:00+00' + g * interval '1.7 second', CASE WHEN g % 7 = 0 THEN NULL ELSE date '2024-01-01' + g % 700 END,
          g % 3 = 0, md5(g::text)::uuid, jsonb_build_object('n', g % 17), CASE WHEN g = 5 THEN repeat(md5('x'), 400) END
        FROM generate_series(1, 3000) g;
        INSERT INTO public.events SELECT timestamp '2024-05-01' + g * interval '1 minute', 'k' || g % 4, decode(md5(g::text), 'hex') FROM generate_series(1, 50) g;
        CREATE PUBLICATION replicatord FOR TABLE public.orders, public.events, public.untouched;
        """
    static let changes = """
        INSERT INTO public.orders SELECT g, 1, 'new', 'n', 1.25, 2.5, now(), current_date, false, md5(g::text)::uuid, '{}', NULL
          FROM generate_series(5001, 5200) g;
        UPDATE public.orders SET status = 'updated', amount = amount + 1 WHERE id BETWEEN 1 AND 300;
        UPDATE public.orders SET id = id + 100000 WHERE id BETWEEN 301 AND 310;
        UPDATE public.orders SET status = 'toast-kept' WHERE id = 5;
        DELETE FROM public.orders WHERE id BETWEEN 2000 AND 2099;
        BEGIN; INSERT INTO public.events VALUES ('2024-06-01', 'late', '\\x00'); UPDATE public.events SET kind = 'changed' WHERE kind = 'k1'; COMMIT;
        DELETE FROM public.events WHERE kind = 'k2';
        """
    static let tables = ["public.orders", "public.events", "public.untouched"]

    func settings(_ db: PostgresFixture) -> EngineSettings {
        var s = EngineSettings(conninfo: db.conninfo, publication: "replicatord", slot: db.database)
        s.parallelTables = 2
        s.cdcSpillRows = 64  // the orders changes (621 rows) go through spool files
        return s
    }

    func runFlow(store: any ObjectStore, db: PostgresFixture, files: Oracle.Files) async throws {
        try db.execute(Self.schema)
        let engine = Engine(settings: settings(db), store: store, logger: Logger(label: "test"))

        // First cycle: the full load.
        guard case .fullLoad(let n) = try await engine.runCycle() else { Issue.record("first cycle was not the full load"); return }
        #expect(n == 3)
        let loaded = try await Oracle.check(conninfo: db.conninfo, files: files, tables: Self.tables)
        #expect(loaded.allOK, "\(loaded)")
        #expect(loaded["public.orders"]?["load_rows"] as? Int == 3000)
        #expect(loaded["public.untouched"]?["load_files"] as? Int == 1)

        // Changes, then a CDC cycle.
        try db.execute(Self.changes)
        guard case .cdc(let report) = try await engine.runCycle() else { Issue.record("second cycle was not CDC"); return }
        #expect(report.files.count == 2)
        let after = try await Oracle.check(conninfo: db.conninfo, files: files, tables: Self.tables)
        #expect(after.allOK, "\(after)")
        let orders = try #require(after["public.orders"])
        // 200 inserts + 300 updates + 10 key changes (D+I) + 1 update + 100 deletes
        #expect(orders["cdc_rows"] as? Int == 200 + 300 + 20 + 1 + 100)
        #expect(orders["U"] as? Int == 301)

        // A restarted daemon (a new engine reading the checkpoint from the store): a cycle with
        // nothing to do stores no file, and the statistics survived the restart.
        let restarted = Engine(settings: settings(db), store: store, logger: Logger(label: "test"))
        guard case .cdc(let empty) = try await restarted.runCycle() else { return }
        #expect(empty.files.isEmpty)

        // The checkpoint holds the statistics per table and op, and the slot was confirmed up to it.
        let state = try #require(await restarted.keeper.state)
        let events = try #require(state.tables["public.events"])
        #expect(events.fullLoadRows == 50 && events.inserts == 14 && events.updates == 0 && events.deletes == 26)
        #expect(state.tables["public.untouched"]?.filesWritten == 1 && state.tables["public.untouched"]?.inserts == 0)
        let slot = try db.connect().query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1", [db.database])
        #expect(slot.rows.first?[0] == state.confirmedLSN.description)

        // A table added to the publication gets its own full load in a new snapshot, and its
        // changes start exactly there: rows from before, between and after all arrive once.
        try db.execute(
            """
            CREATE TABLE public.late (id int PRIMARY KEY, v text);
            INSERT INTO public.late SELECT g, 'before' FROM generate_series(1, 100) g;
            ALTER PUBLICATION replicatord ADD TABLE public.late;
            INSERT INTO public.late SELECT g, 'added' FROM generate_series(101, 150) g;
            UPDATE public.late SET v = 'changed' WHERE id <= 10;
            """)
        _ = try await restarted.runCycle()
        try db.execute("INSERT INTO public.late VALUES (1000, 'after'); DELETE FROM public.late WHERE id = 2")
        _ = try await restarted.runCycle()
        let late = try await Oracle.check(conninfo: db.conninfo, files: files, tables: ["public.late"])
        #expect(late.allOK && late["public.late"]?["load_rows"] as? Int == 150 && late["public.late"]?["cdc_rows"] as? Int == 2, "\(late)")
        let stats = try #require(state.tables["public.orders"])
        #expect(stats.fullLoadRows == 3000 && stats.inserts == 210 && stats.updates == 301 && stats.deletes == 110)
    }

    @Test func fullLoadThenCDCIntoADirectoryRebuildsEveryTable() async throws {
        try await withPostgres("engine_dir") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let store = try ObjectStoreLocation(url: "file://\(dir)").makeStore(logger: Logger(label: "test"))
            try await runFlow(store: store, db: db, files: .directory(dir))
        }
    }

    @Test(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_S3_ENDPOINT")))
    func fullLoadThenCDCIntoS3RebuildsEveryTable() async throws {
        try await withPostgres("engine_s3") { db in
            let endpoint = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
            let bucket = "engine-\(UInt32.random(in: 0...UInt32.max))"
            let location = try ObjectStoreLocation(url: "s3://\(bucket)/replica/db", region: "us-east-1", endpoint: endpoint, pathStyle: true)
            _ = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
            try TestEnvironment.helper("create-bucket", [endpoint, bucket])
            let store = try location.makeStore(logger: Logger(label: "test"))
            try await runFlow(store: store, db: db, files: .s3(endpoint: endpoint, bucket: bucket, prefix: "replica/db"))
            #expect(try await store.listOpenMultipartUploads(prefix: "").isEmpty)
        }
    }

    @Test func aCycleInterruptedAfterItsIntentIsRedoneWithoutLossOrDoubles() async throws {
        try await withPostgres("engine_crash") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let real = try ObjectStoreLocation(url: "file://\(dir)").makeStore(logger: Logger(label: "test"))
            try db.execute(Self.schema)
            _ = try await Engine(settings: settings(db), store: real, logger: Logger(label: "test")).runCycle()
            try db.execute(Self.changes)

            // The store refuses the second file's completion: the cycle fails after storing its intent and one file.
            let flaky = FailingStore(real, failCompletionsAfter: 1)
            await #expect(throws: (any Error).self) {
                _ = try await Engine(settings: settings(db), store: flaky, logger: Logger(label: "test")).runCycle()
            }
            let pending = try Checkpoint.decode(try await real.get(key: Checkpoint.key)).pending
            #expect(pending?.files.count == 2)

            // A new process redoes the cycle to the same end with the same names.
            guard case .cdc(let report) = try await Engine(settings: settings(db), store: real, logger: Logger(label: "test")).runCycle() else { return }
            #expect(report.files == pending?.files)
            let redone = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: Self.tables)
            #expect(redone.allOK, "\(redone)")
        }
    }
}

/// A real store whose uploads stop completing after a number of them: a crash in the middle of a cycle.
final class FailingStore: ObjectStore, @unchecked Sendable {
    let inner: any ObjectStore
    private let lock = NSLock()
    private var completionsLeft: Int

    init(_ inner: any ObjectStore, failCompletionsAfter n: Int) { self.inner = inner; completionsLeft = n }

    func takeCompletion() -> Bool {
        lock.withLock {
            completionsLeft -= 1; return completionsLeft >= 0
        }
    }

    func makeUpload(key: String, contentType: String?) async throws -> any ObjectUpload {
        FailingUpload(try await inner.makeUpload(key: key, contentType: contentType), store: self)
    }
    func put(key: String, bytes: [UInt8], contentType: String?) async throws -> StoredObject {
        try await inner.put(key: key, bytes: bytes, contentType: contentType)
    }
    func get(key: String) async throws -> [UInt8] { try await inner.get(key: key) }
    func head(key: String) async throws -> ObjectInfo? { try await inner.head(key: key) }
    func list(prefix: String) async throws -> [ObjectInfo] { try await inner.list(prefix: prefix) }
    func delete(key: String) async throws { try await inner.delete(key: key) }
    func listOpenMultipartUploads(prefix: String) async throws -> [OpenMultipartUpload] { try await inner.listOpenMultipartUploads(prefix: prefix) }
    func abortMultipartUpload(_ upload: OpenMultipartUpload) async throws { try await inner.abortMultipartUpload(upload) }
}

final class FailingUpload: ObjectUpload, @unchecked Sendable {
    let inner: any ObjectUpload
    let store: FailingStore
    init(_ inner: any ObjectUpload, store: FailingStore) { self.inner = inner; self.store = store }
    var key: String { inner.key }
    func write(_ bytes: [UInt8]) async throws { try await inner.write(bytes) }
    func complete() async throws -> StoredObject {
        guard store.takeCompletion() else {
            await inner.abort()
            throw ObjectStoreError(.configuration, "injected failure", key: key)
        }
        return try await inner.complete()
    }
    func abort() async { await inner.abort() }
}

/// Every supported type through the full load and the change stream (in text mode, forced by an
/// `inet` column), with a column added between cycles: the new Relation starts a new file.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct EngineTypesIntegrationTests {
    @Test func everyTypeAndAnAddedColumnRoundTripThroughTextModeCDC() async throws {
        try await withPostgres("engine_types") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try db.execute(
                """
                CREATE TYPE mood AS ENUM ('sad', 'happy');
                CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
                CREATE TABLE public.types (id int PRIMARY KEY, b bool, i2 int2, i8 int8, f4 float4, f8 float8, n numeric(12,2),
                  nw numeric(30,5), nu numeric, tx text, vc varchar(10), bp char(3), ba bytea, u uuid, j json, jb jsonb, d date,
                  tm time, ts timestamp, tz timestamptz, iv interval, e mood, dom posint, ip inet, arr int[],
                  tarr text[], narr numeric(10,2)[], uarr uuid[], md int[][]);
                INSERT INTO public.types SELECT g, g % 2 = 0, g, g::int8 * 1000000000, g / 4.0, g / 3.0, g * 1.25, g * 12345678901.12345,
                  g / 7.0, 'text ' || g, 'v' || g, 'c', decode(md5(g::text), 'hex'), md5(g::text)::uuid, json_build_object('g', g),
                  jsonb_build_object('g', g, 'a', ARRAY[g, g]), date '2000-01-01' + g, time '00:00' + g * interval '1 minute',
                  timestamp '2024-01-01' + g * interval '1.5 hour', timestamptz '2024-01-01 00:00+00' + g * interval '1 day',
                  g * interval '1 day 2 hours', CASE WHEN g % 2 = 0 THEN 'happy'::mood ELSE 'sad' END, g, ('10.0.0.' || g)::inet, ARRAY[g, NULL, g + 1],
                  ARRAY['a' || g, NULL, 'with space', 'quote"d', '', 'NULL', 'back\\slash'], ARRAY[g * 1.5, -g]::numeric(10,2)[],
                  ARRAY[md5(g::text)::uuid], ARRAY[[g, g], [g, NULL]]
                FROM generate_series(1, 200) g;
                INSERT INTO public.types (id) VALUES (1000);
                CREATE PUBLICATION replicatord FOR TABLE public.types;
                """)
            var settings = EngineSettings(conninfo: db.conninfo, publication: "replicatord", slot: db.database)
            settings.parallelTables = 1
            let store = try ObjectStoreLocation(url: "file://\(dir)").makeStore(logger: Logger(label: "test"))
            let engine = Engine(settings: settings, store: store, logger: Logger(label: "test"))
            _ = try await engine.runCycle()
            try db.execute(
                """
                UPDATE public.types SET tx = 'changed', n = -n, ip = '::1', f8 = 'NaN', nu = 'NaN', arr = '{}', tarr = ARRAY['x,y', '{z}'] WHERE id <= 20;
                ALTER TABLE public.types ADD COLUMN extra text;
                UPDATE public.types SET extra = 'added ' || id WHERE id BETWEEN 21 AND 30;
                INSERT INTO public.types (id, extra, ts) VALUES (2000, 'new row', '1999-12-31 23:59:59.999999');
                DELETE FROM public.types WHERE id BETWEEN 31 AND 35;
                """)
            guard case .cdc(let report) = try await engine.runCycle() else { Issue.record("no CDC cycle"); return }
            #expect(report.files.count == 2)  // the added column starts a second file
            #expect(report.retainedWALBytes > 0)
            let out = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: ["public.types"])
            #expect(out.allOK && out["public.types"]?["cdc_rows"] as? Int == 36, "\(out)")
            _ = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
            // The files of both layouts read together by column name.
            let union = try TestEnvironment.helper(
                "duckdb", ["SELECT count(*), count(extra) FROM read_parquet('\(dir)/public/types/*.parquet', union_by_name=true)"])
            #expect(union.contains("(237, 11)"), "\(union)")
        }
    }
}
