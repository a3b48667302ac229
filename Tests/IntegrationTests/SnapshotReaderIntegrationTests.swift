import PGClient
import Replication
import Testing

@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG")), .serialized)
struct SnapshotReaderIntegrationTests {
    @Test func snapshotReadSeesExactlyTheSlotsSnapshotWhileInsertsContinue() async throws {
        try await withPostgres("snap") { db in
            try await DedicatedThread.run(name: "test") {
                try db.execute(
                    """
                    CREATE TABLE t (id bigint PRIMARY KEY, v text);
                    INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 1000) g;
                    CREATE PUBLICATION p FOR TABLE t;
                    """)
                let repl = try db.connectReplication()
                let slot = try repl.createLogicalSlot("s1", exportSnapshot: true)
                let snapshot = try #require(slot.snapshotName)
                #expect(slot.outputPlugin == "pgoutput")

                // Changes committed after the slot's creation must not be visible in its snapshot.
                try db.execute("INSERT INTO t SELECT g, 'late ' || g FROM generate_series(1001, 1500) g; DELETE FROM t WHERE id <= 10")

                let reader = try db.connect()
                try SnapshotReader.enterSnapshot(snapshot, on: reader)
                let tables = try Catalog.publicationTables("p", on: reader)
                let table = try #require(tables.first)
                var ids: [Int64] = []
                let rows = try SnapshotReader(connection: reader, batchRows: 100).read(table) { batch in
                    ids.append(contentsOf: batch.columns[0].int64s)
                }
                #expect(rows == 1000)
                #expect(ids.sorted() == Array(1...1000))

                // Outside the snapshot the table has moved on.
                let now = try db.connect().query("SELECT count(*) FROM t")
                #expect(now.rows[0][0] == "1490")
            }
        }
    }

