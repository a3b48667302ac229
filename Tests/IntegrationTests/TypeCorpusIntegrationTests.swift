import Replication
import Foundation
import Logging
import ObjectStore
import PGClient
import Testing
@testable import Daemon

/// The type corpus: one table per family of PostgreSQL types, filled with the edge values each type
/// allows (extremes, NULLs, empty strings and arrays, unicode beyond the BMP, 1 MB values), copied by
/// the full load and again by CDC (the same rows inserted under new keys after the load, and an
/// update that leaves the 1 MB values unchanged). `scripts/type_corpus_check.py` reads every file with
/// pyarrow, DuckDB and Spark (schema inference, no reader option) and compares every value with the
/// source's own text form through the README's mapping. Two engines read the same tables: one publication whose stream runs in binary
/// mode (no column read as text) and one with every table, whose stream runs in text mode, so both
/// value decoders of the change stream are covered.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct TypeCorpusIntegrationTests {
    /// A table of the corpus: its columns (after `id int PRIMARY KEY`) and rows (VALUES lists).
    struct Family {
        var table: String
        var columns: [(name: String, type: String)]
        var rows: [String]
        /// Whether a column is read as the server's text (then the stream runs in text mode).
        var textOnly: Bool
    }

    /// The readers that read every file, each with no option.
    static let readers = ["pyarrow", "duckdb", "spark"]

    static let megabyteText = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 32768) g)"
    static let megabyteUnicode = "repeat('😀ü𝄞', 116508)"

    static let families: [Family] = [
        Family(
            table: "t_int", columns: [("b", "bool"), ("i2", "int2"), ("i4", "int4"), ("i8", "int8")],
            rows: [
                "true, -32768, -2147483648, -9223372036854775808",
                "false, 32767, 2147483647, 9223372036854775807",
                "NULL, 0, 0, 0", "false, -1, 1, NULL",
            ], textOnly: false),
        Family(
            table: "t_float", columns: [("f4", "float4"), ("f8", "float8")],
            rows: [
                "'NaN', 'NaN'", "'Infinity', 'Infinity'", "'-Infinity', '-Infinity'", "'-0', '-0'", "0, 0",
                "'3.4028235e38', '1.7976931348623157e308'", "'-3.4028235e38', '-1.7976931348623157e308'",
                "'1e-45', '5e-324'", "'1.17549435e-38', '2.2250738585072014e-308'", "0.1, 0.1", "100000, 1e15", "1e6, 123456789012345",
                "'1.5e-5', '1.5e-5'", "0.0001, 0.0001", "NULL, NULL", "3.14159274, 3.141592653589793",
            ], textOnly: false),
        Family(
            table: "t_numeric",
            columns: [
                ("n12", "numeric(12,2)"), ("n18", "numeric(18,6)"), ("n38", "numeric(38,10)"),
                ("n1", "numeric(1,0)"), ("nneg", "numeric(5,-2)"), ("nu", "numeric"), ("n50", "numeric(50,5)"),
            ],
            rows: [
                "9999999999.99, 999999999999.999999, 9999999999999999999999999999.9999999999, 9, 9999900, '1e-1000', 12345678901234567890123456789012345678901234.12345",
                "-9999999999.99, -999999999999.999999, -9999999999999999999999999999.9999999999, -9, -9999900, 'Infinity', -12345678901234567890123456789012345678901234.12345",
                "0, 0, 0, 0, 0, '-Infinity', 0",
                "'NaN', 'NaN', 'NaN', 'NaN', 'NaN', 'NaN', 'NaN'",
                "0.01, 0.000001, 0.0000000001, NULL, 100, repeat('9', 1000)::numeric, 0.00001",
                "NULL, NULL, NULL, NULL, NULL, NULL, NULL",
                "-0.5, 1.5, 1, 1, 12300, '-0.000000000000000000000000000000000000000000000001', 1e40",
            ], textOnly: false),
        Family(
            table: "t_text", columns: [("tx", "text"), ("vc", "varchar(8)"), ("bp", "char(4)"), ("nm", "name"), ("ct", "citext")],
            rows: [
                "'', '', '', '', ''",
                "'😀 ü 𝄞 中', '😀𝄞x', 'ü', 'naïve 😀', 'CaSe 😀'",
                "'quote'' \"dq\" back\\\\slash {brace} ,comma NULL', 'NULL', ' ', 'with space', 'a,b'",
                "\(megabyteText), 'x', 'abcd', repeat('n', 63), \(megabyteUnicode)",
                "\(megabyteUnicode), NULL, NULL, NULL, NULL",
                "E'tab\\there\\nnewline', 'end ', 'a  ', 'NULL', ''",
            ], textOnly: false),
        Family(
            table: "t_binary", columns: [("ba", "bytea"), ("u", "uuid")],
            rows: [
                "'\\x', '00000000-0000-0000-0000-000000000000'",
                "'\\x00ff10', 'ffffffff-ffff-ffff-ffff-ffffffffffff'",
                "decode(\(megabyteText), 'hex') || decode(\(megabyteText), 'hex'), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
                "NULL, NULL",
            ], textOnly: false),
        Family(
            table: "t_json", columns: [("j", "json"), ("jb", "jsonb"), ("x", "xml")],
            rows: [
                "'{}', '{}', ''",
                "'[]', '[]', '<a/>'",
                "'{\"a\": [1, 2.50, null], \"😀\": \"𝄞\"}', '{\"b\": {\"c\": [true, false, null, 1e3]}, \"a\": \"ü\"}', '<doc>😀 ü 𝄞</doc>'",
                "json_build_object('big', \(megabyteText)), jsonb_build_object('big', \(megabyteUnicode)), ('<big>' || \(megabyteText) || '</big>')::xml",
                "'null', 'null', NULL",
                "NULL, NULL, NULL",
                "'  {\"spaces\" :  1 }  ', '\"just a string\"', 'text only'",
            ], textOnly: false),
        Family(
            table: "t_time", columns: [("d", "date"), ("t", "time"), ("ttz", "timetz"), ("ts", "timestamp"), ("tstz", "timestamptz"), ("iv", "interval")],
            rows: [
                "'infinity', '00:00:00', '00:00:00+15:59', 'infinity', 'infinity', '178000000 years'",
                "'-infinity', '24:00:00', '23:59:59.999999-15:59', '-infinity', '-infinity', '-178000000 years'",
                "'4714-11-24 BC', '12:34:56.789', '12:00:00+05:30', '4714-11-24 00:00:00 BC', '4714-11-24 00:00:00+00 BC', '1 year 2 mons 3 days 04:05:06.5'",
                "'5874897-12-31', '23:59:59.999999', '01:02:03-00:00:01', '294246-12-31 23:59:59.999999', '294246-12-31 23:59:59.999999+00', '-1 year -2 mons +3 days -04:05:06.000001'",
                "'0044-03-15 BC', '00:00:00.000001', '12:00:00+00', '0001-01-01 00:00:00 BC', '0001-12-31 23:59:59.5+00 BC', '0'",
                "'2000-02-29', NULL, NULL, '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', '-2147483648 days -2147483647 months'",
                "NULL, NULL, NULL, NULL, NULL, NULL",
                "'1999-12-31', '13:00', '13:00:00.5+14', '2024-02-29 12:00:00.25', '2024-02-29 12:00:00.25-08', '1 microsecond'",
                // Past INT64 microseconds since 1970 (PostgreSQL goes on to 294276): NULL and replicatord.out_of_range.
                "'2024-01-01', '00:00', '00:00+00', '294276-12-31 23:59:59.999999', '294247-01-10 04:00:54.775807+00', '1 day'",
            ], textOnly: false),
        Family(
            table: "t_net", columns: [("ip", "inet"), ("nw", "cidr"), ("mac", "macaddr"), ("mac8", "macaddr8"), ("m", "money")],
            rows: [
                "'192.168.0.1', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', '-92233720368547758.08'",
                "'::1/128', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00:00:00', '92233720368547758.07'",
                "'10.1.2.3/16', '192.168.100.128/25', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff:ff:ff', '0'",
                "NULL, NULL, NULL, NULL, NULL",
            ], textOnly: true),
        Family(
            table: "t_misc",
            columns: [
                ("e", "mood"), ("dom", "posint"), ("domn", "price"), ("comp", "pair"), ("r", "int4range"), ("tr", "tstzrange"),
                ("mr", "int4multirange"), ("pt", "point"), ("bx", "box"), ("pg", "polygon"), ("ci", "circle"), ("ln", "line"),
                ("ls", "lseg"), ("pa", "path"), ("bt", "bit(4)"), ("vb", "varbit"), ("tv", "tsvector"), ("tq", "tsquery"),
                ("lsn", "pg_lsn"), ("md", "int[][]"), ("mdt", "text[][]"), ("earr", "mood[]"), ("carr", "pair[]"),
                ("ch", "\"char\""), ("oidc", "oid"),
            ],
            rows: [
                "'happy', 1, 12.50, ROW(1, 'a b')::pair, '[1,10)', '[2024-01-01 00:00+00,infinity)', '{[1,3), [5,7)}', '(1.5,-2)', '((0,0),(1,1))', '((0,0),(1,1),(1,0))', '<(0,0),1.5>', '{1,-1,0}', '[(0,0),(1,1)]', '[(0,0),(1,1),(2,0)]', B'1010', B'', 'a fat cat 😀:1A', 'fat & (cat | dog)', '16/B374D848', '{{1,2},{3,NULL}}', '{{\"a b\",\"\"},{NULL,\"😀\"}}', '{happy,sad}', ARRAY[ROW(1, 'x')::pair, NULL], 'a', 4294967295",
                "'sad', 2147483647, 'NaN', ROW(NULL, NULL)::pair, 'empty', '(,)', '{}', '(0,0)', '((-1e300,1e300),(1,1))', '((0,0))', '<(1e-300,0),0>', '{0,1,2}', '[(1,1),(1,1)]', '((0,0))', B'0000', B'1111111100000000', '', '''x''', '0/0', '{}', '{}', '{}', '{}', '', 0",
                "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL",
            ], textOnly: true),
        Family(
            table: "t_array",
            columns: [
                ("ai", "int[]"), ("at", "text[]"), ("an", "numeric(10,2)[]"), ("au", "numeric[]"), ("ad", "date[]"), ("ats", "timestamp[]"),
                ("atz", "timestamptz[]"), ("ab", "bool[]"), ("auu", "uuid[]"), ("aby", "bytea[]"), ("af", "float8[]"), ("af4", "float4[]"),
                ("aj", "jsonb[]"), ("ai8", "int8[]"), ("ati", "time[]"), ("aiv", "interval[]"),
            ],
            rows: [
                "'{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'",
                "'{1,NULL,-2147483648}', ARRAY['', NULL, 'NULL', 'a b', 'q\"d', 'b\\\\s', '{x}', '😀𝄞', 'x,y'], '{1.50,NaN,NULL,-99999999.99}', '{NaN,Infinity,-Infinity,1e-100}', '{infinity,-infinity,0044-03-15 BC,2024-01-01}', '{infinity,\"0001-01-01 00:00:00 BC\",\"2024-01-01 12:00:00.5\"}', '{-infinity,\"2024-01-01 12:00:00+00\"}', '{t,f,NULL}', '{00000000-0000-0000-0000-000000000000,NULL}', ARRAY['\\x'::bytea, '\\x00ff', NULL], '{NaN,Infinity,-Infinity,-0,1.5,1e15}', '{NaN,-0,3.4028235e38,1e-45}', ARRAY['{}'::jsonb, '{\"a\": [1]}', 'null', NULL], '{9223372036854775807,-9223372036854775808}', '{24:00:00,00:00:00.000001}', '{\"1 year\",\"-00:00:00.000001\"}'",
                "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL",
                "'{NULL}', ARRAY[\(megabyteUnicode)], '{NULL,NULL}', '{1}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}'",
                // PostgreSQL does not enforce declared dimensions: several dimensions and explicit bounds
                // in one-dimensional columns (replicatord.array_dims), a far timestamp as an element.
                "'{{1,2},{3,NULL}}', '[0:1][1:2]={{a,\"b c\"},{NULL,\"\"}}', '{{{1.50}}}', '[0:0]={NaN}', '{{infinity},{2024-01-01}}', '{\"294276-12-31 00:00:00\",NULL}', '[2:3]={-infinity,\"2024-01-01 12:00:00+00\"}', '{{t},{f}}', '{{00000000-0000-0000-0000-000000000000}}', ARRAY[ARRAY['\\x00'::bytea]], '{{NaN,1},{2,3}}', '{{-0}}', ARRAY[ARRAY['{}'::jsonb]], '[-5:-4]={1,2}', '{{24:00:00}}', '{{\"1 year\"}}'",
            ], textOnly: false),
    ]

    static let setup = """
        CREATE EXTENSION IF NOT EXISTS citext;
        CREATE TYPE mood AS ENUM ('sad', 'happy', '😀 joy');
        CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
        CREATE DOMAIN price AS numeric(10,2);
        CREATE TYPE pair AS (a int, b text);
        """

    /// Generated columns are not sent by pgoutput (PostgreSQL 15) and are left out of every file;
    /// identity columns are ordinary columns.
    static let generated = """
        CREATE TABLE public.t_generated (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int, twice int GENERATED ALWAYS AS (v * 2) STORED,
          by_default bigint GENERATED BY DEFAULT AS IDENTITY);
        INSERT INTO public.t_generated (v) SELECT g FROM generate_series(1, 5) g;
        """

    static func createSQL(_ f: Family) -> String {
        let columns = f.columns.map { "\(PGConnection.quoteIdentifier($0.name)) \($0.type)" }.joined(separator: ", ")
        let values = f.rows.enumerated().map { "(\($0.offset + 1), \($0.element))" }.joined(separator: ",\n")
        return "CREATE TABLE public.\(f.table) (id int PRIMARY KEY, \(columns));\nINSERT INTO public.\(f.table) VALUES \(values);"
    }

    /// After the load: the same rows again under new keys, one update that leaves every other
    /// column (the 1 MB values among them) unchanged, one delete.
    static func changeSQL(_ f: Family) -> String {
        let names = f.columns.map { PGConnection.quoteIdentifier($0.name) }.joined(separator: ", ")
        let first = PGConnection.quoteIdentifier(f.columns[0].name)
        return """
            INSERT INTO public.\(f.table) (id, \(names)) SELECT id + 1000, \(names) FROM public.\(f.table) WHERE id < 1000;
            UPDATE public.\(f.table) SET \(first) = \(first) WHERE id IN (3, 4, 5, 1003, 1004, 1005);
            UPDATE public.\(f.table) SET id = id + 2000 WHERE id = 1;
            DELETE FROM public.\(f.table) WHERE id = 2;
            """
    }

    func check(_ db: PostgresFixture, dir: String, tables: [String]) async throws -> [[String: Any]] {
        let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/type_corpus_check.py").path
        let arguments = [script, "--conninfo", db.conninfo, "--dir", dir, "--spark"] + tables
        let out: String
        do {
            out = try await DedicatedThread.run(name: "corpus-check") { try TestEnvironment.run(python, arguments) }
        } catch let failure as TestEnvironment.ProcessFailed {
            Issue.record("values differ: \(failure.description)")
            throw failure
        }
        return out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func everyTypeFamilyRoundTripsThroughFullLoadAndBothStreamModesWithNoMismatch() async throws {
        try await withPostgres("corpus") { db in
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-corpus-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: base) }
            let all = Self.families.map { "public.\($0.table)" } + ["public.t_generated"]
            let binaryOnly = Self.families.filter { !$0.textOnly }.map { "public.\($0.table)" } + ["public.t_generated"]
            try db.execute(
                Self.setup + Self.families.map(Self.createSQL).joined(separator: "\n") + Self.generated + """
                    CREATE PUBLICATION corpus_text FOR TABLE \(all.joined(separator: ", "));
                    CREATE PUBLICATION corpus_binary FOR TABLE \(binaryOnly.joined(separator: ", "));
                    """)

            var totals = (values: 0, mismatches: 0)
            var engines: [(publication: String, tables: [String], dir: String, engine: Engine)] = []
            for (publication, tables) in [("corpus_binary", binaryOnly), ("corpus_text", all)] {
                let dir = base + "/" + publication
                var settings = EngineSettings(conninfo: db.conninfo, publication: publication, slot: db.database + "_" + publication)
                settings.parallelTables = 2
                let store = try ObjectStoreLocation(url: "file://\(dir)").makeStore(logger: Logger(label: "test"))
                let engine = Engine(settings: settings, store: store, logger: Logger(label: "test"))
                guard case .fullLoad = try await engine.runCycle() else { Issue.record("no full load"); return }
                let loaded = try await check(db, dir: dir, tables: tables)
                #expect(loaded.count == tables.count)
                engines.append((publication, tables, dir, engine))
            }
            try db.execute(
                Self.families.map(Self.changeSQL).joined(separator: "\n") + """
                    INSERT INTO public.t_generated (v) VALUES (100), (NULL);
                    INSERT INTO public.t_generated (v, by_default) VALUES (7, -9223372036854775808);
                    UPDATE public.t_generated SET v = -v WHERE id = 1;
                    DELETE FROM public.t_generated WHERE id = 2;
                    """)
            for (publication, tables, dir, engine) in engines {
                guard case .cdc(let report) = try await engine.runCycle() else { Issue.record("no CDC cycle"); return }
                #expect(report.files.count == tables.count, "\(publication): \(report.files)")
                let results = try await check(db, dir: dir, tables: tables)
                #expect(results.count == tables.count)
                for result in results {
                    for reader in Self.readers {
                        let r = try #require(result[reader] as? [String: Any])
                        totals.values += r["values"] as? Int ?? 0
                        totals.mismatches += r["mismatches"] as? Int ?? 0
                        #expect(r["mismatches"] as? Int == 0, "\(publication) \(result["table"] ?? "") \(reader): \(r)")
                    }
                }
                // The generated column is in no file; the identity columns are.
                _ = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
                let columns = try TestEnvironment.helper(
                    "duckdb-columns", ["SELECT * FROM read_parquet('\(dir)/public/t_generated/*.parquet', union_by_name=true)"])
                #expect(columns.contains("['Op', '_commit_ts', '_seq', '_unchanged_toast', 'by_default', 'id', 'v']"), "\(columns)")
            }
            // Every column of every row (4 copies of each corpus row less the deleted one, per reader
            // and per publication) was compared.
            let binaryFamilies = Self.families.filter { !$0.textOnly }
            func values(_ families: [Family]) -> Int { families.reduce(7 * 3) { $0 + (2 * $1.rows.count - 1) * ($1.columns.count + 1) } * Self.readers.count }
            #expect(totals.values == values(binaryFamilies) + values(Self.families) && totals.mismatches == 0, "\(totals)")
            print("type corpus: \(totals.values) values compared (pyarrow, DuckDB and Spark, both stream modes), \(totals.mismatches) mismatches")
        }
    }
}
