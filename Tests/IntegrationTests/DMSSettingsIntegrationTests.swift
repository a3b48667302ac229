import Foundation
import Logging
import ObjectStore
import PGClient
import Replication
import Testing
@testable import Daemon

/// The DMS S3 endpoint settings under `[output]`, each against a real PostgreSQL with
/// `replicatord --once` as a process: date folders (`DatePartition*`) followed by the oracle, the
/// DDL (DuckDB, Spark) and `reload-table`, on a directory and on moto; `CdcInsertsOnly` and
/// `CdcInsertsAndUpdates`; `ParquetTimestampInMillisecond` read by pyarrow, DuckDB and Spark;
/// `CdcMinFileSize` holding changes across cycles and crashes, stored exactly once.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct DMSSettingsIntegrationTests {
    let crash = CrashRecoveryIntegrationTests()

    func replicatord(_ arguments: [String], environment: [String: String] = [:]) throws -> TestEnvironment.Finished {
        try TestEnvironment.capture(CrashRecoveryIntegrationTests.binary, arguments, environment: environment)
    }

    /// Adds an `[output]` section to the config the crash tests write.
    func addOutput(_ config: String, _ lines: String) throws {
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try (text + "\n[output]\n" + lines + "\n").write(toFile: config, atomically: true, encoding: .utf8)
    }

    func python(_ arguments: [String]) throws -> String {
        try TestEnvironment.run(try TestEnvironment.require("REPLICATORD_TEST_PYTHON"), arguments)
    }

    func check(_ arguments: [String]) throws -> [[String: Any]] {
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/dms_settings_check.py").path
        return try python([script] + arguments).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The Parquet files under a table folder: path relative to it, Op counts, column types.
    func files(_ dir: String, _ table: String) throws -> [[String: Any]] {
        try check(["files", dir, table]).first?["files"] as? [[String: Any]] ?? []
    }

    func state(_ dir: String) throws -> Checkpoint? {
        try BlockingCall.wait {
            try await CheckpointStore(store: LocalDirectoryStore(root: dir, logger: Logger(label: "test")), logger: Logger(label: "test")).load()
        }
    }

    func lsn(_ db: PostgresFixture, _ sql: String) throws -> UInt64 {
        let text = try db.connect().query(sql).rows.first?[0] ?? nil
        let parts = (text ?? "0/0").split(separator: "/")
        return (UInt64(parts[0], radix: 16)! << 32) | UInt64(parts[1], radix: 16)!
    }

    /// `contrib/spark/current_state.py` over the directory, its state next to it.
    func sparkJob(_ dir: String, keys: [String]) throws -> TestEnvironment.Finished {
        let job = TestEnvironment.repositoryRoot.appendingPathComponent("contrib/spark/current_state.py").path
        return try TestEnvironment.capture(
            try TestEnvironment.require("REPLICATORD_TEST_PYTHON"),
            [job, "--source", "file://" + dir, "--output", "file://" + dir + ".state"] + keys.flatMap { ["--key", $0] })
    }

    // MARK: DatePartitionEnabled, DatePartitionSequence, DatePartitionDelimiter, DatePartitionTimezone

    @Test func cdcFilesGoToDateFoldersThatTheOracleTheDDLAndReloadTableFollow() async throws {
        try await DedicatedThread.run(name: "test") { try self.dateFolders() }
    }

    func dateFolders() throws {
        let (db, dir, config) = try crash.setUp("dms_date_folders")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        try addOutput(
            config,
            """
            date_partition = true
            date_partition_sequence = "YYYYMMDDHH"
            date_partition_delimiter = "SLASH"
            date_partition_timezone = "Asia/Seoul"
            """)
        let partition = DatePartition(sequence: .yyyymmddhh, delimiter: .slash, timeZone: "Asia/Seoul")
        try #require(try replicatord(["--config", config, "--once"]).status == 0)
        try db.execute(EngineIntegrationTests.changes)
        let cdc = try replicatord(["--config", config, "--once"])
        try #require(cdc.status == 0, "\(cdc.stderr)")
        // (untouched gets a change too: the DuckDB views need an Op column in some file of each table.)
        try db.execute("UPDATE public.orders SET note = 'second' WHERE id <= 40; INSERT INTO public.untouched VALUES (1)")
        try #require(try replicatord(["--config", config, "--once"]).status == 0)

        // LOAD files stay in the table folder; every CDC file is in the date folder its name gives.
        let orders = try files(dir, "public/orders")
        let cdcPaths = orders.compactMap { $0["path"] as? String }.filter { !$0.hasPrefix("LOAD") }
        #expect(orders.contains { ($0["path"] as? String) == "LOAD00000001.parquet" })
        #expect(cdcPaths.count == 2, "\(cdcPaths)")
        for path in cdcPaths {
            let name = String(path.split(separator: "/").last!.dropLast(".parquet".count))
            let ms = try #require(FileNaming.cdcMilliseconds(name))
            #expect(path == partition.folder(unixMilliseconds: ms) + name + ".parquet")
            #expect(path.split(separator: "/").count == 5, "four date levels: \(path)")
        }

        // The oracle rebuilds the tables from the date folders.
        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result["public.orders"]?["ok"] as? Bool == true, "\(result["public.orders"] ?? [:])")
        #expect(result["public.events"]?["ok"] as? Bool == true)
        #expect(result["public.orders"]?["cdc_rows"] as? Int == 621 + 40)
        #expect(result["public.orders"]?["cdc_files"] as? Int == 2)

        // `replicatord ddl` for DuckDB and Spark reads the subfolders: each view equals the source.
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/current_state_check.py").path
        for engine in ["duckdb", "spark"] {
            let ddl = try replicatord(["ddl", "--config", config, "--engine", engine])
            try #require(ddl.status == 0, "\(ddl.stderr)")
            let path = dir + ".\(engine).sql"
            try ddl.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let out = try python([script, "--engine", engine, "--ddl", path, "--conninfo", db.conninfo, "public.orders", "public.events"])
            #expect(out.split(separator: "\n").filter { $0.contains("\"ok\": true") }.count == 2, "\(engine): \(out)")
        }

        // The Spark job finds the CDC files in the date folders, and its second run applies only the new one.
        defer { try? FileManager.default.removeItem(atPath: dir + ".state") }
        let first = try sparkJob(dir, keys: ["public/orders=id", "public/untouched=id"])
        #expect(first.status == 0 && first.stdout.contains("\"rebuilt\": true"), "\(first.stdout)\n\(first.stderr.suffix(2000))")
        try db.execute("UPDATE public.orders SET note = 'third' WHERE id <= 10")
        try #require(try replicatord(["--config", config, "--once"]).status == 0)
        let second = try sparkJob(dir, keys: ["public/orders=id", "public/untouched=id"])
        #expect(second.status == 0 && second.stdout.contains("\"applied_files\": 1"), "\(second.stdout)\n\(second.stderr.suffix(2000))")
        let state = try python([script, "--engine", "state", "--state", dir + ".state", "--conninfo", db.conninfo, "public.orders", "public.events"])
        #expect(state.split(separator: "\n").filter { $0.contains("\"ok\": true") }.count == 2, "spark job: \(state)")

        // reload-table removes the CDC files in the date folders with the old LOAD set.
        let request = try replicatord(["reload-table", "--config", config, "public.orders"])
        try #require(request.status == 0, "\(request.stderr)")
        try #require(try replicatord(["--config", config, "--once"]).status == 0)
        let reloaded = try files(dir, "public/orders").compactMap { $0["path"] as? String }
        #expect(reloaded == ["LOAD00000002.parquet"], "\(reloaded)")
        let after = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(after["public.orders"]?["ok"] as? Bool == true)
    }

    @Test(.enabled(if: S3TestSupport.enabled)) func dateFoldersOnS3AreFollowedByTheOracle() async throws {
        try await DedicatedThread.run(name: "test") { try self.dateFoldersOnS3() }
    }

    func dateFoldersOnS3() throws {
        let (db, dir, config) = try crash.setUp("dms_date_s3")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        let endpoint = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let bucket = "dms-dates-\(UInt32.random(in: 0...UInt32.max))"
        _ = try python([
            "-c", "import boto3,sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1').create_bucket(Bucket=sys.argv[2])", endpoint, bucket,
        ])
        // The S3 target instead of the directory.
        var text = try String(contentsOfFile: config, encoding: .utf8)
        text = text.replacingOccurrences(of: "url = \"file://\(dir)\"", with: "url = \"s3://\(bucket)/replica\"\nendpoint = \"\(endpoint)\"\npath_style = true")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        try addOutput(config, "date_partition = true\ndate_partition_sequence = \"DDMMYYYY\"\ndate_partition_delimiter = \"DASH\"")
        try #require(try replicatord(["--config", config, "--once"]).status == 0)
        try db.execute(EngineIntegrationTests.changes)
        let cdc = try replicatord(["--config", config, "--once"])
        try #require(cdc.status == 0, "\(cdc.stderr)")
        let keys = try python([
            "-c",
            """
            import boto3, sys
            s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1')
            # moto cannot check a signature over an encoded "/" in the query: list by the first segment.
            keys = [o['Key'] for o in s3.list_objects_v2(Bucket=sys.argv[2], Prefix='replica').get('Contents', [])]
            print('\\n'.join(k for k in keys if k.startswith('replica/public/orders/')))
            """, endpoint, bucket,
        ]).split(separator: "\n").map(String.init)
        let cdcKeys = keys.filter { !$0.contains("LOAD") && $0.hasSuffix(".parquet") }
        #expect(cdcKeys.count == 1, "\(keys)")
        for key in cdcKeys {
            let name = String(key.split(separator: "/").last!.dropLast(".parquet".count))
            let ms = try #require(FileNaming.cdcMilliseconds(name))
            #expect(key == "replica/public/orders/" + DatePartition(sequence: .ddmmyyyy, delimiter: .dash).folder(unixMilliseconds: ms) + name + ".parquet")
        }
        let oracle = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/oracle.py").path
        let out = try python([oracle, "--conninfo", db.conninfo, "--s3", endpoint, bucket, "replica", "public.orders", "public.events"])
        #expect(out.split(separator: "\n").filter { $0.contains("\"ok\": true") }.count == 2, "\(out)")
        #expect(out.contains("\"cdc_rows\": 621"), "\(out)")
    }

    // MARK: CdcInsertsOnly, CdcInsertsAndUpdates

    @Test(arguments: [("cdc_inserts_only", "I"), ("cdc_inserts_and_updates", "IU")])
    func insertsOnlyAndInsertsAndUpdatesWriteOnlyTheirOpsWithTheOpColumn(_ key: String, _ kept: String) async throws {
        try await DedicatedThread.run(name: "test") { try self.writtenChanges(key, kept) }
    }

    func writtenChanges(_ key: String, _ kept: String) throws {
        let (db, dir, config) = try crash.setUp("dms_\(key)")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        try addOutput(config, "\(key) = true")
        try #require(try replicatord(["--config", config, "--once"]).status == 0)
        try db.execute(EngineIntegrationTests.changes + "TRUNCATE public.untouched;")
        let cdc = try replicatord(["--config", config, "--once"])
        try #require(cdc.status == 0, "\(cdc.stderr)")
        var ops: [String: [String: Int]] = [:]
        for table in ["orders", "events", "untouched"] {
            for file in try files(dir, "public/\(table)") where !((file["path"] as? String) ?? "").hasPrefix("LOAD") {
                #expect(file["has_op"] as? Bool == true, "DMS keeps Op in Parquet CDC files: \(file)")
                for (op, count) in file["ops"] as? [String: Int] ?? [:] { ops[table, default: [:]][op, default: 0] += count }
            }
        }
        if kept == "I" {
            // 200 inserts of orders, 1 of events; updates, key changes, deletes and the truncate left out.
            #expect(ops["orders"] == ["I": 200] && ops["events"] == ["I": 1] && ops["untouched"] == nil, "\(ops)")
        } else {
            // Updates too: 300 + 1 plain, the 10 key changes as one U each; events' keyless updates as U.
            #expect(ops["orders"] == ["I": 200, "U": 311] && ops["events"] == ["I": 1, "U": 13] && ops["untouched"] == nil, "\(ops)")
        }
        let table = try #require(try state(dir)?.tables["public.orders"])
        #expect(table.deletes == 0 && table.inserts == 200 && table.updates == (kept == "I" ? 0 : 311))
    }

    // MARK: ParquetTimestampInMillisecond

    @Test func timestampsInMillisecondsAreFlooredAndReadByPyarrowDuckDBAndSpark() async throws {
        try await DedicatedThread.run(name: "test") { try self.timestampMillis() }
    }

    func timestampMillis() throws {
        let (db, dir, config) = try crash.setUp("dms_millis")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        try db.execute(
            """
            CREATE TABLE public.times (id int PRIMARY KEY, a timestamp, b timestamptz);
            INSERT INTO public.times VALUES (1, '2024-01-01 12:00:00.123456', '2024-01-01 12:00:00.123999+00'),
              (2, '1969-12-31 23:59:59.999501', '1969-12-31 23:59:59.000001+00'), (3, NULL, '1900-06-30 01:02:03.0005+00');
            ALTER PUBLICATION replicatord ADD TABLE public.times;
            """)
        try addOutput(config, "timestamp_millis = true")
        try #require(try replicatord(["--config", config, "--once"]).status == 0)
        try db.execute(
            "INSERT INTO public.times VALUES (4, '2026-11-24 19:15:12.345678', '2026-11-24 19:15:12.000999+00'), (5, '0044-03-15 12:00:00.0000015', NULL)")
        let cdc = try replicatord(["--config", config, "--once"])
        try #require(cdc.status == 0, "\(cdc.stderr)")
        // What the source's values are, floored to the millisecond (date_trunc floors, before 1970 too).
        let expected = try ["a", "b"].map { column in
            try db.connect().query(
                "SELECT coalesce(json_agg(floor(extract(epoch FROM \(column)) * 1000)::bigint), '[]') FROM public.times WHERE \(column) IS NOT NULL"
            ).rows[0][0] ?? ""
        }.map { ((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [Int]) ?? []).sorted() }
        let engines = try check(["millis", dir, "public/times", "a", "b"])
        #expect(engines.count == 3, "\(engines)")
        for engine in engines {
            let values = engine["values"] as? [String: [Int]] ?? [:]
            #expect(values["a"] == expected[0], "\(engine["engine"] ?? "?") a: \(values["a"] ?? []) vs \(expected[0])")
            #expect(values["b"] == expected[1], "\(engine["engine"] ?? "?") b: \(values["b"] ?? []) vs \(expected[1])")
        }
        let types = engines.first { $0["engine"] as? String == "pyarrow" }?["types"] as? [String: [String]] ?? [:]
        #expect(types["a"] == ["timestamp[ms]"] && types["b"] == ["timestamp[ms, tz=UTC]"], "\(types)")
        let cdcFile = try files(dir, "public/times").first { !(($0["path"] as? String) ?? "").hasPrefix("LOAD") }
        #expect((cdcFile?["types"] as? [String: String])?["_commit_ts"] == "timestamp[ms, tz=UTC]", "\(cdcFile ?? [:])")
    }

    // MARK: CdcMinFileSize, CdcMaxBatchInterval

    @Test func heldChangesSurviveCrashesAndAreStoredExactlyOnce() async throws {
        try await DedicatedThread.run(name: "test") { try self.heldChanges() }
    }

    func heldChanges() throws {
        let (db, dir, config) = try crash.setUp("dms_held")
        defer { db.drop() }
        defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
        try addOutput(config, "cdc_min_file_size_kib = 64\ncdc_max_batch_interval_seconds = 3600")
        try #require(try replicatord(["--config", config, "--once"]).status == 0)
        let loaded = try #require(try state(dir)).confirmedLSN

        // Small changes of both tables: held, nothing stored, the slot not confirmed past them.
        let before = try lsn(db, "SELECT pg_current_wal_lsn()")
        try db.execute("INSERT INTO public.events VALUES ('2024-08-01', 'held-1', NULL), ('2024-08-02', 'held-2', NULL), ('2024-08-03', 'held-3', NULL)")
        try db.execute("UPDATE public.orders SET note = 'held' WHERE id <= 5")
        let held = try replicatord(["--config", config, "--once"])
        try #require(held.status == 0, "\(held.stderr)")
        #expect(try files(dir, "public/orders").count == 1 && files(dir, "public/events").count == 1, "only the LOAD files")
        #expect(try state(dir)?.confirmedLSN == loaded)
        #expect(try lsn(db, "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(db.database)'") <= before)

        // orders grows past 64 KiB: its file is written with the held rows; events stays held. A
        // crash after the files are stored redoes the cycle with the same file and holds events again.
        try db.execute("UPDATE public.orders SET note = repeat(md5(id::text), 4) WHERE id <= 3000")
        let crashed = try replicatord(["--config", config, "--once"], environment: ["REPLICATORD_CRASH_AT": "after-files-stored"])
        #expect(crashed.status == 97, "\(crashed.stderr)")
        let redone = try replicatord(["--config", config, "--once"])
        try #require(redone.status == 0, "\(redone.stderr)")
        #expect(try files(dir, "public/orders").count == 2 && files(dir, "public/events").count == 1)
        let afterRedo = try #require(try state(dir))
        #expect(afterRedo.confirmedLSN == loaded, "events' held changes keep the checkpoint at the load")
        #expect(afterRedo.tables["public.orders"]?.storedThroughLSN != nil)

        // Another written orders file, the process dying after the checkpoint and before confirming.
        try db.execute(
            "INSERT INTO public.events VALUES ('2024-08-04', 'held-4', NULL); UPDATE public.orders SET note = repeat(md5(id::text), 5) WHERE id <= 3000")
        let crashed2 = try replicatord(["--config", config, "--once"], environment: ["REPLICATORD_CRASH_AT": "after-state-committed"])
        #expect(crashed2.status == 97, "\(crashed2.stderr)")
        try #require(try replicatord(["--config", config, "--once"]).status == 0)
        #expect(try files(dir, "public/events").count == 1, "events is still held")

        // The interval passes: the held events rows are written, each once.
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(
            of: "cdc_max_batch_interval_seconds = 3600", with: "cdc_max_batch_interval_seconds = 1")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        Thread.sleep(forTimeInterval: 1.2)
        let flushed = try replicatord(["--config", config, "--once"])
        try #require(flushed.status == 0, "\(flushed.stderr)")
        #expect(try files(dir, "public/events").count == 2)
        let final = try #require(try state(dir))
        #expect(final.confirmedLSN != loaded)
        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result["public.orders"]?["ok"] as? Bool == true, "\(result["public.orders"] ?? [:])")
        #expect(result["public.events"]?["ok"] as? Bool == true, "\(result["public.events"] ?? [:])")
        #expect(result["public.orders"]?["cdc_rows"] as? Int == 5 + 3000 + 3000)
        #expect(result["public.events"]?["cdc_rows"] as? Int == 4)
        #expect(try lsn(db, "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(db.database)'") > before)
    }
}
