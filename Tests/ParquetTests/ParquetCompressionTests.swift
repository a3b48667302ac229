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
        let (rc, output) = Self.gunzip(compressed, count: Self.input.count)
        #expect(rc == Z_STREAM_END && output == Self.input)
    }

    /// Inflates a gzip stream of `count` bytes: zlib's return code and the output.
    static func gunzip(_ compressed: [UInt8], count: Int) -> (Int32, [UInt8]) {
        var output = [UInt8](repeating: 0, count: count)
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return (Z_STREAM_ERROR, []) }
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
        return (rc, output)
    }

    @Test func snappyAndUncompressedProduceOutput() throws {
        let snappy = PageCompressor(codec: .snappy)
        let compressed = try Self.input.withUnsafeBytes { Array(try snappy.compress($0)) }
        #expect(!compressed.isEmpty && compressed.count < Self.input.count)
        let none = PageCompressor(codec: .uncompressed)
        #expect(try Self.input.withUnsafeBytes { Array(try none.compress($0)) } == Self.input)
    }

    /// Streamed compression (large values' pages) gives a frame the one-shot decoders read back.
    @Test func streamedZstdAndGzipDecompressToTheConcatenatedPieces() throws {
        let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: ($0 &* 2654435761) >> 13) }
        let prefix: [UInt8] = [1, 2, 3, 4]
        let whole = prefix + big
        for codec in [ParquetCodec.zstd(level: 1), .gzip(level: 1), .uncompressed] {
            let compressor = PageCompressor(codec: codec)
            #expect(compressor.streams)
            var out = PageSegments()
            defer { out.deallocate() }
            let n = try compressor.compress(totalBytes: whole.count, into: &out) { emit in
                try prefix.withUnsafeBytes { try emit($0) }
                try big.withUnsafeBytes { try emit($0) }
            }
            var compressed: [UInt8] = []
            out.forEachSegment { compressed.append(contentsOf: $0) }
            #expect(n == compressed.count)
            var output = [UInt8](repeating: 0, count: whole.count)
            switch codec {
            case .zstd:
                let m = output.withUnsafeMutableBytes { o in compressed.withUnsafeBytes { ZSTD_decompress(o.baseAddress, o.count, $0.baseAddress, $0.count) } }
                #expect(m == whole.count)
            case .gzip:
                let rc: Int32
                (rc, output) = Self.gunzip(compressed, count: whole.count)
                #expect(rc == Z_STREAM_END)
            default:
                output = compressed
            }
            #expect(output == whole, "\(codec)")
            // The context still compresses whole pages afterwards.
            if case .zstd = codec {
                let again = try Self.input.withUnsafeBytes { Array(try compressor.compress($0)) }
                var back = [UInt8](repeating: 0, count: Self.input.count)
                let m = back.withUnsafeMutableBytes { o in again.withUnsafeBytes { ZSTD_decompress(o.baseAddress, o.count, $0.baseAddress, $0.count) } }
                #expect(m == Self.input.count && back == Self.input)
            }
        }
        #expect(!PageCompressor(codec: .snappy).streams)
    }

    /// An empty page (a column of nulls only has no values) compresses to a frame that each codec's
    /// decoder reads back as empty.
    @Test func emptyInputRoundTrips() throws {
        let zstdCompressor = PageCompressor(codec: .zstd)  // the result points into the compressor's buffer
        let zstd = try withExtendedLifetime(zstdCompressor) { try [UInt8]().withUnsafeBytes { Array(try zstdCompressor.compress($0)) } }
        var none = [UInt8](repeating: 0, count: 1)
        let n = none.withUnsafeMutableBytes { o in zstd.withUnsafeBytes { ZSTD_decompress(o.baseAddress, 0, $0.baseAddress, $0.count) } }
        #expect(!zstd.isEmpty && n == 0, "zstd frame \(zstd), decompressed \(n)")

        let gzipCompressor = PageCompressor(codec: .gzip)  // the result points into the compressor's buffer
        let gzip = try withExtendedLifetime(gzipCompressor) { try [UInt8]().withUnsafeBytes { Array(try gzipCompressor.compress($0)) } }
        let (rc, inflated) = Self.gunzip(gzip, count: 0)
        #expect(gzip.prefix(2) == [0x1F, 0x8B] && rc == Z_STREAM_END && inflated.isEmpty)

        // Snappy's raw format: the uncompressed length as a varint, then no elements.
        let snappyCompressor = PageCompressor(codec: .snappy)  // the result points into the compressor's buffer
        let snappy = try withExtendedLifetime(snappyCompressor) { try [UInt8]().withUnsafeBytes { Array(try snappyCompressor.compress($0)) } }
        #expect(snappy == [0])
    }
}
