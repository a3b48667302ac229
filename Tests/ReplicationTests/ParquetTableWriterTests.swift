import Parquet
import Testing
@testable import Replication

/// The footer metadata of the files: DECIMAL NaN positions and the PostgreSQL column list.
@Suite struct ParquetTableWriterTests {
    private func parse(_ text: String, into vector: inout ColumnVector) throws {
        var text = text
        try text.withUTF8 { try TextValueParser.append(UnsafeRawBufferPointer($0), to: &vector) }
    }

    private func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard n.count <= haystack.count else { return false }
        return (0...(haystack.count - n.count)).contains { haystack[$0..<($0 + n.count)].elementsEqual(n) }
    }

    @Test func decimalNaNRowsAndListElementsAreListedInTheFooterAcrossBatches() throws {
        let columns = [
            ParquetTableWriter.Column(name: "amount", kind: .decimal(precision: 10, scale: 2), nullable: true, attnum: 2, typeName: "numeric(10,2)"),
            ParquetTableWriter.Column(
                name: "amounts", kind: .list(element: .decimal(precision: 10, scale: 2)), nullable: true, attnum: 5,
                typeName: "numeric(10,2)[]", missingValue: "{}"),
        ]
        let sink = ParquetMemorySink()
        let writer = try ParquetTableWriter(columns: columns, opColumn: false, unchangedToastColumn: false, options: ParquetFileOptions(), sink: sink)
        for _ in 0..<2 {
            var batch = ColumnBatch(kinds: columns.map(\.kind))
            try parse("1.00", into: &batch.columns[0])
            try parse("NaN", into: &batch.columns[0])
            batch.columns[0].appendNull()
            for text in ["{1.00,NaN}", "{}", "{NaN}"] {
                try parse(text, into: &batch.columns[1])
            }
            try writer.append(batch, ops: nil, unchangedToast: nil)
        }
        try writer.finish()
        #expect(contains(sink.bytes, ParquetTableWriter.numericNaNMetadataKey))
        #expect(contains(sink.bytes, #"{"amount":[1,4],"amounts":[[0,1],[2,0],[3,1],[5,0]]}"#))
        #expect(
            contains(
                sink.bytes, #"[{"name":"amount","attnum":2,"type":"numeric(10,2)"},{"name":"amounts","attnum":5,"type":"numeric(10,2)[]","missing":"{}"}]"#))
    }

    @Test func aFileWithoutNaNHasNoNaNKey() throws {
        let columns = [ParquetTableWriter.Column(name: "amount", kind: .decimal(precision: 10, scale: 2), nullable: true)]
        let sink = ParquetMemorySink()
        let writer = try ParquetTableWriter(columns: columns, opColumn: false, unchangedToastColumn: false, options: ParquetFileOptions(), sink: sink)
        var batch = ColumnBatch(kinds: [columns[0].kind])
        try parse("2.50", into: &batch.columns[0])
        try writer.append(batch, ops: nil, unchangedToast: nil)
        try writer.finish()
        #expect(!contains(sink.bytes, ParquetTableWriter.numericNaNMetadataKey))
        #expect(!contains(sink.bytes, ParquetTableWriter.columnsMetadataKey))  // attnums unknown: no column list
    }

    /// The portable default writes uuid and time as PostgreSQL's text; `exactLogicalTypes` keeps
    /// the 16 bytes and the microseconds. Dimensions and out-of-range values go to their footer keys.
    @Test func uuidAndTimeAreTextUnlessExactAndShapesAndFarValuesAreListed() throws {
        let columns = [
            ParquetTableWriter.Column(name: "u", kind: .uuid, nullable: true),
            ParquetTableWriter.Column(name: "t", kind: .time, nullable: true),
            ParquetTableWriter.Column(name: "a", kind: .list(element: .int32), nullable: true),
            ParquetTableWriter.Column(name: "ts", kind: .timestamp, nullable: true),
        ]
        func write(exact: Bool) throws -> [UInt8] {
            var options = ParquetFileOptions()
            options.exactLogicalTypes = exact
            options.codec = .uncompressed
            let sink = ParquetMemorySink()
            let writer = try ParquetTableWriter(columns: columns, opColumn: false, unchangedToastColumn: false, options: options, sink: sink)
            var batch = ColumnBatch(kinds: columns.map(\.kind))
            for (u, t, a, ts) in [
                ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "24:00:00", "{{1,2},{3,4}}", "2024-01-01 00:00:00"),
                ("00000000-0000-0000-0000-0000000000ff", "13:45:00.05", "[0:1]={5,6}", "294276-12-31 23:59:59.999999"),
            ] {
                try parse(u, into: &batch.columns[0]); try parse(t, into: &batch.columns[1])
                try parse(a, into: &batch.columns[2]); try parse(ts, into: &batch.columns[3])
            }
            try writer.append(batch, ops: nil, unchangedToast: nil)
            try writer.finish()
            return sink.bytes
        }
        let portable = try write(exact: false)
        #expect(contains(portable, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") && contains(portable, "00000000-0000-0000-0000-0000000000ff"))
        #expect(contains(portable, "24:00:00") && contains(portable, "13:45:00.05") && !contains(portable, "13:45:00.050"))
        #expect(contains(portable, #"{"a":[[0,"[1:2][1:2]"],[1,"[0:1]"]]}"#))
        #expect(contains(portable, #"{"ts":[[1,"294276-12-31 23:59:59.999999"]]}"#))
        let exact = try write(exact: true)
        #expect(!contains(exact, "a0eebc99-9c0b") && !contains(exact, "24:00:00"))
    }

    /// `ParquetTimestampInMillisecond`: microseconds floored to the millisecond, before 1970 too.
    @Test func timestampMillisFloorsTowardsThePast() {
        #expect(ParquetTableWriter.millis(1_999) == 1)
        #expect(ParquetTableWriter.millis(2_000) == 2)
        #expect(ParquetTableWriter.millis(0) == 0)
        #expect(ParquetTableWriter.millis(-1) == -1)
        #expect(ParquetTableWriter.millis(-1_000) == -1)
        #expect(ParquetTableWriter.millis(-1_001) == -2)
        #expect(ParquetTableWriter.parquetType(.timestamptz, exact: false, millis: true) == .timestampMillis(adjustedToUTC: true))
        #expect(ParquetTableWriter.parquetType(.list(element: .timestamp), exact: false, millis: true) == .timestampMillis(adjustedToUTC: false))
        #expect(ParquetTableWriter.parquetType(.timestamp, exact: false) == .timestampMicros(adjustedToUTC: false))
    }

    @Test func portableTextMatchesPostgreSQLsOutput() {
        func time(_ micros: Int64) -> String {
            PortableText.withText({ PortableText.timeOfDay(micros, into: $0) }) { String(decoding: $0, as: UTF8.self) }
        }
        #expect(time(0) == "00:00:00" && time(86_400_000_000) == "24:00:00" && time(1) == "00:00:00.000001")
        #expect(time(45_296_789_000) == "12:34:56.789" && time(86_399_999_999) == "23:59:59.999999")
        let bytes: [UInt8] = (0..<16).map { UInt8($0 * 17) }
        let text = bytes.withUnsafeBytes { raw in
            PortableText.withText({ PortableText.uuid(raw, into: $0) }) { String(decoding: $0, as: UTF8.self) }
        }
        #expect(text == "00112233-4455-6677-8899-aabbccddeeff")
    }
}
