import CZlib
import CZstd
import Testing
@testable import Parquet

@Suite struct ParquetCompressionTests {
    static let input: [UInt8] = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 % 97) }

    @Test func thriftCodecValues() {
        #expect(ParquetCodec.uncompressed.thriftValue == 0)
        #expect(ParquetCodec.snappy.thriftValue == 1)
        #expect(ParquetCodec.gzip.thriftValue == 2)
        #expect(ParquetCodec.zstd.thriftValue == 6)
    }

    @Test func zstdOutputDecompressesToInput() throws {
        let compressor = PageCompressor(codec: .zstd(level: 3))
        let compressed = try Self.input.withUnsafeBytes { Array(try compressor.compress($0)) }
        #expect(compressed.count < Self.input.count)
        var output = [UInt8](repeating: 0, count: Self.input.count)
        let n = output.withUnsafeMutableBytes { out in
            compressed.withUnsafeBytes { ZSTD_decompress(out.baseAddress, out.count, $0.baseAddress, $0.count) }
        }
        #expect(n == Self.input.count && output == Self.input)
    }

    @Test func gzipOutputHasGzipHeaderAndInflates() throws {
        let compressor = PageCompressor(codec: .gzip)
        let compressed = try Self.input.withUnsafeBytes { Array(try compressor.compress($0)) }
        #expect(compressed.prefix(2) == [0x1F, 0x8B])
        var output = [UInt8](repeating: 0, count: Self.input.count)
        var stream = z_stream()
        #expect(inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        let rc = compressed.withUnsafeBytes { src in
            output.withUnsafeMutableBytes { dst -> Int32 in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress!.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(dst.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        inflateEnd(&stream)
        #expect(rc == Z_STREAM_END && output == Self.input)
    }

    @Test func snappyAndUncompressedProduceOutput() throws {
        let snappy = PageCompressor(codec: .snappy)
        let compressed = try Self.input.withUnsafeBytes { Array(try snappy.compress($0)) }
        #expect(!compressed.isEmpty && compressed.count < Self.input.count)
        let none = PageCompressor(codec: .uncompressed)
        #expect(try Self.input.withUnsafeBytes { Array(try none.compress($0)) } == Self.input)
    }

    @Test func emptyInputCompresses() throws {
        for codec in [ParquetCodec.zstd, .snappy, .gzip] {
            let compressor = PageCompressor(codec: codec)
            _ = try [UInt8]().withUnsafeBytes { try compressor.compress($0) }
        }
    }
}
