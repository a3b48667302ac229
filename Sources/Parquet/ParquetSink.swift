#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a `ParquetWriter` sends the file's bytes, in order, each byte once.
///
/// The writer calls `write` with whole pages of column chunks and, at the end, the footer; the
/// buffer is only valid during the call. A multipart upload is a natural sink.
public protocol ParquetSink: AnyObject {
    /// Accepts the next bytes of the file.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// A sink that keeps the whole file in memory (tests, small files).
public final class ParquetMemorySink: ParquetSink {
    /// Everything written so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        self.bytes.append(contentsOf: bytes)
    }
}

/// A sink that writes to a local file, created or truncated on open.
public final class ParquetFileSink: ParquetSink {
    /// The file's path.
    public let path: String
    private var fd: Int32

    /// Opens (creates or truncates) the file at `path`.
    public init(path: String) throws(ParquetError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ParquetError(.sinkFailed, "cannot open \(path)", underlying: ParquetSystemError(errno: errno))
        }
    }

    deinit {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw ParquetError(.closed, "file sink \(path) is closed") }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw ParquetError(.sinkFailed, "cannot write \(path)", underlying: ParquetSystemError(errno: errno))
            }
            offset += n
        }
    }

    /// Flushes to disk with fsync.
    public func sync() throws(ParquetError) {
        guard fsync(fd) == 0 else {
            throw ParquetError(.sinkFailed, "cannot fsync \(path)", underlying: ParquetSystemError(errno: errno))
        }
    }

    /// Closes the file; later writes fail.
    public func close() throws(ParquetError) {
        guard fd >= 0 else { return }
        let rc = Glibc.close(fd)
        fd = -1
        guard rc == 0 else {
            throw ParquetError(.sinkFailed, "cannot close \(path)", underlying: ParquetSystemError(errno: errno))
        }
    }
}

/// An `errno` value from a failed system call.
public struct ParquetSystemError: Error, Sendable, CustomStringConvertible {
    public var errno: Int32
    public var description: String { "errno \(errno): \(String(cString: strerror(errno)))" }
}
