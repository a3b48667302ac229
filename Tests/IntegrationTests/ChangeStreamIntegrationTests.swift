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

    @Test func changesAfterTheSlotArriveWithTheValuesCopyReadsAndFeedbackMovesTheSlot() async throws {
        let db = try PostgresFixture("stream")
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
            try stream.drain(until: target, into: &accumulator, resolver: TypeResolver(connection: c),
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
