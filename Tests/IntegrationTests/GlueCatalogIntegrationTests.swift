import Foundation
import Replication
import PGClient
import Testing
@testable import Daemon

/// `[catalog] glue_database` against moto_server's Glue with SigV4 on, `replicatord --once` as a
/// process: after the full load and after `ALTER TABLE ... ADD COLUMN`, boto3's `get_tables`
/// (`scripts/glue_check.py`) lists every table with the files' columns, Hive types and folder, and
/// every Parquet file's columns are declared; a crash between the Glue update and the files leaves
/// a catalog that reads every file; with `iceberg = true` the table is an Iceberg table whose
/// `metadata_location` is the newest metadata; `check` names a refused Glue permission in one line.
@Suite(
    .enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON", "REPLICATORD_TEST_S3_ENDPOINT")),
    .serialized)
struct GlueCatalogIntegrationTests {
    let crash = CrashRecoveryIntegrationTests()

    static let schema = """
        CREATE TABLE public.orders (id bigint PRIMARY KEY, amount numeric(12,2), note text, created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE public."Order Items" (id int PRIMARY KEY, qty smallint, tags text[]);
        INSERT INTO public.orders (id, amount, note) SELECT g, g * 1.5, 'n' || g FROM generate_series(1, 20) g;
        INSERT INTO public."Order Items" VALUES (1, 2, '{a,b}');
        CREATE PUBLICATION replicatord FOR TABLE public.orders, public."Order Items";
        """

    struct Lake {
        var db: PostgresFixture
        var config: String
        var endpoint: String
        var database: String
        var bucket: String
    }

