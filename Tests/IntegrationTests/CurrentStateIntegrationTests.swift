import Replication
import Foundation
import PGClient
import Testing
import TestSupport

/// The current state of every table in one SQL statement, from `_seq` alone: the service runs a
/// randomized workload (inserts, updates, deletes, primary-key changes, truncates, updates that
/// leave a TOASTed value unchanged, a keyless `REPLICA IDENTITY FULL` table with duplicate rows,
/// a column added, names with capitals and spaces); then `replicatord ddl` for DuckDB, Athena and
/// Spark is run (Athena's views unchanged in DuckDB, Spark in local pyspark) and every view equals
/// the source table, value by value.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct CurrentStateIntegrationTests {
    let service = ServiceIntegrationTests()

    static let schema = """
        CREATE TABLE public.accounts (id int PRIMARY KEY, name text, big text, balance numeric(12,2), tags text[], at timestamptz, d date);
        ALTER TABLE public.accounts ALTER COLUMN big SET STORAGE EXTERNAL;
        CREATE TABLE public."Order Items" ("Order" int, line int, sku text, qty int, PRIMARY KEY ("Order", line));
        CREATE TABLE public.events_log (at timestamp, kind text, payload bytea);
        ALTER TABLE public.events_log REPLICA IDENTITY FULL;
        INSERT INTO public.accounts SELECT g, 'n' || g, CASE WHEN g % 5 = 0 THEN repeat(md5(g::text), 300) END, g * 1.5,
          ARRAY['t' || g], timestamptz '2024-01-01 00:00+00' + g * interval '1 hour', date '2024-01-01' + g FROM generate_series(1, 200) g;
        INSERT INTO public."Order Items" SELECT g / 3, g % 3, 'sku' || g, g FROM generate_series(1, 90) g;
        INSERT INTO public.events_log SELECT timestamp '2024-05-01' + (g % 7) * interval '1 minute', 'k' || g % 3, decode(md5((g % 4)::text), 'hex')
          FROM generate_series(1, 40) g;
        CREATE PUBLICATION replicatord FOR TABLE public.accounts, public."Order Items", public.events_log;
        """
    static let tables = ["public.accounts", "public.\"Order Items\"", "public.events_log"]

    /// One random change; `next` draws from the seeded generator.
    static func change(_ next: (Int) -> Int, round: Int, index: Int) -> String {
        let id = 1 + next(260)
        let unique = round * 100 + index  // new keys never collide
        switch next(12) {
        case 0:
            return
                "INSERT INTO public.accounts (id, name, big, balance, tags, at, d) VALUES (\(1000 + unique), 'new\(round)', repeat('z', \(next(3) * 4000)), \(next(1000)).25, ARRAY['a', NULL], now(), current_date) ON CONFLICT DO NOTHING"
        case 1: return "UPDATE public.accounts SET balance = balance + 1, name = name || 'u' WHERE id = \(id)"  // big unchanged (TOAST)
        case 2: return "UPDATE public.accounts SET big = repeat(md5('\(round)'), 200), tags = tags || 'x'::text WHERE id = \(id)"
        // A primary-key change. It sets `big` too: under REPLICA IDENTITY DEFAULT a key change that leaves
        // a TOASTed value unchanged lists it in the new key's `I`, whose value is the old key's, which
        // the views do not follow (the README's limit).
        case 3: return "UPDATE public.accounts SET id = \(5000 + unique), big = big || '' WHERE id = \(id)"
        case 4: return "DELETE FROM public.accounts WHERE id = \(id)"
        case 5: return "INSERT INTO public.\"Order Items\" VALUES (\(100 + round), \(next(3)), 'sku-r\(round)', \(next(50))) ON CONFLICT DO NOTHING"
        case 6: return "UPDATE public.\"Order Items\" SET qty = qty + 1 WHERE \"Order\" = \(next(40))"
        case 7: return "UPDATE public.\"Order Items\" SET line = line + \(1000 + unique * 10) WHERE \"Order\" = \(next(40)) AND line < 3"
        case 8:
            return
                "INSERT INTO public.events_log VALUES (timestamp '2024-05-01' + \(next(7)) * interval '1 minute', 'k\(next(3))', decode(md5('\(next(4))'), 'hex'))"
        case 9: return "DELETE FROM public.events_log WHERE ctid = (SELECT ctid FROM public.events_log WHERE kind = 'k\(next(3))' LIMIT 1)"
        case 10: return "UPDATE public.events_log SET kind = 'moved' WHERE ctid = (SELECT ctid FROM public.events_log WHERE kind = 'k\(next(3))' LIMIT 1)"
        default: return next(4) == 0 ? "TRUNCATE public.\"Order Items\"" : "DELETE FROM public.\"Order Items\" WHERE \"Order\" = \(next(40))"
        }
    }

    /// Right after the full load a table has LOAD files only (no `Op`, no `_unchanged_toast` column):
    /// DuckDB's views still open and the current state equals the source.
    @Test func duckdbViewsReadATableThatHasOnlyItsLoadFiles() async throws {
        let (db, dir, config, _) = try service.setUp("current_state_load")
        defer { db.drop() }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try db.execute("DROP PUBLICATION replicatord; DROP TABLE public.orders, public.events, public.untouched;" + Self.schema)
        try await DedicatedThread.run(name: "load-only") {
            let load = try CrashRecoveryIntegrationTests().once(config)
            try #require(load.status == 0, "full load failed: \(load.stderr)")
            let printed = try TestEnvironment.capture(CrashRecoveryIntegrationTests.binary, ["ddl", "--config", config, "--engine", "duckdb"])
            try #require(printed.status == 0, "\(printed.stderr)")
            let ddl = dir + ".duckdb.sql"
            try printed.stdout.write(toFile: ddl, atomically: true, encoding: .utf8)
            let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/current_state_check.py").path
            let out = try TestEnvironment.capture(
                try TestEnvironment.require("REPLICATORD_TEST_PYTHON"),
                [script, "--engine", "duckdb", "--conninfo", db.conninfo, "--ddl", ddl] + Self.tables)
            #expect(out.status == 0, "\(out.stdout)\n\(out.stderr.suffix(3000))")
            let lines = out.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
            #expect(lines.count == Self.tables.count && lines.allSatisfy { $0.contains("\"ok\": true") }, "\(lines)")
        }
    }

    @Test func everyEnginesCurrentStateViewEqualsTheSourceAfterARandomizedWorkload() async throws {
        let (db, dir, config, port) = try service.setUp("current_state")
        defer { db.drop() }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try db.execute("DROP PUBLICATION replicatord; DROP TABLE public.orders, public.events, public.untouched;" + Self.schema)
        var rng = FuzzSeed.generator(for: "current state workload")
        let seed = rng.seed
        let next = { (n: Int) in Int(rng.next() % UInt64(n)) }
        let base = "http://127.0.0.1:\(port)"
        let daemon = try ServiceIntegrationTests.Daemon(config: config, environment: [:])
        try #require(
            try await service.eventually(90) {
                guard let answer = try await service.get(base + "/health") else { return false }
                return service.json(answer.body)["phase"] as? String == "cdc"
            }, "never reached cdc: \(daemon.log)")
        for round in 0..<12 {
            var batch = (0..<25).map { Self.change(next, round: round, index: $0) }
            if round == 6 { batch.append("ALTER TABLE public.accounts ADD COLUMN note text; UPDATE public.accounts SET note = 'after ddl' WHERE id % 7 = 0") }
            try db.execute("BEGIN;\n" + batch.joined(separator: ";\n") + ";\nCOMMIT;")
            try await Task.sleep(for: .milliseconds(700))
            if round == 5 {
                // The Spark job's first run, while the service goes on writing.
                let first = try await DedicatedThread.run(name: "spark-job") { try sparkJob(dir) }
                #expect(first.status == 0 && first.stdout.contains("\"rebuilt\": true"), "\(first.stdout)\n\(first.stderr.suffix(2000))")
            }
        }
        let target = try await DedicatedThread.run(name: "lsn") { try db.connect().query("SELECT pg_current_wal_lsn()::text").rows[0][0] ?? "" }
        let caughtUp = try await service.eventually(60) {
            guard let answer = try await service.get(base + "/health") else { return false }
            let confirmed = service.json(answer.body)["confirmed_lsn"] as? String ?? "0/0"
            return try await DedicatedThread.run(name: "lsn") {
                try db.connect().query("SELECT $1::pg_lsn >= $2::pg_lsn", [confirmed, target]).rows[0][0] == "t"
            }
        }
        try #require(caughtUp, "\(daemon.log)")
        #expect(await daemon.stop() == 0)

        try await DedicatedThread.run(name: "current-state") {
            var ddl: [String: String] = [:]
            for engine in ["duckdb", "athena", "spark"] {
                let printed = try TestEnvironment.capture(CrashRecoveryIntegrationTests.binary, ["ddl", "--config", config, "--engine", engine])
                try #require(printed.status == 0, "\(printed.stderr)")
                ddl[engine] = dir + ".\(engine).sql"
                try printed.stdout.write(toFile: ddl[engine]!, atomically: true, encoding: .utf8)
            }
            // The Spark job's second run applies only the CDC files written since its first.
            let second = try sparkJob(dir)
            #expect(second.status == 0, "\(second.stderr.suffix(2000))")
            let accounts = second.stdout.split(separator: "\n").first { $0.contains("\"public/accounts\"") } ?? ""
            #expect(accounts.contains("\"rebuilt\": false") && !accounts.contains("\"applied_files\": 0"), "\(second.stdout)")
            let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
            let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/current_state_check.py").path
            for engine in ["duckdb", "athena", "spark", "state"] {
                var arguments = [script, "--engine", engine, "--conninfo", db.conninfo]
                if engine == "state" { arguments += ["--state", dir + ".state"] } else { arguments += ["--ddl", ddl[engine]!] }
                if engine == "athena" { arguments += ["--duckdb-ddl", ddl["duckdb"]!] }
                let out = try TestEnvironment.capture(python, arguments + Self.tables)
                #expect(out.status == 0, "\(engine) (seed \(seed)): \(out.stdout)\n\(out.stderr.suffix(3000))")
                let lines = out.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
                #expect(lines.count == Self.tables.count && lines.allSatisfy { $0.contains("\"ok\": true") }, "\(engine): \(lines)")
            }
        }
    }
}

/// Runs `contrib/spark/current_state.py` (local pyspark) from the files in `dir` into `dir.state`.
func sparkJob(_ dir: String) throws -> TestEnvironment.Finished {
    let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
    let job = TestEnvironment.repositoryRoot.appendingPathComponent("contrib/spark/current_state.py").path
    return try TestEnvironment.capture(
        python,
        [
            job, "--source", "file://" + dir, "--output", "file://" + dir + ".state",
            "--key", "public/accounts=id", "--key", "public/Order Items=Order,line",
        ])
}
