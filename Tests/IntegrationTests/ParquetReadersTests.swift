import Foundation
import AWSRequests
import ObjectStore
import Parquet
import Testing

/// pyarrow, DuckDB and polars read what `ParquetWriter` writes, value for value
/// (through `scripts/check_parquet.py`).
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PYTHON")))
struct ParquetReadersTests {
    static var script: String { TestEnvironment.repositoryRoot.appendingPathComponent("scripts/check_parquet.py").path }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("replicatord-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func check(_ mode: String, _ directory: URL) throws {
        let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        // stderr goes to a file: the report can pass a pipe's buffer while stdout is drained.
        let report = directory.appendingPathComponent("report.txt")
        _ = FileManager.default.createFile(atPath: report.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, mode, directory.path]
        let handle = try FileHandle(forWritingTo: report)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let text = (try? String(contentsOf: report, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            Issue.record("check_parquet.py \(mode) failed (files kept in \(directory.path)):\n\(text.prefix(20_000))")
            return
        }
        #expect(text.hasPrefix("ok:"))
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func readersSeeEveryValueOfGeneratedFiles() throws {
        let directory = try Self.temporaryDirectory("parquet-roundtrip")
        let columnCount = ParquetTestData.columns().count
        let codecs: [ParquetCodec] = [.zstd, .snappy, .gzip, .uncompressed, .zstd(level: 9)]
        for seed in UInt64(1)...24 {
            var r = ParquetTestData.Random(seed: seed &* 7919)
            var shape = ParquetTestData.Shape(
                rows: Int(r.pick([1, 2, 17, 300, 2_000, 6_000] as [Int64])),
                nullProbability: (0..<columnCount).map { _ in r.pick([0, 0.1, 0.5, 1.0]) })
            shape.edgeProbability = r.pick([0, 0.05, 0.3])
            shape.options.codec = codecs[Int(seed) % codecs.count]
            shape.options.dataPageVersion = seed % 2 == 0 ? .v2 : .v1
            shape.options.dictionaryEnabled = seed % 5 != 3
            shape.options.dictionaryPageSizeLimit = r.pick([64, 4096, 1 << 20])
            shape.options.dataPageSize = r.pick([100, 8192, 1 << 20])
            shape.options.rowGroupRowLimit = r.pick([1, 7, 1000, 1 << 20])
            try ParquetTestData.write(name: "seed\(seed)", in: directory, seed: seed, shape: shape)
        }
        try Self.check("roundtrip", directory)
    }

    @Test func readersSeeEdgeValues() throws {
        let directory = try Self.temporaryDirectory("parquet-edges")
        let columnCount = ParquetTestData.columns().count
        // Empty file.
        try ParquetTestData.write(
            name: "empty", in: directory, seed: 1,
            shape: .init(rows: 0, nullProbability: .init(repeating: 0, count: columnCount)))
        // Every nullable column all null.
        try ParquetTestData.write(
            name: "all-null", in: directory, seed: 2,
            shape: .init(rows: 50, nullProbability: .init(repeating: 1, count: columnCount)))
        // Extremes everywhere, one-row row groups, v1 and v2.
        for (i, version) in [ParquetWriterOptions.DataPageVersion.v1, .v2].enumerated() {
            var shape = ParquetTestData.Shape(rows: 200, nullProbability: .init(repeating: 0.1, count: columnCount))
            shape.edgeProbability = 1
            shape.options.rowGroupRowLimit = 1
            shape.options.dataPageVersion = version
            try ParquetTestData.write(name: "extremes-\(i)", in: directory, seed: 3, shape: shape)
        }
        // 1 MB strings and bytes, 10,000-element lists.
        for (i, version) in [ParquetWriterOptions.DataPageVersion.v1, .v2].enumerated() {
            var shape = ParquetTestData.Shape(rows: 6, nullProbability: .init(repeating: 0, count: columnCount))
            shape.largeRows = [1, 4]
            shape.options.dataPageVersion = version
            shape.options.dataPageSize = 64 << 10
            try ParquetTestData.write(name: "huge-\(i)", in: directory, seed: 4, shape: shape)
        }
        try Self.check("roundtrip", directory)
    }

    /// Values of 4 MiB and more go to pages of their own, compressed in pieces straight from the
    /// caller's bytes (ColumnChunkWriter.writeLargeValue): every codec and page version, with the
    /// dictionary on (given up at the large value) and off, between ordinary rows and nulls.
    @Test func readersSeeLargeValuesWrittenAsPagesOfTheirOwn() throws {
        let directory = try Self.temporaryDirectory("parquet-huge-pages")
        let columnCount = ParquetTestData.columns().count
        let codecs: [ParquetCodec] = [.zstd, .gzip, .uncompressed, .snappy]
        for (ci, codec) in codecs.enumerated() {
            for (vi, version) in [ParquetWriterOptions.DataPageVersion.v1, .v2].enumerated() {
                var shape = ParquetTestData.Shape(rows: 40, nullProbability: .init(repeating: 0.2, count: columnCount))
                shape.largeRows = [0, 17, 18, 39]
                shape.largeBytes = 5 << 20
                shape.options.codec = codec
                shape.options.dataPageVersion = version
                shape.options.dictionaryEnabled = vi == 0
                shape.options.dataPageSize = 4096
                shape.options.rowGroupRowLimit = ci % 2 == 0 ? 1 << 20 : 11
                try ParquetTestData.write(
                    name: "huge-\(ParquetTestData.codecName(codec))-\(version)", in: directory,
                    seed: UInt64(200 + ci), shape: shape)
            }
        }
        try Self.check("roundtrip", directory)
    }

    /// Values handed over in pieces (appendLargeValue: the full load's large values) read back
    /// whole, between ordinary values and nulls, for each streaming codec and page version; a
    /// value of another length than announced is an error.
    @Test func streamedValuesReadBackWhole() throws {
        let directory = try Self.temporaryDirectory("parquet-streamed")
        let schema = ParquetSchema([ParquetColumn(name: "id", type: .int64, nullable: false), ParquetColumn(name: "v", type: .bytes)])
        let piece = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: ($0 &* 2654435761) >> 11) }
        for codec in [ParquetCodec.zstd, .gzip, .uncompressed] {
            for version in [ParquetWriterOptions.DataPageVersion.v1, .v2] {
                var options = ParquetWriterOptions()
                options.codec = codec
                options.dataPageVersion = version
                let path = directory.appendingPathComponent("streamed-\(ParquetTestData.codecName(codec))-\(version).parquet").path
                let sink = try ParquetFileSink(path: path)
                let writer = try ParquetWriter(schema: schema, sink: sink, options: options)
                for id in 0..<6 {
                    writer.appendInt64(Int64(id), column: 0)
                    switch id % 3 {
                    case 0: [UInt8(id)].withUnsafeBytes { writer.appendBytes($0, column: 1) }
                    case 1:
                        #expect(writer.canStreamValue(column: 1))
                        try writer.appendLargeValue(count: (4 + id) << 20, column: 1) { emit in
                            for _ in 0..<(4 + id) { try piece.withUnsafeBytes { try emit($0) } }
                        }
                    default: writer.appendNull(column: 1)
                    }
                    try writer.endRow()
                }
                _ = try writer.close()
                try sink.close()
            }
        }
        _ = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        let out = try TestEnvironment.helper("streamed-values", [directory.path])
        func md5(times: Int) -> String {
            let whole = Array([[UInt8]](repeating: piece, count: times).joined())
            return whole.withUnsafeBytes { Digest.md5($0) }.map { String(format: "%02x", $0) }.joined().prefix(8).description
        }
        let piece4 = md5(times: 5), piece7 = md5(times: 8)
        let lines = out.split(separator: "\n")
        #expect(lines.count == 6, "\(out)")
        for line in lines {
            #expect(
                line.contains("(0, (1, ") && line.contains("(1, (\(5 << 20), '\(piece4)')") && line.contains("(2, None)")
                    && line.contains("(4, (\(8 << 20), '\(piece7)')") && line.contains("(4, \(8 << 20))"), "\(line)")
        }