    func setUp(_ name: String, iceberg: Bool = false, dateFolders: Bool = false) throws -> Lake {
        let db = try PostgresFixture(name)
        let endpoint = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let bucket = "glue-\(UInt32.random(in: 0...UInt32.max))"
        try TestEnvironment.helper("create-bucket", [endpoint, bucket])
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-glue-\(UUID().uuidString).toml").path
        try TestEnvironment.writeConfig(
            to: config, conninfo: db.conninfo, slot: db.database,
            target: "url = \"s3://\(bucket)/lake\"\nendpoint = \"\(endpoint)\"\npath_style = true",
            spoolDir: config + ".spool", logLevel: "warning")
        let database = "lake_\(db.database.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" })"
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try
            (text + "[catalog]\niceberg = \(iceberg)\nglue_database = \"\(database)\"\nglue_endpoint = \"\(endpoint)\"\n"
            + (dateFolders ? "[output]\ndate_partition = true\n" : ""))
            .write(toFile: config, atomically: true, encoding: .utf8)
        try db.execute(Self.schema)
        return Lake(db: db, config: config, endpoint: endpoint, database: database, bucket: bucket)
    }

    struct Catalog {
        var tables: [String: [String: Any]]
        var files: [String: [[String]]]
        func columns(_ table: String) -> [[String]] { (tables[table]?["columns"] as? [[String]]) ?? [] }
        func names(_ table: String) -> [String] { columns(table).map { $0[0] } }
        /// The Parquet files an engine reads through the table (``scripts/glue_check.py``'s "reads").
        func reads(_ table: String) -> [String] { tables[table]?["reads"] as? [String] ?? [] }
        func partitions(_ table: String) -> [[String: Any]] { tables[table]?["partitions"] as? [[String: Any]] ?? [] }
    }

    func catalog(_ lake: Lake) throws -> Catalog {
        let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/glue_check.py").path
        let out = try TestEnvironment.run(python, [script, lake.endpoint, lake.database])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        return Catalog(tables: doc["tables"] as? [String: [String: Any]] ?? [:], files: doc["files"] as? [String: [[String]]] ?? [:])
    }

    /// Every Parquet file in each table's folder has only columns the Glue table declares.
    func expectCatalogReadsEveryFile(_ c: Catalog, _ lake: Lake) {
        for (name, table) in c.tables {
            let location = table["location"] as? String ?? ""
            let declared = Set(c.names(name))
            let files = c.files[location] ?? []
            #expect(!files.isEmpty, "no Parquet file under \(location)")
            for file in files {
                let missing = Set(file.map { $0.lowercased() }).subtracting(declared)
                #expect(missing.isEmpty, "\(name): a file's columns \(missing.sorted()) are not in the Glue table")
            }
        }
    }

    @Test func fullLoadThenAddColumnKeepsEveryGlueTableCurrent() async throws {
        try await DedicatedThread.run(name: "test") { try self.fullLoadThenAddColumn() }
    }

    func fullLoadThenAddColumn() throws {
        let lake = try setUp("glue_plain")
        defer { lake.db.drop() }
        let load = try crash.once(lake.config)
        try #require(load.status == 0, "full load failed: \(load.stderr)")
        var c = try catalog(lake)
        #expect(Set(c.tables.keys) == ["public_orders_changes", "public_order_items_changes"])
        let orders = c.columns("public_orders_changes")
        #expect(
            orders == [
                ["op", "string"], ["id", "bigint"], ["amount", "decimal(12,2)"], ["note", "string"], ["created_at", "timestamp"],
                ["_seq", "string"], ["_commit_ts", "timestamp"], ["_unchanged_toast", "string"],
            ])
        #expect(
            c.columns("public_order_items_changes") == [
                ["op", "string"], ["id", "int"], ["qty", "smallint"], ["tags", "array<string>"],
                ["_seq", "string"], ["_commit_ts", "timestamp"], ["_unchanged_toast", "string"],
            ])
        let ordersTable = try #require(c.tables["public_orders_changes"])
        #expect(ordersTable["location"] as? String == "s3://\(lake.bucket)/lake/public/orders/")
        #expect(ordersTable["table_type"] as? String == "EXTERNAL_TABLE")
        #expect(ordersTable["serde"] as? String == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
        #expect(ordersTable["input_format"] as? String == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
        #expect((ordersTable["parameters"] as? [String: String])?["classification"] == "parquet")
        #expect(
            c.tables["public_order_items_changes"]?["location"] as? String
                == "s3://\(lake.bucket)/lake/" + FileNaming.tableFolder(schema: "public", table: "Order Items"))
        expectCatalogReadsEveryFile(c, lake)

        try lake.db.execute(
            """
            ALTER TABLE public.orders ADD COLUMN shipped date;
            INSERT INTO public.orders (id, amount, note, shipped) VALUES (100, 1, 'new', '2026-01-02');
            UPDATE public.orders SET note = 'changed' WHERE id = 1;
            """)
        let cdc = try crash.once(lake.config)
        try #require(cdc.status == 0, "cdc cycle failed: \(cdc.stderr)")
        c = try catalog(lake)
        #expect(
            c.columns("public_orders_changes") == [
                ["op", "string"], ["id", "bigint"], ["amount", "decimal(12,2)"], ["note", "string"],
                ["created_at", "timestamp"], ["shipped", "date"],
                ["_seq", "string"], ["_commit_ts", "timestamp"], ["_unchanged_toast", "string"],
            ])
        #expect((c.files["s3://\(lake.bucket)/lake/public/orders/"] ?? []).contains { $0.contains("shipped") }, "no CDC file has the new column")
        expectCatalogReadsEveryFile(c, lake)

        // A dropped column stays declared: the files before the drop still hold it.
        try lake.db.execute("ALTER TABLE public.orders DROP COLUMN note; INSERT INTO public.orders (id, amount) VALUES (101, 2);")
        let dropped = try crash.once(lake.config)
        try #require(dropped.status == 0, "cdc cycle failed: \(dropped.stderr)")
        c = try catalog(lake)
        #expect(c.names("public_orders_changes").contains("note"))
        expectCatalogReadsEveryFile(c, lake)
    }

    @Test func aCrashBetweenTheGlueUpdateAndTheFilesLeavesACatalogThatReadsEveryFile() async throws {
        try await DedicatedThread.run(name: "test") { try self.crashAfterDeclare() }
    }

    func crashAfterDeclare() throws {
        let lake = try setUp("glue_crash")
        defer { lake.db.drop() }
        let load = try crash.once(lake.config)
        try #require(load.status == 0, "full load failed: \(load.stderr)")
        try lake.db.execute("ALTER TABLE public.orders ADD COLUMN region text; INSERT INTO public.orders (id, region) VALUES (200, 'eu');")
        let crashed = try crash.once(lake.config, crashAt: "after-glue-tables-declared")
        #expect(crashed.status == 97, "expected the injected crash: \(crashed.stderr)")
        var c = try catalog(lake)
        #expect(c.names("public_orders_changes").contains("region"), "the Glue table was not updated before the files")
        #expect(!(c.files["s3://\(lake.bucket)/lake/public/orders/"] ?? []).contains { $0.contains("region") }, "a file came before the crash point")
        expectCatalogReadsEveryFile(c, lake)
        let again = try crash.once(lake.config)
        #expect(again.status == 0, "\(again.stderr)")
        c = try catalog(lake)
        #expect((c.files["s3://\(lake.bucket)/lake/public/orders/"] ?? []).contains { $0.contains("region") }, "the redo stored no file with the new column")
        expectCatalogReadsEveryFile(c, lake)
    }

    @Test func dateFoldersAreGluePartitionsDeclaredBeforeTheirFiles() async throws {
        try await DedicatedThread.run(name: "test") { try self.dateFolders() }
    }

    func dateFolders() throws {
        let lake = try setUp("glue_dates", dateFolders: true)
        defer { lake.db.drop() }
        let load = try crash.once(lake.config)
        try #require(load.status == 0, "full load failed: \(load.stderr)")
        let folder = "s3://\(lake.bucket)/lake/public/orders/"
        var c = try catalog(lake)
        #expect(Set(c.tables.keys) == ["public_orders_changes", "public_order_items_changes", "public_orders_cdc", "public_order_items_cdc"])
        #expect(c.tables["public_orders_cdc"]?["partition_keys"] as? [String] == ["year", "month", "day"])
        #expect(c.tables["public_orders_cdc"]?["location"] as? String == folder)
        #expect(c.partitions("public_orders_cdc").isEmpty && c.reads("public_orders_cdc").isEmpty, "LOAD files lie outside every partition")
        #expect(c.columns("public_orders_cdc") == c.columns("public_orders_changes"))
        let loadFiles = c.reads("public_orders_changes")
        #expect(!loadFiles.isEmpty && loadFiles.allSatisfy { $0.hasPrefix(folder + "LOAD") })

        // A cycle killed after Glue is told and before its files: the folder's partition is there first.
        try lake.db.execute(
            """
            ALTER TABLE public.orders ADD COLUMN region text;
            INSERT INTO public.orders (id, region) VALUES (300, 'eu');
            UPDATE public.orders SET note = 'changed' WHERE id = 2;
            """)
        let crashed = try crash.once(lake.config, crashAt: "after-glue-tables-declared")
        #expect(crashed.status == 97, "expected the injected crash: \(crashed.stderr)")
        c = try catalog(lake)
        let partitions = c.partitions("public_orders_cdc")
        #expect(partitions.count == 1)
        #expect(c.reads("public_orders_cdc").isEmpty, "a file came before the crash point")
        #expect(c.names("public_orders_cdc").contains("region"))

        let again = try crash.once(lake.config)
        try #require(again.status == 0, "\(again.stderr)")
        c = try catalog(lake)
        let cdcFiles = c.reads("public_orders_changes").filter { !$0.hasPrefix(folder + "LOAD") }
        #expect(!cdcFiles.isEmpty, "no CDC file")
        #expect(c.reads("public_orders_cdc") == cdcFiles, "the partitioned table reads every CDC file and nothing else")
        #expect(c.reads("public_order_items_cdc").isEmpty)
        for partition in c.partitions("public_orders_cdc") {
            let values = partition["values"] as? [String] ?? []
            #expect(values.count == 3)
            #expect(partition["location"] as? String == folder + values.joined(separator: "/") + "/")
        }
        #expect(cdcFiles.allSatisfy { file in c.partitions("public_orders_cdc").contains { file.hasPrefix($0["location"] as? String ?? "?") } })
        expectCatalogReadsEveryFile(c, lake)
    }

    @Test func withIcebergTheGlueTableIsAnIcebergTableOnTheNewestMetadata() async throws {
        try await DedicatedThread.run(name: "test") { try self.iceberg() }
    }

    func hint(_ lake: Lake, _ folder: String) throws -> String {
        try TestEnvironment.helper("get-object", [lake.endpoint, lake.bucket, "lake/\(folder)/metadata/version-hint.text"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func iceberg() throws {
        let lake = try setUp("glue_iceberg", iceberg: true)
        defer { lake.db.drop() }
        let load = try crash.once(lake.config)
        try #require(load.status == 0, "full load failed: \(load.stderr)")
        var c = try catalog(lake)
        var orders = try #require(c.tables["public_orders_changes"])
        var parameters = orders["parameters"] as? [String: String] ?? [:]
        #expect(parameters["table_type"] == "ICEBERG")
        let first = try hint(lake, "public/orders")
        #expect(parameters["metadata_location"] == "s3://\(lake.bucket)/lake/public/orders/metadata/v\(first).metadata.json")
        #expect(c.names("public_orders_changes").contains("amount"))

        try lake.db.execute("ALTER TABLE public.orders ADD COLUMN shipped date; INSERT INTO public.orders (id, shipped) VALUES (300, '2026-02-03');")
        let cdc = try crash.once(lake.config)
        try #require(cdc.status == 0, "cdc cycle failed: \(cdc.stderr)")
        c = try catalog(lake)
        orders = try #require(c.tables["public_orders_changes"])
        parameters = orders["parameters"] as? [String: String] ?? [:]
        let newest = try hint(lake, "public/orders")
        #expect(newest != first)
        #expect(parameters["metadata_location"] == "s3://\(lake.bucket)/lake/public/orders/metadata/v\(newest).metadata.json")
        #expect(parameters["previous_metadata_location"] == "s3://\(lake.bucket)/lake/public/orders/metadata/v\(first).metadata.json")
        #expect(c.names("public_orders_changes").contains("shipped"))
    }

    @Test(arguments: ["after-iceberg-hint-advanced", "after-glue-iceberg-advanced"])
    func aCrashAroundTheGlueIcebergUpdateLeavesGlueOnReadableMetadataAndTheRedoCatchesUp(_ point: String) async throws {
        try await DedicatedThread.run(name: "test") { try self.icebergCrash(point) }
    }

    func icebergCrash(_ point: String) throws {
        let lake = try setUp("glue_ice_\(point.replacingOccurrences(of: "-", with: "_").prefix(18))", iceberg: true)
        defer { lake.db.drop() }
        let load = try crash.once(lake.config)
        try #require(load.status == 0, "full load failed: \(load.stderr)")
        let loaded = try hint(lake, "public/orders")
        try lake.db.execute("INSERT INTO public.orders (id, note) VALUES (400, 'x');")
        let crashed = try crash.once(lake.config, crashAt: point)
        #expect(crashed.status == 97, "expected the injected crash: \(crashed.stderr)")
        let metadata = { (v: String) in "s3://\(lake.bucket)/lake/public/orders/metadata/v\(v).metadata.json" }
        var parameters = try catalog(lake).tables["public_orders_changes"]?["parameters"] as? [String: String] ?? [:]
        let afterCrash = try hint(lake, "public/orders")
        // Before the Glue call Glue names the metadata of the full load, after it the cycle's: a file that exists either way.
        #expect(parameters["metadata_location"] == metadata(point == "after-glue-iceberg-advanced" ? afterCrash : loaded))
        let again = try crash.once(lake.config)
        #expect(again.status == 0, "\(again.stderr)")
        parameters = try catalog(lake).tables["public_orders_changes"]?["parameters"] as? [String: String] ?? [:]
        let newest = try hint(lake, "public/orders")
        #expect(newest != loaded)
        #expect(parameters["metadata_location"] == metadata(newest))
        #expect(parameters["table_type"] == "ICEBERG")
    }

    @Test func checkNamesARefusedGluePermissionInOneLine() async throws {
        try await DedicatedThread.run(name: "test") { try self.refusedPermission() }
    }

    func refusedPermission() throws {
        let env = ProcessInfo.processInfo.environment
        guard let id = env["REPLICATORD_TEST_S3_DENIED_KEY_ID"], let secret = env["REPLICATORD_TEST_S3_DENIED_SECRET"] else {
            if TestEnvironment.serversRequired { Issue.record("REPLICATORD_TEST_S3_DENIED_KEY_ID is not set: run the tests through scripts/test") }
            return
        }
        let lake = try setUp("glue_check")
        defer { lake.db.drop() }
        let run = try TestEnvironment.capture(
            CrashRecoveryIntegrationTests.binary, ["check", "--config", lake.config],
            environment: ["AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": secret])
        #expect(run.status != 0)
        let lines = (run.stdout + run.stderr).split(separator: "\n").filter { $0.contains("problem: glue") }
        #expect(lines.count == 1, "\(run.stdout)\(run.stderr)")
        #expect(lines.first?.contains("glue:GetDatabase") == true, "\(lines)")
        #expect(lines.first?.contains(lake.database) == true, "\(lines)")
    }
}
