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

    /// Whether ``compress(pieces:into:)`` works for this codec: ZSTD, GZIP and no compression
    /// stream; Snappy's raw format (the one Parquet uses) needs its whole input at once.
    var streams: Bool {
        if case .snappy = codec { return false }
        return true
    }

    /// Compresses the concatenation of `pieces` into `out`, a bounded scratch buffer at a time, so
    /// that neither a copy of the input nor a buffer of its compressed bound is ever held; returns
    /// the number of bytes appended. For `.uncompressed` the pieces are appended as they are.
    func compress(pieces: [UnsafeRawBufferPointer], into out: inout PageSegments) throws(ParquetError) -> Int {
        let before = out.count
        switch codec {
        case .uncompressed:
            for piece in pieces { out.append(piece) }
        case .zstd(let level):
            try zstdStream(pieces, level: level, into: &out)
        case .gzip(let level):
            try gzipStream(pieces, level: level, into: &out)
        case .snappy:
            preconditionFailure("Snappy pages are compressed whole (PageCompressor.streams)")
        }
        return out.count - before
    }

    private static let streamScratch = 1 << 18

    private func zstdStream(_ pieces: [UnsafeRawBufferPointer], level: Int32, into out: inout PageSegments) throws(ParquetError) {
        func check(_ rc: Int) throws(ParquetError) {
            guard ZSTD_isError(rc) == 0 else {
                throw ParquetError(.compressionFailed, "ZSTD: \(String(cString: ZSTD_getErrorName(rc)))")
            }
        }
        precondition(!pieces.isEmpty, "a streamed page has at least its value")
        ZSTD_CCtx_reset(zstdContext, ZSTD_reset_session_and_parameters)
        defer { ZSTD_CCtx_reset(zstdContext, ZSTD_reset_session_and_parameters) }
        try check(ZSTD_CCtx_setParameter(zstdContext, ZSTD_c_compressionLevel, level))
        try check(ZSTD_CCtx_setPledgedSrcSize(zstdContext, UInt64(pieces.reduce(0) { $0 + $1.count })))
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.streamScratch, alignment: 16)
        defer { scratch.deallocate() }
        for (k, piece) in pieces.enumerated() {
            let last = k == pieces.count - 1
            var input = ZSTD_inBuffer(src: piece.baseAddress, size: piece.count, pos: 0)
            while true {
                var output = ZSTD_outBuffer(dst: scratch, size: Self.streamScratch, pos: 0)
                let rc = ZSTD_compressStream2(zstdContext, &output, &input, last ? ZSTD_e_end : ZSTD_e_continue)
                try check(rc)
                out.append(UnsafeRawBufferPointer(start: scratch, count: output.pos))
                // Done with this piece when it is consumed (and, for the last, the frame is ended).
                if last ? rc == 0 : input.pos == input.size { break }
            }
        }
    }

    private func gzipStream(_ pieces: [UnsafeRawBufferPointer], level: Int32, into out: inout PageSegments) throws(ParquetError) {
        var stream = z_stream()
        var rc = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw ParquetError(.compressionFailed, "deflateInit2 returned \(rc)") }
        defer { deflateEnd(&stream) }
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.streamScratch, alignment: 16)
        defer { scratch.deallocate() }
        for (k, piece) in pieces.enumerated() {
            let last = k == pieces.count - 1
            // avail_in is 32-bit: feed a piece in slices zlib can count.
            var rest = piece
            repeat {
                let n = min(rest.count, 1 << 30)
                stream.next_in = UnsafeMutablePointer(mutating: rest.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(n)
                let flush = last && n == rest.count ? Z_FINISH : Z_NO_FLUSH
                repeat {
                    stream.next_out = scratch.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(Self.streamScratch)
                    rc = deflate(&stream, flush)
                    guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                        throw ParquetError(.compressionFailed, "deflate returned \(rc)")
                    }
                    out.append(UnsafeRawBufferPointer(start: scratch, count: Self.streamScratch - Int(stream.avail_out)))
                } while stream.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END)
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            } while rest.count > 0
        }
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
