import PGClient
import Replication
import Testing

/// The settings the walsender session runs with, so that text output has one form.
private let textOutputSettings = """
    SET datestyle = ISO, YMD; SET intervalstyle = iso_8601; SET timezone = UTC;
    SET extra_float_digits = 3; SET bytea_output = hex
    """

/// Reads `table` twice on one connection: (a) binary COPY through ``SnapshotReader``, (b) a simple
/// text-format query, whose values are each type's output function as pgoutput sends them in text
/// mode, parsed by ``TextValueParser``. Rows of (b) are put in (a)'s order by the `id` column.
private func readBothWays(_ table: TableDescription, on c: PGConnection) throws -> (binary: ColumnBatch, text: ColumnBatch) {
    var binary = ColumnBatch(kinds: table.columns.map(ColumnKind.init))
    try SnapshotReader(connection: c, batchRows: 1 << 30).read(table) { batch in binary = batch }
    let list = table.columns.map { PGConnection.quoteIdentifier($0.name) }.joined(separator: ", ")
    let result = try c.query("SELECT \(list) FROM \(table.qualifiedName)")
    let idIndex = try #require(table.columns.firstIndex { $0.name == "id" })
    var rowsByID: [String: [String?]] = [:]
    for row in result.rows { rowsByID[try #require(row[idIndex])] = row }
    var text = ColumnBatch(kinds: table.columns.map(ColumnKind.init))
    for id in binary.columns[idIndex].int64s {
        let row = try #require(rowsByID[String(id)])
        for (column, value) in row.enumerated() {
            guard var value else { text.columns[column].appendNull(); continue }
            try value.withUTF8 { utf8 throws in
                try TextValueParser.append(UnsafeRawBufferPointer(utf8), to: &text.columns[column])
            }
        }
    }
    return (binary, text)
}

/// Reads the fixture's only published table both ways, on one connection with the walsender's settings.
private func readPublishedTable(_ db: PostgresFixture) throws -> (TableDescription, ColumnBatch, ColumnBatch) {
    let c = try db.connect()
    try c.query(textOutputSettings)
    let table = try #require(try Catalog.publicationTables("p", on: c).first)
    let (binary, text) = try readBothWays(table, on: c)
    return (table, binary, text)
}

/// The i-th row's value of a vector, for messages.
private func describe(_ v: ColumnVector, row: Int) -> String {
    guard row < v.count else { return "missing row" }
    guard !v.nulls[row] else { return "NULL" }
    let slot = v.nulls[..<row].lazy.filter { !$0 }.count
    func at<T>(_ values: [T]) -> String { slot < values.count ? "\(values[slot])" : "missing value" }
    switch v.kind {
    case .float32: return slot < v.float32s.count ? "\(v.float32s[slot]) (0x\(String(v.float32s[slot].bitPattern, radix: 16)))" : "missing value"
    case .float64: return slot < v.float64s.count ? "\(v.float64s[slot]) (0x\(String(v.float64s[slot].bitPattern, radix: 16)))" : "missing value"
    case .decimal(let precision, _) where precision > 18: return at(v.int128s)
    case let kind where kind.isByteLike:
        guard slot + 1 < v.offsets.count else { return "missing value" }
        let bytes = v.byteValue(slot)
        return "\(String(reflecting: String(decoding: bytes, as: UTF8.self))) \(Array(bytes))"
    default: return at(v.int64s)
    }
}

/// Whether two vectors hold the same rows: floats by bit pattern, except that any NaN equals any NaN
/// (PostgreSQL prints every NaN as `NaN`, while binary keeps the payload and sign the CPU made).
private func sameValues(_ a: ColumnVector, _ b: ColumnVector) -> Bool {
    func sameFloat32(_ x: Float, _ y: Float) -> Bool { x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }
    func sameFloat64(_ x: Double, _ y: Double) -> Bool { x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }
    return a.kind == b.kind && a.nulls == b.nulls && a.int64s == b.int64s && a.int128s == b.int128s
        && a.bytes == b.bytes && a.offsets == b.offsets
        && a.float32s.count == b.float32s.count && zip(a.float32s, b.float32s).allSatisfy(sameFloat32)
        && a.float64s.count == b.float64s.count && zip(a.float64s, b.float64s).allSatisfy(sameFloat64)
        && a.listOffsets == b.listOffsets && a.elements.count == b.elements.count
        && zip(a.elements, b.elements).allSatisfy { sameValues($0, $1) }
}

/// Records one issue per differing column, naming the first differing row and both values.
private func expectSame(
    _ binary: ColumnBatch, _ text: ColumnBatch, _ table: TableDescription,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for (i, column) in table.columns.enumerated() {
        let a = binary.columns[i], b = text.columns[i]
        guard !sameValues(a, b) else { continue }
        let row = (0..<min(a.count, b.count)).first { describe(a, row: $0) != describe(b, row: $0) } ?? min(a.count, b.count)
        let shown =
            row < min(a.count, b.count)
            ? "row \(row): binary \(describe(a, row: row)), text \(describe(b, row: row))"
            : "row counts \(a.count) and \(b.count)"
        Issue.record("column \(column.name) (\(a.kind)) differs at \(shown)", sourceLocation: sourceLocation)
    }
}

@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG")), .serialized)
struct TextValueParserIntegrationTests {
    /// One column of every kind; generated rows sweep each type's range, hand-picked rows hit its edges.
    static let schema = """
        CREATE TYPE mood AS ENUM ('sad', 'happy', 'ünïcode');
        CREATE TABLE t (id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
          n numeric(12,2), nw numeric(38,6), nneg numeric(5,-2), nbig numeric(60,10), nu numeric,
          tx text, vc varchar(20), bp char(5), nm name, e mood, j json, jb jsonb, ba bytea, u uuid,
          d date, tm time, ts timestamp, tz timestamptz, iv interval, ttz timetz,
          arr int[], rng int4range, mo money, pt point, mac macaddr, tsr tstzrange);
        CREATE PUBLICATION p FOR TABLE t;
        """

    static let generatedRows = """
        INSERT INTO t SELECT g,
          CASE WHEN g % 17 = 0 THEN NULL ELSE g % 2 = 0 END,
          ((g * 7919) % 65536 - 32768)::int2,
          ((g::int8 * 2654435761) % 4294967296 - 2147483648)::int4,
          (g::numeric * 9007199254740993 * 1021 % 18446744073709551616 - 9223372036854775808)::int8,
          CASE g % 3 WHEN 0 THEN (sin(g) * 10 ^ (g % 70 - 35))::float4 WHEN 1 THEN (g / 7.0)::float4 ELSE (-g * 1.1)::float4 END,
          CASE g % 3 WHEN 0 THEN sin(g) * 10 ^ (g % 601 - 300) WHEN 1 THEN g / 7.0::float8 ELSE -g * 1.1::float8 END,
          round(((g * 12345.678901) % 1e10)::numeric * (1 - 2 * (g % 2)), 2),
          round((g::numeric ^ 7 / 3) * (1 - 2 * (g % 2)), 6),
          (g * 3217) % 99999 * 100,
          round(g::numeric ^ 13 / 7, 10) * (1 - 2 * (g % 2)),
          CASE g % 4 WHEN 0 THEN g::numeric / 7 WHEN 1 THEN round(g::numeric ^ 9 / 13, g % 20) WHEN 2 THEN -g::numeric * 1e-20
            ELSE (g::numeric ^ 5)::numeric(40, 0) * 1e10 END,
          'row ' || g || repeat('é', g % 5) || CASE WHEN g % 7 = 0 THEN E'\\t\\\\x\\n' ELSE '' END,
          substr(md5(g::text), 1, g % 21),
          substr(md5(g::text), 1, g % 6),
          'n' || g,
          (ARRAY['sad', 'happy', 'ünïcode'])[g % 3 + 1]::mood,
          json_build_object('g', g, 'a', ARRAY[g, g + 1], 's', 'x' || g, 'f', g / 3.0),
          jsonb_build_object('g', g, 'nested', jsonb_build_object('deep', ARRAY[g::text, 'é']), 'f', g * 1.50, 'z', NULL),
          CASE WHEN g % 11 = 0 THEN '\\x'::bytea ELSE decode(repeat(md5(g::text), g % 4 + 1), 'hex') END,
          md5(g::text)::uuid,
          CASE g % 2 WHEN 0 THEN date '2000-01-01' + ((g * 997) % 1000000 - 500000)
            ELSE date '4714-11-24 BC' + ((g::int8 * 1234567) % 2147483000)::int END,
          time '00:00' + make_interval(secs => ((g::int8 * 2880000133) % 86400000000) / 1e6),
          timestamp '4714-11-24 00:00:00 BC' + make_interval(days => (g * 36887) % 108000000,
            secs => ((g::int8 * 2880000133) % 86400000000) / 1e6),
          timestamptz '4714-11-24 00:00:00+00 BC' + make_interval(days => (g * 36889) % 108000000,
            secs => ((g::int8 * 2880000199) % 86400000000) / 1e6),
          make_interval(g % 50 - 25, g % 23 - 11, 0, g % 61 - 30, g % 49 - 24, g % 119 - 59,
            ((g::int8 * 7919) % 120000000 - 60000000) / 1e6) * CASE WHEN g % 5 = 0 THEN -1 ELSE 1 END,
          ((time '00:00' + make_interval(secs => ((g::int8 * 2880000133) % 86400000000) / 1e6))::text
            || (ARRAY['+00', '-08', '+05:30', '+05:30:15', '-15:59:59', '+14', '-03:30', '+00:00:01'])[g % 8 + 1])::timetz,
          ARRAY[g, NULL, -g],
          int4range(g, g * 2 + 1),
          (g * 1.37)::numeric::money,
          point(g / 3.0, -g),
          ('08:00:2b:01:02:' || lpad(to_hex(g % 256), 2, '0'))::macaddr,
          tstzrange(timestamptz '2000-01-01 00:00:00+00' + make_interval(secs => g), NULL)
        FROM generate_series(1, 3000) g;
        """

    static let edgeRows = #"""
        INSERT INTO t VALUES
          (100001, true, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', 'NaN', 'NaN', 0, 'NaN', 'NaN',
           '', '', '', '', 'sad', 'null', '[]', '\x', '00000000-0000-0000-0000-000000000000',
           'infinity', '00:00:00', 'infinity', 'infinity', '0', '00:00:00+00', '{}', 'empty', 0, '(0,0)', '00:00:00:00:00:00', 'empty'),
          (100002, false, 32767, 2147483647, 9223372036854775807, 'Infinity', 'Infinity', 9999999999.99,
           9999999999999999999999999999.999999, 9999900, 99999999999999999999999999999999999999999999999999.9999999999,
           'Infinity', E'tab\there\\back\nline "q" \'s\'', 'x', 'abcde', repeat('n', 63), 'happy',
           '{"a": [1, 2.50, "\u00e9"], "b": {}}', '{"b": null, "a": 1, "c": [true, false], "d": 1.500}',
           '\x00ff10800a', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
           '-infinity', '24:00:00', '-infinity', '-infinity', '-178000000 years', '24:00:00-15:59:59',
           '{1,2,NULL,4}', '[,)', -92233720368547758.08, '(-1e+300,1e-300)', 'ff:ff:ff:ff:ff:ff', '(,)'),
          (100003, NULL, -1, -1, -1, '-Infinity', '-Infinity', -9999999999.99,
           -9999999999999999999999999999.999999, -9999900, -99999999999999999999999999999999999999999999999999.9999999999,
           '-Infinity', 'ünïcødé ✓ 𝄞', 'é', 'é', 'é', 'ünïcode', '"just a string"', '"é\"x\\y"',
           '\x5c78', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
           '4714-11-24 BC', '23:59:59.999999', '4714-11-24 00:00:00 BC', '4714-11-24 00:00:00+00 BC',
           '178000000 years', '23:59:59.999999+15:59:59', '{NULL}', '[1,2]', 92233720368547758.07, '(1.5,-2.5)',
           '08:00:2b:01:02:03', '["2000-01-01 00:00:00+00","2000-01-02 00:00:00+00")'),
          (100004, true, 0, 0, 0, '-0', '-0', 0, 0, 0, 0, 0,
           'x', 'y', 'z', 'w', 'sad', '1', '1e400', '\x00', '12345678-1234-5678-1234-567812345678',
           '0001-01-01', '12:00:00.5', '0001-01-01 00:00:00', '0001-12-31 23:59:59.999999+00 BC',
           '-2562047788 hours -54.775808 seconds', '12:00:00.000001+05:30:15', '{-2147483648}', '[-2147483648,2147483647)', -0.01,
           '(-0,0)', '01:02:03:04:05:06', 'empty'),
          (100005, false, 1, 1, 1, '1.4e-45', '5e-324', 0.01, 0.000001, 100, 0.0000000001, '-0.000000000000000000000000000001',
           'x', 'y', 'z', 'w', 'sad', '{}', '{"é": "\u00e9\ud834\udd1e"}', '\xdeadbeef', 'deadbeef-dead-beef-dead-beefdeadbeef',
           '5874897-12-31', '00:00:00.000001', '294246-12-31 23:59:59.999999', '294246-12-31 23:59:59.999999+00',
           '2147483647 months 2147483647 days 2562047788 hours 54.775807 seconds', '00:00:00-00:00:01', '{}', '[0,1)', 0.01,
           '(1,1)', '00:00:00:00:00:01', 'empty'),
          (100006, true, 2, 2, 2, '3.4028235e+38', '1.7976931348623157e+308', -0.01, -0.000001, -100, -0.0000000001,
           '123456789012345678901234567890123456789012345678901234567890.123456789012345678901234567890',
           'x', 'y', 'z', 'w', 'sad', '[1, 2]', '[1, "a", null, {"k": [[]]}]', '\x', '00000000-0000-0000-0000-000000000001',
           '10000-01-01', '00:00:01', '10000-01-01 00:00:00', '10000-01-01 00:00:00+14',
           '-2147483648 months -2147483648 days -2562047788 hours -54.775808 seconds', '00:00:00+14', '{}', '[0,1)', 0,
           '(1,1)', '00:00:00:00:00:02', 'empty'),
          (100007, false, 3, 3, 3, '1.1754944e-38', '2.2250738585072014e-308', 0.10, 0.5, 12300, 0.5, '0.00',
           'x', 'y', 'z', 'w', 'sad', '0', '-0.0', '\x', '00000000-0000-0000-0000-000000000002',
           '2000-02-29', '12:34:56.789', '2024-02-29 12:34:56.789012', '1969-12-31 23:59:59.999999-00:00:01',
           '1 year 2 mons 3 days 04:05:06.5', '10:11:12.5+05:30', '{}', '[0,1)', 0, '(1,1)', '00:00:00:00:00:03', 'empty'),
          (100008, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        INSERT INTO t (id, f4, f8) VALUES
          (100009, ('Infinity'::float4 - 'Infinity'::float4), ('Infinity'::float8 - 'Infinity'::float8)),
          (100010, 0.1::float4, 0.1::float8), (100011, 1e-40, 1e-310), (100012, 16777217, 9007199254740993);
        """#

    @Test func everyKindParsesFromTextToWhatBinaryDecodes() async throws {
        try await withPostgres("textvalue") { db in
            let (table, binary, text) = try await DedicatedThread.run(name: "test") {
                try db.execute(Self.schema)
                try db.execute(Self.generatedRows)
                try db.execute(Self.edgeRows)
                return try readPublishedTable(db)
            }
            let kinds = Set(table.columns.map(ColumnKind.init))
            #expect(kinds.count == 23)  // every ColumnKind, decimal in three shapes, LIST<int32>
            #expect(binary.rowCount == 3012 && text.rowCount == 3012)
            expectSame(binary, text, table)
        }
    }

    @Test func intervalAndTimetzTextMatchPostgresForManyValues() async throws {
        try await withPostgres("textvalue_iv") { db in
            let (table, binary, text) = try await DedicatedThread.run(name: "test") {
                try db.execute(
                    """
                    CREATE TABLE t (id int PRIMARY KEY, iv interval, ttz timetz);
                    CREATE PUBLICATION p FOR TABLE t;
                    INSERT INTO t SELECT g,
                      make_interval(((g * 37) % 401 - 200), ((g * 11) % 51 - 25), 0, ((g * 13) % 121 - 60),
                        ((g * 7) % 97 - 48), ((g * 5) % 241 - 120), ((g::int8 * 1000003) % 7200000000 - 3600000000) / 1e6)
                        * CASE WHEN g % 3 = 0 THEN 1 ELSE -1 END,
                      (time '00:00' + make_interval(secs => ((g::int8 * 1234567891) % 86400000001) / 1e6))::timetz
                    FROM generate_series(1, 5000) g;
                    UPDATE t SET ttz = (ttz::time::text || CASE WHEN id % 2 = 0 THEN '+' ELSE '-' END
                      || lpad(((id * 7) % 16)::text, 2, '0') || ':' || lpad(((id * 11) % 60)::text, 2, '0')
                      || ':' || lpad(((id * 13) % 60)::text, 2, '0'))::timetz;
                    INSERT INTO t SELECT 10000 + g, make_interval(secs => g / 1e6) * (1 - 2 * (g % 2)),
                      ('24:00:00+' || lpad((g % 16)::text, 2, '0'))::timetz FROM generate_series(1, 100) g;
                    INSERT INTO t SELECT 20000 + g, make_interval(mins => g) - make_interval(secs => g), NULL FROM generate_series(1, 100) g;
                    """)
                return try readPublishedTable(db)
            }
            #expect(binary.rowCount == 5200)
            expectSame(binary, text, table)
        }
    }

    /// `numeric(38,6)` values with 32 integer digits fit DECIMAL(38,6): both the text parser and
    /// the binary decoder (which skips the base-10000 groups' padding digits) read them.
    @Test func decimalAtItsPrecisionLimitParsesFromText() async throws {
        try await withPostgres("textvalue_dec") { db in
            let (binaryError, text) = try await DedicatedThread.run(name: "test") {
                try db.execute(
                    """
                    CREATE TABLE t (id int PRIMARY KEY, nw numeric(38,6));
                    CREATE PUBLICATION p FOR TABLE t;
                    INSERT INTO t VALUES (1, 99999999999999999999999999999999.999999), (2, -12345678901234567890123456789012.5);
                    """)
                let c = try db.connect()
                try c.query(textOutputSettings)
                let table = try #require(try Catalog.publicationTables("p", on: c).first)
                var binaryError: String?
                do { try SnapshotReader(connection: c).read(table) { _ in } } catch { binaryError = "\(error)" }
                var text = ColumnVector(kind: ColumnKind(table.columns[1]))
                for row in try c.query("SELECT nw FROM t ORDER BY id").rows {
                    var value = try #require(row[0])
                    try value.withUTF8 { utf8 throws in try TextValueParser.append(UnsafeRawBufferPointer(utf8), to: &text) }
                }
                return (binaryError, text)
            }
            #expect(text.int128s == [99_999_999_999_999_999_999_999_999_999_999_999_999, -12_345_678_901_234_567_890_123_456_789_012_500_000])
            #expect(binaryError == nil)
        }
    }

    /// PostgreSQL's timestamps go on to 294276-12-31, but from 294247-01-10 04:00:54.775807 on they
    /// do not fit an Int64 of microseconds since 1970 (that very instant would be the +infinity
    /// sentinel). Both paths write them as NULL and keep their text for the file's
    /// `replicatord.out_of_range` metadata; nothing stops.
    @Test func timestampsBeyondUnixMicrosecondsAreKeptAsTextInBothPaths() async throws {
        try await withPostgres("textvalue_far") { db in
            let (batches, texts) = try await DedicatedThread.run(name: "test") { () throws -> ([ColumnBatch], [[String]]) in
                try db.execute(
                    """
                    CREATE TABLE t (id int PRIMARY KEY, ts timestamp, tz timestamptz);
                    CREATE PUBLICATION p FOR TABLE t;
                    INSERT INTO t VALUES (1, '294247-01-10 04:00:54.775806', '294247-01-10 04:00:54.775806+00'),
                      (2, '294247-01-10 04:00:54.775807', '294247-01-10 04:00:54.775807+00'),
                      (3, '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00');
                    """)
                let c = try db.connect()
                try c.query(textOutputSettings)
                let table = try #require(try Catalog.publicationTables("p", on: c).first)
                var batches: [ColumnBatch] = []
                _ = try SnapshotReader(connection: c).read(table) { batches.append($0) }
                let texts = try c.query("SELECT ts, tz FROM t ORDER BY id").rows.map { $0.map { $0 ?? "" } }
                return (batches, texts)
            }
            var binary = ColumnBatch(kinds: [.int32, .timestamp, .timestamptz])
            for b in batches { for c in 0..<3 { binary.columns[c].append(contentsOf: b.columns[c]) } }
            for (column, kind) in [ColumnKind.timestamp, .timestamptz].enumerated() {
                // Binary (the snapshot's COPY): row 0 fits, rows 1 and 2 are NULL with PostgreSQL's text.
                let fromBinary = binary.columns[column + 1]
                #expect(fromBinary.nulls == [false, true, true] && fromBinary.int64s == [Int64.max - 1])
                #expect(fromBinary.outOfRange == [OutOfRangeValue(row: 1, text: texts[1][column]), OutOfRangeValue(row: 2, text: texts[2][column])])
                // Text (pgoutput's text mode): the same.
                var vector = ColumnVector(kind: kind)
                for row in 0..<3 {
                    var text = texts[row][column]
                    try text.withUTF8 { utf8 throws in try TextValueParser.append(UnsafeRawBufferPointer(utf8), to: &vector) }
                }
                #expect(vector.nulls == fromBinary.nulls && vector.int64s == fromBinary.int64s && vector.outOfRange == fromBinary.outOfRange)
            }
        }
    }

    /// `inet`/`cidr` and `"char"` are read through their output function in both paths (the
    /// snapshot COPY uses `format('%s', x)`, which `::text` is not for these types), so the
    /// snapshot and text-mode pgoutput agree: `10.0.0.1`, not `10.0.0.1/32`; `\200`, not a raw byte.
    @Test func inetAndCharReadThroughTheirOutputFunctionInBothPaths() async throws {
        try await withPostgres("textvalue_known") { db in
            let (table, binary, text) = try await DedicatedThread.run(name: "test") {
                try db.execute(
                    #"""
                    CREATE TABLE t (id int PRIMARY KEY, ip inet, c "char");
                    CREATE PUBLICATION p FOR TABLE t;
                    INSERT INTO t VALUES (1, '10.0.0.0/8', 'a'), (2, '10.0.0.1', ''), (3, '::1', '\200');
                    """#)
                return try readPublishedTable(db)
            }
            expectSame(binary, text, table)
            #expect(Array(binary.columns[1].byteValue(1)) == Array("10.0.0.1".utf8))
            #expect(Array(binary.columns[2].byteValue(1)) == [] && Array(binary.columns[2].byteValue(2)) == Array(#"\200"#.utf8))
        }
    }
}
