import CSnappy
import CZlib
import CZstd

/// The compression codecs the writer supports, with their `parquet.thrift` `CompressionCodec` values.
public enum ParquetCodec: Sendable, Hashable {
    case uncompressed
    case snappy
    /// GZIP (deflate in a gzip wrapper) at zlib level 1...9.
    case gzip(level: Int32)
    /// ZSTD at the given level (1 is Arrow's default: fast, a little larger than 3).
    case zstd(level: Int32)

    /// ZSTD level 1.
    public static let zstd = ParquetCodec.zstd(level: 1)
    /// GZIP level 6, zlib's default.
    public static let gzip = ParquetCodec.gzip(level: 6)

    var thriftValue: Int32 {
        switch self {
        case .uncompressed: 0
        case .snappy: 1
        case .gzip: 2
        case .zstd: 6
        }
    }
}

/// Compresses pages with one codec, reusing its library context and an output buffer.
final class PageCompressor {
    let codec: ParquetCodec
    private var zstdContext: OpaquePointer?
    /// The last compressed output.
    private(set) var output = ByteBuffer(capacity: 1 << 16)

    init(codec: ParquetCodec) {
        self.codec = codec
        if case .zstd = codec { zstdContext = ZSTD_createCCtx() }
    }

    deinit {
        if let zstdContext { ZSTD_freeCCtx(zstdContext) }
        output.deallocate()
    }

    /// Compresses `input` and returns the compressed bytes, valid until the next call.
    /// For `.uncompressed` returns `input` itself.
    func compress(_ input: UnsafeRawBufferPointer) throws(ParquetError) -> UnsafeRawBufferPointer {
        switch codec {
        case .uncompressed:
            return input
        case .zstd(let level):
            let bound = ZSTD_compressBound(input.count)
            output.removeAll()
            let dst = output.appendUninitialized(bound)
            let n = ZSTD_compressCCtx(zstdContext, dst, bound, input.baseAddress, input.count, level)
            guard ZSTD_isError(n) == 0 else {
                throw ParquetError(.compressionFailed, "ZSTD: \(String(cString: ZSTD_getErrorName(n)))")
            }
            output.truncate(to: n)
        case .snappy:
            var length = snappy_max_compressed_length(input.count)
            output.removeAll()
            let dst = output.appendUninitialized(length)
            let source = (input.baseAddress ?? UnsafeRawPointer(output.bytes.baseAddress!)).assumingMemoryBound(to: CChar.self)
            let status = snappy_compress(source,
                                         input.count, dst.assumingMemoryBound(to: CChar.self), &length)
            guard status == SNAPPY_OK else {
                throw ParquetError(.compressionFailed, "Snappy status \(status.rawValue)")
            }
            output.truncate(to: length)
        case .gzip(let level):
            try gzip(input, level: level)
        }
        return output.bytes
    }

    private func gzip(_ input: UnsafeRawBufferPointer, level: Int32) throws(ParquetError) {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
        var rc = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw ParquetError(.compressionFailed, "deflateInit2 returned \(rc)") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        output.removeAll()
        let dst = output.appendUninitialized(bound)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        stream.next_out = dst.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(bound)
        rc = deflate(&stream, Z_FINISH)
        guard rc == Z_STREAM_END else { throw ParquetError(.compressionFailed, "deflate returned \(rc)") }
        output.truncate(to: Int(stream.total_out))
    }
}
