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
            let status = snappy_compress(
                source,
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

    /// Whether ``compress(totalBytes:into:_:)`` works for this codec: ZSTD, GZIP and no compression
    /// stream; Snappy's raw format (the one Parquet uses) needs its whole input at once.
    var streams: Bool {
        if case .snappy = codec { return false }
        return true
    }

    /// Compresses the bytes `produce` hands, in order, to the function it is given (`totalBytes` in
    /// all) into `out`, as they come; returns the number of bytes appended. Errors of `produce`
    /// pass through.
    func compress(
        totalBytes: Int, into out: inout PageSegments,
        _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> Int {
        let before = out.count
        switch codec {
        case .uncompressed:
            try produce { out.append($0) }
        case .zstd(let level):
            try zstdStream(totalBytes: totalBytes, level: level, into: &out, produce)
        case .gzip(let level):
            try gzipStream(level: level, into: &out, produce)
        case .snappy:
            preconditionFailure("Snappy pages are compressed whole (PageCompressor.streams)")
        }
        return out.count - before
    }

    private static let streamScratch = 1 << 18

    private func zstdStream(
        totalBytes: Int, level: Int32, into out: inout PageSegments,
        _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        func check(_ rc: Int) throws(ParquetError) {
            guard ZSTD_isError(rc) == 0 else {
                throw ParquetError(.compressionFailed, "ZSTD: \(String(cString: ZSTD_getErrorName(rc)))")
            }
        }
        ZSTD_CCtx_reset(zstdContext, ZSTD_reset_session_and_parameters)
        defer { ZSTD_CCtx_reset(zstdContext, ZSTD_reset_session_and_parameters) }
        try check(ZSTD_CCtx_setParameter(zstdContext, ZSTD_c_compressionLevel, level))
        // The frame records the size; zstd refuses to end a frame of another size.
        try check(ZSTD_CCtx_setPledgedSrcSize(zstdContext, UInt64(totalBytes)))
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.streamScratch, alignment: 16)
        defer { scratch.deallocate() }
        try produce { piece in
            var input = ZSTD_inBuffer(src: piece.baseAddress, size: piece.count, pos: 0)
            while input.pos < input.size {
                var output = ZSTD_outBuffer(dst: scratch, size: Self.streamScratch, pos: 0)
                try check(ZSTD_compressStream2(zstdContext, &output, &input, ZSTD_e_continue))
                out.append(UnsafeRawBufferPointer(start: scratch, count: output.pos))
            }
        }
        var empty = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        var left = 0
        repeat {
            var output = ZSTD_outBuffer(dst: scratch, size: Self.streamScratch, pos: 0)
            left = ZSTD_compressStream2(zstdContext, &output, &empty, ZSTD_e_end)
            try check(left)
            out.append(UnsafeRawBufferPointer(start: scratch, count: output.pos))
        } while left != 0
    }

    private func gzipStream(
        level: Int32, into out: inout PageSegments,
        _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        var stream = z_stream()
        var rc = deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw ParquetError(.compressionFailed, "deflateInit2 returned \(rc)") }
        defer { deflateEnd(&stream) }
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.streamScratch, alignment: 16)
        defer { scratch.deallocate() }
        func run(_ flush: Int32) throws(ParquetError) {
            repeat {
                stream.next_out = scratch.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(Self.streamScratch)
                rc = deflate(&stream, flush)
                guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                    throw ParquetError(.compressionFailed, "deflate returned \(rc)")
                }
                out.append(UnsafeRawBufferPointer(start: scratch, count: Self.streamScratch - Int(stream.avail_out)))
            } while stream.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END)
        }
        try produce { piece in
            // avail_in is 32-bit: feed a piece in slices zlib can count.
            var rest = piece
            while rest.count > 0 {
                let n = min(rest.count, 1 << 30)
                stream.next_in = UnsafeMutablePointer(mutating: rest.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(n)
                try run(Z_NO_FLUSH)
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            }
        }
        stream.next_in = nil
        stream.avail_in = 0
        try run(Z_FINISH)
    }

    private func gzip(_ input: UnsafeRawBufferPointer, level: Int32) throws(ParquetError) {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
        var rc = deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
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