        // A producer that gives fewer bytes than announced fails the append.
        let sink = ParquetMemorySink()
        let writer = try ParquetWriter(schema: schema, sink: sink)
        writer.appendInt64(1, column: 0)
        #expect(throws: ParquetError.self) {
            try writer.appendLargeValue(count: 5 << 20, column: 1) { emit in try piece.withUnsafeBytes { try emit($0) } }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func metadataShowsCodecAndStatisticsForEachCodecAndPageVersion() throws {
        let directory = try Self.temporaryDirectory("parquet-metadata")
        let columnCount = ParquetTestData.columns().count
        let codecs: [ParquetCodec] = [.zstd, .snappy, .gzip, .uncompressed]
        for (ci, codec) in codecs.enumerated() {
            for version in [ParquetWriterOptions.DataPageVersion.v1, .v2] {
                var shape = ParquetTestData.Shape(rows: 3_000, nullProbability: .init(repeating: 0.1, count: columnCount))
                shape.edgeProbability = 0.02
                shape.options.codec = codec
                shape.options.dataPageVersion = version
                shape.options.dataPageSize = 4096
                try ParquetTestData.write(
                    name: "\(ParquetTestData.codecName(codec))-\(version)", in: directory,
                    seed: UInt64(100 + ci), shape: shape)
            }
        }
        try Self.check("metadata", directory)
        // The same files read back value for value too.
    }
}
