import Foundation
import PGClient
import PGOutput
import Replication
import Testing

@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG")), .serialized)
struct ChangeStreamIntegrationTests {
    static let columns = """
        id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric(12,2), nw numeric(30,5),
        nu numeric, tx text, vc varchar(10), bp char(3), ba bytea, u uuid, j json, jb jsonb, d date, tm time,
        ts timestamp, tz timestamptz, iv interval, ttz timetz
        """
    static let rows = """
        (1, true, -32768, -2147483648, -9223372036854775808, 1.5, -2.25, -1234567890.12, 1234567890123456789012345.12345,
         '-0.000012300', 'héllo', 'abc', 'x', '\\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}',
         '{"b": null, "a": 1}', '1999-12-31', '23:59:59.999999', '2024-02-29 12:34:56.789', '1970-01-01 00:00:00+00',
         '1 year 2 mons 3 days 04:05:06.5', '10:11:12.5+05:30'),
        (2, false, 32767, 2147483647, 9223372036854775807, 'NaN', '-Infinity', 0, 0, 'NaN', '', '', '', '\\x',
         '00000000-0000-0000-0000-000000000000', 'null', '[]', 'infinity', '00:00:00', '-infinity',
         '2000-01-01 00:00:00.000001+00', '-1 days -00:00:01', '00:00:00-08'),
        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL)
        """