    /// Values longer than `largeValueBytes` are left out of the COPY and read afterwards in pieces
    /// (SnapshotReader's large-value rule): every covered type, pieces that split multi-byte
    /// characters, padded bpchar, jsonb's version byte, NULLs and short values beside them, rows
    /// added after the snapshot unseen; the values equal a plain read's, each large row in a batch
    /// of its own.
    @Test func largeValuesAreReadInPiecesAndEqualAPlainRead() async throws {
        try await withPostgres("snap_large") { db in
            try await DedicatedThread.run(name: "test") {
                try db.execute(
                    """
                    CREATE DOMAIN longtext AS text;
                    CREATE TABLE big (id int PRIMARY KEY, t text, v varchar, c char(3000), x xml, j json, jb jsonb, b bytea, d longtext, n int);
                    ALTER TABLE big ALTER t SET STORAGE EXTERNAL, ALTER b SET STORAGE EXTERNAL;
                    INSERT INTO big SELECT g,
                        CASE WHEN g % 3 = 0 THEN repeat('é日😀x', 200 + g) ELSE 'short ' || g END,
                        CASE WHEN g % 4 = 0 THEN repeat('vv', 900 + g) END,
                        CASE WHEN g % 5 = 0 THEN 'padded' END,
                        CASE WHEN g % 6 = 0 THEN ('<a>' || repeat('<b>é</b>', 400) || '</a>')::xml ELSE '<s/>'::xml END,
                        CASE WHEN g % 7 = 0 THEN ('{"k": "' || repeat('ü', 3000) || '"}')::json END,
                        CASE WHEN g % 2 = 0 THEN jsonb_build_object('k', repeat(md5(g::text), 200), 'n', g) ELSE '{"a": 1}'::jsonb END,
                        CASE WHEN g % 3 = 1 THEN decode(repeat(md5(g::text), 150), 'hex') END,
                        repeat('d', g * 37),
                        g
                      FROM generate_series(1, 60) g;
                    CREATE PUBLICATION p FOR TABLE big;
                    """)
                let repl = try db.connectReplication()
                let slot = try repl.createLogicalSlot("s_large", exportSnapshot: true)
                let snapshot = try #require(slot.snapshotName)
                try db.execute("INSERT INTO big (id, t) VALUES (1000, repeat('late', 5000))")

                func read(largeValueBytes: Int) throws -> (rows: Int64, batches: [Int], values: [Int: [String]]) {
                    let reader = try db.connect()
                    try SnapshotReader.enterSnapshot(snapshot, on: reader)
                    let table = try #require(try Catalog.publicationTables("p", on: reader).first)
                    var values: [Int: [String]] = [:]
                    var batches: [Int] = []
                    let rows = try SnapshotReader(connection: reader, batchRows: 16, largeValueBytes: largeValueBytes).read(table) { batch in
                        batches.append(batch.rowCount)
                        var next = [Int](repeating: 0, count: batch.columns.count)
                        for row in 0..<batch.rowCount {
                            var cells: [String] = []
                            for (k, column) in batch.columns.enumerated() {
                                if column.nulls[row] { cells.append("NULL"); continue }
                                if column.kind.isByteLike {
                                    cells.append(String(decoding: column.byteValue(next[k]), as: UTF8.self) + "#\(column.byteValue(next[k]).count)")
                                } else {
                                    cells.append(String(column.int64s[next[k]]))
                                }
                                next[k] += 1
                            }
                            values[Int(cells[0])!] = cells
                        }
                    }
                    try reader.query("COMMIT")
                    return (rows, batches, values)
                }
                let plain = try read(largeValueBytes: 1 << 30)
                let pieces = try read(largeValueBytes: 1000)
                #expect(plain.rows == 60 && pieces.rows == 60)
                #expect(plain.values.count == 60 && pieces.values.count == 60)
                for id in 1...60 { #expect(pieces.values[id] == plain.values[id], "row \(id)") }
                // Rows with a value over 1000 bytes came one per batch, after the COPY's batches.
                #expect(pieces.batches.filter { $0 == 1 }.count >= 40, "\(pieces.batches)")
                #expect(plain.batches == [16, 16, 16, 12])
                // A sample of the values themselves, against the source.
                let source = try db.connect().query("SELECT octet_length(t), octet_length(c), octet_length(jb::text), octet_length(b) FROM big WHERE id = 30")
                let row30 = try #require(pieces.values[30])
                #expect(row30[1].hasSuffix("#\(source.rows[0][0]!)") && row30[3].hasSuffix("#\(source.rows[0][1]!)"))
                #expect(row30[3].hasPrefix("padded   "))
                #expect(row30[6].hasPrefix("{\"k\": \"") && row30[6].hasSuffix("#\(source.rows[0][2]!)"))
            }
        }
    }

    @Test func catalogDescribesColumnsKeysAndIdentity() async throws {
        try await withPostgres("cat") { db in
            try await DedicatedThread.run(name: "test") {
                try db.execute(
                    """
                    CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
                    CREATE TABLE a (k1 int, k2 text, n numeric(12,2) NOT NULL, d posint, g int GENERATED ALWAYS AS (k1 * 2) STORED,
                                    gone int, PRIMARY KEY (k2, k1));
                    ALTER TABLE a DROP COLUMN gone;
                    CREATE TABLE b (x int[]);
                    ALTER TABLE b REPLICA IDENTITY FULL;
                    CREATE PUBLICATION p FOR TABLE a, b;
                    ANALYZE a;
                    """)
                let c = try db.connect()
                let tables = try Catalog.publicationTables("p", on: c)
                #expect(tables.map(\.name) == ["a", "b"])
                let a = tables[0]
                #expect(a.columns.map(\.name) == ["k1", "k2", "n", "d"])  // generated and dropped columns skipped
                #expect(a.primaryKey.map(\.name) == ["k1", "k2"])
                #expect(a.replicaIdentity == "d")
                #expect(a.columns[2].typeName == "numeric(12,2)" && a.columns[2].notNull)
                #expect(ColumnKind(a.columns[2]) == .decimal(precision: 12, scale: 2))
                #expect(a.columns[3].baseTypeOID == PGTypeOID.int4)
                #expect(ColumnKind(a.columns[3]) == .int32)
                #expect(tables[1].replicaIdentity == "f")
                #expect(tables[1].columns[0].elementTypeOID == PGTypeOID.int4)
                #expect(throws: CatalogError.publicationMissing("nope")) { try Catalog.publicationTables("nope", on: c) }
            }
        }
    }

    @Test func everyDecodedTypeMatchesTheServersOwnText() async throws {
        try await withPostgres("types") { db in
            try await DedicatedThread.run(name: "test") {
                try db.execute(
                    """
                    SET TIME ZONE 'UTC';
                    CREATE TYPE mood AS ENUM ('sad', 'happy');
                    CREATE TABLE t (id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
                      n numeric(12,2), nw numeric(30,5), nu numeric, tx text, vc varchar(10), bp char(3), nm name,
                      ba bytea, u uuid, j json, jb jsonb, d date, tm time, ts timestamp, tz timestamptz, iv interval,
                      ttz timetz, e mood, ip inet, arr int[]);
                    INSERT INTO t VALUES
                      (1, true, -32768, -2147483648, -9223372036854775808, 1.5, -2.25, -1234567890.12, 1234567890123456789012345.12345,
                       '-0.000012300', 'héllo', 'abc', 'x', 'nm', '\\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
                       '{"a": [1, 2]}', '{"b": null, "a": 1}', '1999-12-31', '23:59:59.999999', '2024-02-29 12:34:56.789',
                       '1970-01-01 00:00:00+00', '1 year 2 mons 3 days 04:05:06.5', '10:11:12.5+05:30', 'happy', '10.1.0.0/16', '{1,NULL,3}'),
                      (2, false, 32767, 2147483647, 9223372036854775807, 'NaN', '-Infinity', 0, 0, 'NaN', '', '', '', '',
                       '\\x', '00000000-0000-0000-0000-000000000000', 'null', '[]', 'infinity', '00:00:00', '-infinity',
                       '2000-01-01 00:00:00.000001+00', '-1 days -00:00:01', '00:00:00-08', 'sad', '::1', '{}'),
                      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
                    CREATE PUBLICATION p FOR TABLE t;
                    """)
                let c = try db.connect()
                try c.query("BEGIN ISOLATION LEVEL REPEATABLE READ")
                let table = try #require(try Catalog.publicationTables("p", on: c).first)
                var batch: ColumnBatch?
                try SnapshotReader(connection: c).read(table) { batch = $0 }
                let b = try #require(batch)
                #expect(b.rowCount == 3)
                func col(_ name: String) -> ColumnVector { b.columns[table.columns.firstIndex { $0.name == name }!] }
                func texts(_ name: String) -> [String] {
                    let v = col(name); return (0..<(v.offsets.count - 1)).map { String(decoding: v.byteValue($0), as: UTF8.self) }
                }
                #expect(col("b").int64s == [1, 0] && col("b").nulls == [false, false, true])
                #expect(col("i2").int64s == [-32768, 32767])
                #expect(col("i4").int64s == [-2147483648, 2147483647])
                #expect(col("i8").int64s == [.min, .max])
                #expect(col("f4").float32s[0] == 1.5 && col("f4").float32s[1].isNaN)
                #expect(col("f8").float64s == [-2.25, -.infinity])
                #expect(col("n").int64s == [-123456789012, 0])
                #expect(col("nw").int128s == [123456789012345678901234512345, 0])
                #expect(texts("nu") == ["-0.000012300", "NaN"])
                #expect(texts("tx") == ["héllo", ""])
                #expect(texts("vc") == ["abc", ""])
                #expect(texts("bp") == ["x  ", "   "])
                #expect(texts("nm") == ["nm", ""])
                #expect(col("ba").bytes == [0x00, 0xFF, 0x10] && col("ba").offsets == [0, 3, 3])
                #expect(Array(col("u").byteValue(0)) == [0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11])
                #expect(texts("j") == [#"{"a": [1, 2]}"#, "null"])
                #expect(texts("jb") == [#"{"a": 1, "b": null}"#, "[]"])
                #expect(col("d").int64s == [10956, Int64(Int32.max)])
                #expect(col("tm").int64s == [86_399_999_999, 0])
                #expect(col("ts").int64s == [1_709_210_096_789_000, -.max])  // -infinity: DuckDB's sentinel
                #expect(col("tz").int64s == [0, 946_684_800_000_001])
                #expect(texts("iv") == ["P1Y2M3DT4H5M6.5S", "P-1DT-1S"])
                #expect(texts("ttz") == ["10:11:12.5+05:30", "00:00:00-08"])
                #expect(texts("e") == ["happy", "sad"])
                #expect(texts("ip") == ["10.1.0.0/16", "::1"])  // inet's own output function, as pgoutput sends it
                #expect(col("ip").nulls == [false, false, true])
                // int[] is a LIST<int32>: elements with their NULLs, the empty list, a NULL list.
                let arr = col("arr")
                #expect(arr.kind == .list(element: .int32))
                #expect(arr.nulls == [false, false, true] && arr.listOffsets == [0, 3, 3])
                #expect(arr.elements[0].nulls == [false, true, false] && arr.elements[0].int64s == [1, 3])
            }
        }
    }
}
