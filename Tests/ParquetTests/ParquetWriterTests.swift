import Foundation
import Testing
@testable import Parquet

@Suite struct ParquetWriterTests {
    static let mixedSchema = ParquetSchema([
        ParquetColumn(name: "id", type: .int64, nullable: false),
        ParquetColumn(name: "n", type: .int64),
        ParquetColumn(name: "s", type: .string),
        ParquetColumn(name: "amount", type: .decimal(precision: 12, scale: 2)),
        .list(name: "xs", element: .int32),
    ])

    static func writeMixed(rows: Int, options: ParquetWriterOptions = .init()) throws -> (ParquetMemorySink, ParquetWriteSummary) {
        let sink = ParquetMemorySink()
        let writer = try ParquetWriter(schema: mixedSchema, sink: sink, options: options)
        for i in 0..<rows {
            writer.appendInt64(Int64(i), column: 0)
            if i % 3 == 0 { writer.appendNull(column: 1) } else { writer.appendInt64(Int64(i * 7), column: 1) }
            writer.appendString("row \(i % 10)", column: 2)
            writer.appendDecimal(unscaled: Int64(i) * 101 - 5000, column: 3)
            if i % 5 == 0 {
                writer.appendNull(column: 4)
            } else {
                writer.beginList(column: 4)
                for k in 0..<(i % 4) { writer.appendInt32(Int32(k), column: 4) }
                if i % 7 == 0 { writer.appendNull(column: 4) }
                writer.endList(column: 4)
            }
            try writer.endRow()
        }
        return (sink, try writer.close())
    }

    @Test func fileStartsAndEndsWithMagicAndFooterLength() throws {
        let (sink, summary) = try Self.writeMixed(rows: 100)
        let b = sink.bytes
        #expect(Array(b.prefix(4)) == Array("PAR1".utf8))
        #expect(Array(b.suffix(4)) == Array("PAR1".utf8))
        let footerLength = Int(b[b.count - 8]) | Int(b[b.count - 7]) << 8 | Int(b[b.count - 6]) << 16 | Int(b[b.count - 5]) << 24
        #expect(footerLength > 0 && footerLength < b.count - 12)
        #expect(summary.bytesWritten == Int64(b.count))
        #expect(summary.rows == 100)
        #expect(summary.rowGroups == 1)
    }

    @Test func emptyFileHasNoRowGroups() throws {
        let sink = ParquetMemorySink()
        let writer = try ParquetWriter(schema: Self.mixedSchema, sink: sink)
        let summary = try writer.close()
        #expect(summary.rows == 0 && summary.rowGroups == 0)
        #expect(summary.bytesWritten == Int64(sink.bytes.count))
    }

    @Test func rowGroupsAreCutByRowLimit() throws {
        var options = ParquetWriterOptions()
        options.rowGroupRowLimit = 1
        let (_, summary) = try Self.writeMixed(rows: 5, options: options)
        #expect(summary.rowGroups == 5)
    }

    @Test func rowGroupsAreCutByByteLimit() throws {
        var options = ParquetWriterOptions()
        options.rowGroupByteLimit = 1000
        options.dataPageSize = 200
        let (_, summary) = try Self.writeMixed(rows: 5000, options: options)
        #expect(summary.rowGroups > 1)
    }

    @Test func endRowThrowsWhenAColumnIsMissing() throws {
        let writer = try ParquetWriter(schema: Self.mixedSchema, sink: ParquetMemorySink())
        writer.appendInt64(1, column: 0)
        #expect(throws: ParquetError.self) { try writer.endRow() }
    }

    @Test func closeThrowsWhenARowIsUnfinished() throws {
        let writer = try ParquetWriter(schema: Self.mixedSchema, sink: ParquetMemorySink())
        writer.appendInt64(1, column: 0)
        #expect(throws: ParquetError.self) { try writer.close() }
    }

    @Test func initRejectsDuplicateColumnNames() {
        let schema = ParquetSchema([ParquetColumn(name: "a", type: .int32), ParquetColumn(name: "a", type: .int64)])
        #expect(throws: ParquetError.self) { _ = try ParquetWriter(schema: schema, sink: ParquetMemorySink()) }
    }

    @Test func createdByCarriesVersion() throws {
        var options = ParquetWriterOptions()
        options.version = "1.2.3"
        let (sink, _) = try Self.writeMixed(rows: 3, options: options)
        let text = Array("replicatord version 1.2.3".utf8)
        #expect(sink.bytes.firstRange(of: text) != nil)
    }

    /// The file sink writes exactly the bytes the memory sink holds (external readers check the
    /// files' contents in the integration tests' ParquetReadersTests).
    @Test func fileSinkWritesTheSameBytesAsTheMemorySink() throws {
        let (sink, summary) = try Self.writeMixed(rows: 1000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("mixed.parquet").path
        let fileSink = try ParquetFileSink(path: path)
        try sink.bytes.withUnsafeBytes { try fileSink.write($0) }
        try fileSink.close()
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written == sink.bytes)
        #expect(Int64(written.count) == summary.bytesWritten)
    }

    /// The usage example of the module's hand-over note, kept compiling.
    @Test func usageExampleWritesFourColumns() throws {
        let schema = ParquetSchema([
            ParquetColumn(name: "n", type: .int64),  // nullable INT64
            ParquetColumn(name: "s", type: .string, nullable: false),  // STRING
            ParquetColumn(name: "amount", type: .decimal(precision: 12, scale: 2)),  // INT64-backed DECIMAL
            .list(name: "xs", element: .int32),  // LIST<INT32>
        ])
        var options = ParquetWriterOptions()
        options.codec = .zstd(level: 1)
        options.version = "0.1.0"
        let sink = ParquetMemorySink()  // or ParquetFileSink(path:), or your own ParquetSink
        let writer = try ParquetWriter(schema: schema, sink: sink, options: options)
        writer.appendNull(column: 0)
        writer.appendString("héllo", column: 1)
        writer.appendDecimal(unscaled: 12345, column: 2)  // 123.45
        writer.beginList(column: 3); writer.appendInt32(7, column: 3); writer.appendNull(column: 3); writer.endList(column: 3)
        try writer.endRow()
        let summary = try writer.close()
        #expect(summary.rows == 1 && summary.rowGroups == 1 && summary.bytesWritten == Int64(sink.bytes.count))
    }
}