    /// Values large out of large messages as they are read (LargeValueSplicer, taken over by the
    /// segment) decode exactly as values read with their whole message: inserts, an update whose
    /// change (REPLICA IDENTITY FULL: every column is in the key, so a delete of the full old row and an insert whose unchanged TOAST is filled from it), a key change, a delete; text, bytea, jsonb,
    /// json, varchar and an array (decoded the usual way); binary and text mode.
    @Test(arguments: [true, false])
    func liftedLargeValuesEqualValuesReadWithTheirMessage(binary: Bool) async throws {
        try await withPostgres(binary ? "lift_bin" : "lift_txt") { db in
            try await DedicatedThread.run(name: "test") {
                try db.execute(
                    """
                    CREATE TABLE big (id int PRIMARY KEY, t text, b bytea, j jsonb, js json, a int[], v varchar, n int);
                    ALTER TABLE big REPLICA IDENTITY FULL;
                    CREATE PUBLICATION p FOR TABLE big
                    """)
                let slots = try db.connectReplication()
                let start = try #require(LSN(try slots.createLogicalSlot("s_whole", exportSnapshot: false).consistentPoint))
                _ = try slots.createLogicalSlot("s_lift", exportSnapshot: false)
                _ = try slots.createLogicalSlot("s_file", exportSnapshot: false)
                try db.execute(
                    """
                    INSERT INTO big SELECT g, repeat(md5(g::text) || 'é', 120), decode(repeat(md5(g::text), 60), 'hex'),
                        jsonb_build_object('k', repeat(md5(g::text), 90), 'g', g), json_build_object('s', repeat('ü', 900)),
                        (SELECT array_agg(x * g) FROM generate_series(1, 900) x), repeat('v', 700 + g), g
                      FROM generate_series(1, 5) g;
                    INSERT INTO big (id, t, n) VALUES (6, 'small', 6);
                    UPDATE big SET n = 100 WHERE id = 1;
                    UPDATE big SET id = 20, t = t || 'x' WHERE id = 2;
                    DELETE FROM big WHERE id = 3
                    """)
                let c = try db.connect()
                var largeValueCounts: [Int] = []
                let largeValueDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("lift-\(UUID().uuidString)").path
                try FileManager.default.createDirectory(atPath: largeValueDirectory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: largeValueDirectory) }
                func drain(_ slot: String, lift: Bool, toFiles: Bool = false) throws -> ChangeSegment {
                    let stream = try ChangeStream(conninfo: db.conninfo, confirmed: start)
                    if lift { stream.spliceMessageBytes = 1024; stream.largeValueBytes = 512 }
                    if toFiles { stream.largeValueDirectory = largeValueDirectory }
                    let target = try stream.currentWalPosition()
                    try stream.start(slot: slot, publication: "p", from: start, binary: binary)
                    var accumulator = ChangeAccumulator(globalStart: start, textDecoder: TextValueParser.append)
                    try stream.drain(until: target, into: &accumulator, resolver: TypeResolver(connection: c), deadline: .now + .seconds(30))
                    try stream.finish()
                    largeValueCounts.append(stream.largeValueCount)
                    return try #require(accumulator.takeSegments().first)
                }
                let whole = try drain("s_whole", lift: false)
                let large = try drain("s_lift", lift: true)
                var fileCells: [[String]] = []
                var streamedCount = 0, filesWhileHeld = 0
                // REPLICA IDENTITY FULL with a primary key: an update that keeps the key is a U, one that changes it D + I.
                #expect(String(decoding: large.ops, as: UTF8.self) == "IIIIIIUDID")
                #expect(large.ops == whole.ops)
                #expect(largeValueCounts[0] == 0 && largeValueCounts[1] > 20, "\(largeValueCounts)")
                // Written to files, the large values of byte kinds are large values (read from the
                // file when the row is written; a NULL in their place), the others decoded; every cell
                // equals the one read whole.
                func cells(_ segment: ChangeSegment) throws -> [[String]] {
                    var streamed: [String: String] = [:]
                    for value in segment.values.largeValueStreams {
                        var bytes: [UInt8] = []
                        try value.produce { bytes.append(contentsOf: $0) }
                        streamed["\(value.row),\(value.column)"] = "\(bytes.count):\(bytes.reduce(0) { ($0 &* 31) &+ Int($1) })"
                    }
                    return segment.values.columns.enumerated().map { k, column in
                        var next = 0, numbers = 0
                        return (0..<column.count).map { row in
                            if let s = streamed["\(row),\(k)"] { return s }
                            if column.nulls[row] { return "NULL" }
                            if column.kind.isByteLike {
                                defer { next += 1 }
                                let bytes = Array(column.byteValue(next))
                                return "\(bytes.count):\(bytes.reduce(0) { ($0 &* 31) &+ Int($1) })"
                            }
                            if case .list = column.kind {
                                defer { numbers += 1 }; return "list \(column.listOffsets[numbers + 1] - column.listOffsets[numbers])"
                            }
                            defer { numbers += 1 }
                            return "\(column.int64s[numbers])"
                        }
                    }
                }
                func drainToFiles() throws {
                    let fileSegment = try drain("s_file", lift: true, toFiles: true)
                    streamedCount = fileSegment.values.largeValueStreams.count
                    fileCells = try cells(fileSegment)
                    filesWhileHeld = try FileManager.default.contentsOfDirectory(atPath: largeValueDirectory).count
                }
                try drainToFiles()
                #expect(streamedCount > 10)
                #expect(try fileCells == cells(whole))
                #expect(filesWhileHeld == streamedCount)
                #expect(largeValueCounts.count == 3 && largeValueCounts[2] == largeValueCounts[1], "\(largeValueCounts)")
                // The files go with the last reference to their values.
                #expect(try FileManager.default.contentsOfDirectory(atPath: largeValueDirectory).isEmpty)
                func same(_ a: ColumnVector, _ b: ColumnVector, _ name: String) {
                    #expect(a.nulls == b.nulls, "\(name) nulls")
                    #expect(a.bytes == b.bytes && a.offsets == b.offsets, "\(name) bytes")
                    #expect(a.int64s == b.int64s && a.listOffsets == b.listOffsets, "\(name) numbers")
                    for (x, y) in zip(a.elements, b.elements) { same(x, y, name + "[]") }
                }
                for (k, name) in whole.relation.columnNames.enumerated() { same(large.values.columns[k], whole.values.columns[k], name) }
                same(large.unchangedToast, whole.unchangedToast, "_unchanged_toast")
                // The values are the source's: row 1's text after its update (filled from the old tuple).
                let t = large.values.columns[1]
                let source = try c.query("SELECT t FROM big WHERE id = 1").rows[0][0]!
                #expect(String(decoding: t.byteValue(6), as: UTF8.self) == source)  // the U after six inserts
            }
        }
    }

    @Test func changesAfterTheSlotArriveWithTheValuesCopyReadsAndFeedbackMovesTheSlot() async throws {
        try await withPostgres("stream") { db in
            try await DedicatedThread.run(name: "test") {
                try db.execute("CREATE TABLE t (\(Self.columns)); CREATE PUBLICATION p FOR TABLE t")
                let slotConnection = try db.connectReplication()
                let slot = try slotConnection.createLogicalSlot("s", exportSnapshot: false)
                let start = try #require(LSN(slot.consistentPoint))

                try db.execute("INSERT INTO t VALUES \(Self.rows)")
                try db.execute("UPDATE t SET tx = 'changed' WHERE id = 1; UPDATE t SET id = 10 WHERE id = 2; DELETE FROM t WHERE id = 3; TRUNCATE t")

                // What binary COPY reads for the same rows is the reference for every value.
                try db.execute("CREATE TABLE ref (\(Self.columns)); INSERT INTO ref VALUES \(Self.rows)")
                let c = try db.connect()
                try c.query("BEGIN ISOLATION LEVEL REPEATABLE READ")
                var refTable = try #require(try Catalog.publicationTables("p", on: c).first)
                refTable.name = "ref"
                var reference: ColumnBatch?
                try SnapshotReader(connection: c).read(refTable) { reference = $0 }
                try c.query("COMMIT")

                let stream = try ChangeStream(conninfo: db.conninfo, confirmed: start)
                let target = try stream.currentWalPosition()
                try stream.start(slot: "s", publication: "p", from: start, binary: true)
                var accumulator = ChangeAccumulator(globalStart: start) { _, _ in Issue.record("text value in binary mode") }
                try stream.drain(
                    until: target, into: &accumulator, resolver: TypeResolver(connection: c),
                    deadline: .now + .seconds(30))
                let segments = accumulator.takeSegments()
                #expect(segments.count == 1)
                let segment = try #require(segments.first)
                #expect(String(decoding: segment.ops, as: UTF8.self) == "IIIUDIDT")
                #expect(segment.inserts == 4 && segment.updates == 1 && segment.deletes == 2 && segment.truncates == 1)
                #expect(segment.relation.keyColumns == [0] && segment.relation.hasPrimaryKey)

                // The three inserted rows decode exactly as COPY decodes them.
                let ref = try #require(reference)
                for (i, column) in segment.values.columns.enumerated() {
                    let expected = ref.columns[i]
                    var firstThree = ColumnVector(kind: column.kind)
                    firstThree.nulls = Array(column.nulls.prefix(3))
                    #expect(firstThree.nulls == expected.nulls, "column \(segment.relation.columnNames[i]) nulls")
                    #expect(Array(column.int64s.prefix(expected.int64s.count)) == expected.int64s, "column \(segment.relation.columnNames[i])")
                    #expect(Array(column.int128s.prefix(expected.int128s.count)) == expected.int128s)
                    #expect(Array(column.float64s.prefix(expected.float64s.count)) == expected.float64s)
                    #expect(Array(column.float32s.prefix(expected.float32s.count)).map(\.bitPattern) == expected.float32s.map(\.bitPattern))
                    #expect(Array(column.bytes.prefix(expected.bytes.count)) == expected.bytes, "column \(segment.relation.columnNames[i]) bytes")
                }
                // The update of the key is a delete of the old key and an insert of the new row.
                #expect(segment.values.columns[0].int64s.suffix(3) == [2, 10, 3])

                // Feedback after "storing" moves confirmed_flush_lsn to the last commit.
                try stream.confirm(accumulator.lastCommitEnd)
                try stream.finish()
                let moved = try db.connect().query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 's'")
                let confirmed = try #require(moved.rows.first?[0].flatMap { LSN($0) })
                #expect(confirmed == accumulator.lastCommitEnd)
                #expect(confirmed > start)
            }
        }
    }
}
