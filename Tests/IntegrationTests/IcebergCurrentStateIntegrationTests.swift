import Foundation
import PGClient
import Replication
import Testing
import TestSupport

/// The current state on the Iceberg tables (`[catalog] iceberg = true`), in service mode, after a
/// randomized workload: inserts, updates, deletes, primary-key changes, truncates, TOAST values
/// left unchanged, a keyless table with duplicate rows, and ADD, RENAME and DROP COLUMN. After
/// every round (the service caught up), `replicatord ddl --engine duckdb --iceberg` is printed
/// again and its current-state view, run by DuckDB over iceberg_scan and over the rows pyiceberg
/// reads, equals the source table; at the end every round's snapshot, read by pyiceberg's time
/// travel and DuckDB's `<name>_as_of` view, still equals the source as that round left it
/// (`scripts/iceberg_current_state.py`).
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_ICEBERG_PYTHON")), .serialized)
struct IcebergCurrentStateIntegrationTests {
    let service = ServiceIntegrationTests()

    /// The schema change of a round, if any (after its changes, in the same transaction).
    static func schemaChange(round: Int) -> String? {
        switch round {
        case 2: "ALTER TABLE public.accounts ADD COLUMN note text; UPDATE public.accounts SET note = 'r2' WHERE id % 5 = 0"
        case 4: "ALTER TABLE public.accounts RENAME COLUMN name TO title; UPDATE public.accounts SET title = title || '!' WHERE id % 3 = 0"
        case 6: "ALTER TABLE public.accounts DROP COLUMN note"
        // The new column reaches the Iceberg schema with the table's first change after the ALTER
        // (pgoutput describes a relation with a change): an insert makes sure there is one.
        case 7:
            "ALTER TABLE public.\"Order Items\" ADD COLUMN price numeric(10,2); UPDATE public.\"Order Items\" SET price = 2.25 WHERE qty % 2 = 0; "
                + "INSERT INTO public.\"Order Items\" VALUES (9999, 1, 'after-add', 1, 3.75)"
        default: nil
        }
    }

    @Test func theIcebergCurrentStateEqualsTheSourceAtEveryCycleAndEverySnapshot() async throws {
        let (db, dir, config, port) = try service.setUp("iceberg_state")
        defer { db.drop() }
        defer {
            if ProcessInfo.processInfo.environment["REPLICATORD_TEST_KEEP"] == nil {
                for path in [dir, dir + ".spool", dir + ".iceberg-state.json"] { try? FileManager.default.removeItem(atPath: path) }
            }
        }
        try db.execute("DROP PUBLICATION replicatord; DROP TABLE public.orders, public.events, public.untouched;" + CurrentStateIntegrationTests.schema)
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try (text + "[catalog]\niceberg = true\n").write(toFile: config, atomically: true, encoding: .utf8)
        var rng = FuzzSeed.generator(for: "iceberg current state workload")
        let seed = rng.seed
        print("iceberg current state workload: target \(dir)")
        let next = { (n: Int) in Int(rng.next() % UInt64(n)) }
        let base = "http://127.0.0.1:\(port)"
        let daemon = try ServiceIntegrationTests.Daemon(config: config, environment: [:])
        try #require(
            try await service.eventually(90) {
                guard let answer = try await service.get(base + "/health") else { return false }
                return service.json(answer.body)["phase"] as? String == "cdc"
            }, "never reached cdc: \(daemon.log)")
        let python = try TestEnvironment.require("REPLICATORD_TEST_ICEBERG_PYTHON")
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/iceberg_current_state.py").path
        let record = dir + ".iceberg-state.json"
        for round in 0..<9 {
            var batch = (0..<20).map { CurrentStateIntegrationTests.change(next, round: round, index: $0) }
            if let change = Self.schemaChange(round: round) { batch.append(change) }
            // The rename: the workload's statements name the column by its current name.
            if round > 4 {
                batch = batch.map {
                    $0.replacingOccurrences(of: "name = name || 'u'", with: "title = title || 'u'")
                        .replacingOccurrences(of: "(id, name, big,", with: "(id, title, big,")
                }
            }
            try db.execute("BEGIN;\n" + batch.joined(separator: ";\n") + ";\nCOMMIT;")
            let target = try await DedicatedThread.run(name: "lsn") { try db.connect().query("SELECT pg_current_wal_lsn()::text").rows[0][0] ?? "" }
            let caughtUp = try await service.eventually(60) {
                guard let answer = try await service.get(base + "/health") else { return false }
                let confirmed = service.json(answer.body)["confirmed_lsn"] as? String ?? "0/0"
                return try await DedicatedThread.run(name: "lsn") {
                    try db.connect().query("SELECT $1::pg_lsn >= $2::pg_lsn", [confirmed, target]).rows[0][0] == "t"
                }
            }
            try #require(caughtUp, "round \(round) (seed \(seed)): \(daemon.log)")
            let checked = try await DedicatedThread.run(name: "iceberg-state") { () throws -> TestEnvironment.Finished in
                let printed = try TestEnvironment.capture(
                    CrashRecoveryIntegrationTests.binary,
                    ["ddl", "--config", config, "--engine", "duckdb", "--iceberg"])
                guard printed.status == 0 else { return printed }
                let ddl = dir + ".round\(round).sql"
                try printed.stdout.write(toFile: ddl, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(atPath: ddl) }
                return try TestEnvironment.capture(
                    python,
                    [
                        script, "round", "--ddl", ddl, "--conninfo", db.conninfo, "--target", dir,
                        "--record", record, "--round", "\(round)",
                    ] + CurrentStateIntegrationTests.tables)
            }
            #expect(checked.status == 0, "round \(round) (seed \(seed)): \(checked.stdout)\n\(checked.stderr.suffix(3000))")
            let lines = checked.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
            #expect(
                lines.count == 2 * CurrentStateIntegrationTests.tables.count && lines.allSatisfy { $0.contains("\"ok\": true") },
                "round \(round): \(lines)")
        }
        #expect(await daemon.stop() == 0)
        let history = try await DedicatedThread.run(name: "iceberg-history") {
            try TestEnvironment.capture(python, [script, "history", "--target", dir, "--record", record] + CurrentStateIntegrationTests.tables)
        }
        #expect(history.status == 0, "seed \(seed): \(history.stdout)\n\(history.stderr.suffix(3000))")
        let lines = history.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(
            lines.count == 2 * 9 * CurrentStateIntegrationTests.tables.count && lines.allSatisfy { $0.contains("\"ok\": true") },
            "\(lines.filter { !$0.contains("\"ok\": true") }.prefix(5))")
    }
}
