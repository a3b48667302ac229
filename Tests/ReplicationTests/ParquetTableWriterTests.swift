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
            ParquetTableWriter.Column(name: "amounts", kind: .list(element: .decimal(precision: 10, scale: 2)), nullable: true, attnum: 5,
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
        #expect(contains(sink.bytes, #"[{"name":"amount","attnum":2,"type":"numeric(10,2)"},{"name":"amounts","attnum":5,"type":"numeric(10,2)[]","missing":"{}"}]"#))
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
        #expect(!contains(sink.bytes, ParquetTableWriter.columnsMetadataKey))   // attnums unknown: no column list
    }
}
