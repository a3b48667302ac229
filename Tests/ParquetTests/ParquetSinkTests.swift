import Foundation
import Testing
@testable import Parquet

@Suite struct ParquetSinkTests {
    @Test func fileSinkWritesBytesInOrder() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sink-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try ParquetFileSink(path: path)
        try [UInt8]([1, 2]).withUnsafeBytes { try sink.write($0) }
        try [UInt8]([3]).withUnsafeBytes { try sink.write($0) }
        try sink.close()
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
    }

    @Test func fileSinkFailsToOpenMissingDirectory() {
        #expect(throws: ParquetError.self) { _ = try ParquetFileSink(path: "/nonexistent-dir/x.parquet") }
    }

    @Test func writeAfterCloseFails() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sink-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try ParquetFileSink(path: path)
        try sink.close()
        #expect(throws: ParquetError.self) { try [UInt8]([1]).withUnsafeBytes { try sink.write($0) } }
    }

    @Test func memorySinkAccumulates() throws {
        let sink = ParquetMemorySink()
        try [UInt8]([1, 2]).withUnsafeBytes { try sink.write($0) }
        #expect(sink.bytes == [1, 2])
    }
}
