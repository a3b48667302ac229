import Foundation
import PGClient

/// A large column value taken out of a replication message as it was read: the `column`-th value
/// of the message's `tuple`-th TupleData (an Update's old tuple is 0 and its new one 1 when the old
/// one is there; an Insert's new tuple and a Delete's old tuple are 0). In the message the value is
/// left with its kind byte and a length of 0.
public struct LargeValue: Sendable {
    public var tuple: Int
    public var column: Int
    /// The value's bytes, when it was read into memory...
    public var bytes: [UInt8]
    /// ...or the file it was written to (``LargeValueSplicer/read(from:threshold:directory:)``).
    public var file: LargeValueFile?

    public init(tuple: Int, column: Int, bytes: [UInt8], file: LargeValueFile? = nil) {
        self.tuple = tuple; self.column = column; self.bytes = bytes; self.file = file
    }
}

/// A large value written to a file of the spool directory as it was read from the socket; the file
/// is removed when the last reference goes (leftovers of a crash: ``LargeValueSplicer/filePrefix``).
public final class LargeValueFile: Sendable {
    public let path: String
    public let count: Int
    private let fd: Int32

    init(path: String, fd: Int32, count: Int) {
        self.path = path; self.fd = fd; self.count = count
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Hands the bytes from `offset` on to `emit`, in order, in pieces of at most 4 MiB.
    public func read(from offset: Int = 0, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let piece = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(piece, max(count, 1)), alignment: 16)
        defer { buffer.deallocate() }
        var at = offset
        while at < count {
            let n = pread(fd, buffer.baseAddress, min(buffer.count, count - at), off_t(at))
            guard n > 0 else { throw LargeValueFileError(path: path, detail: n == 0 ? "ends at byte \(at) of \(count)" : "read failed: errno \(errno)") }
            try emit(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            at += n
        }
    }

    /// The first byte (a jsonb value's version byte).
    public func firstByte() throws -> UInt8 {
        var byte: UInt8 = 0
        guard pread(fd, &byte, 1, 0) == 1 else { throw LargeValueFileError(path: path, detail: "empty or unreadable") }
        return byte
    }

    /// The bytes from `offset` on, in memory.
    public func readAll(from offset: Int = 0) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(0, count - offset))
        try read(from: offset) { bytes.append(contentsOf: $0) }
        return bytes
    }
}

/// A large value's file could not be written or read back.
public struct LargeValueFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var detail: String
    public var description: String { "large value file \(path): \(detail)" }
}

/// Reads one CopyData message from a source of its bytes, lifting each text or binary column value
/// of at least `threshold` bytes of an Insert, Update or Delete (pgoutput protocol 1) into an
/// array of its own, read straight into it: the rest of the message is small, and the value is
/// held once, in the array the change segment then takes over (``ColumnVector/adoptBytes(_:)``).
/// Any other message, or one that does not parse, is read as it is (the decoder reports what is
/// wrong with it).
public enum LargeValueSplicer {
    /// The bytes of one message, in order: `read(into:)` fills the buffer, `remaining` is what is left.
    public protocol Source: AnyObject {
        var remaining: Int { get }
        func read(into destination: UnsafeMutableRawBufferPointer) throws
    }

    /// The name prefix of large values' files (removed with the spool's leftovers at start).
    public static let filePrefix = "replicatord-cdc-lifted-"

    /// With `directory`, each large value goes to a file there as it is read (held in no memory);
    /// without, to an array.
    public static func read(from source: some Source, threshold: Int, directory: String? = nil) throws -> (message: [UInt8], largeValues: [LargeValue]) {
        var out: [UInt8] = []
        out.reserveCapacity(min(source.remaining, 1 << 16))
        var largeValues: [LargeValue] = []
        func take(_ n: Int) throws {
            let count = min(n, source.remaining)
            guard count > 0 else { return }
            let at = out.count
            out.append(contentsOf: repeatElement(0, count: count))
            try out.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[at..<at + count])) }
        }
        func takeRest() throws { try take(source.remaining) }
        func bigEndian(_ at: Int, _ width: Int) -> Int {
            var v = 0
            for k in 0..<width { v = v << 8 | Int(out[at + k]) }
            return v
        }

        try take(1)
        guard out.first == UInt8(ascii: "w"), source.remaining >= 25 else { try takeRest(); return (out, []) }
        try take(25)  // XLogData header (24 bytes) and the pgoutput message type
        let type = out[25]
        guard type == UInt8(ascii: "I") || type == UInt8(ascii: "U") || type == UInt8(ascii: "D") else {
            try takeRest()
            return (out, [])
        }
        try take(4)  // relation OID
        var tuple = 0
        while source.remaining > 0 {
            try take(1)
            let marker = out[out.count - 1]
            guard marker == UInt8(ascii: "N") || marker == UInt8(ascii: "K") || marker == UInt8(ascii: "O"),
                source.remaining >= 2
            else { break }
            try take(2)
            let columns = bigEndian(out.count - 2, 2)
            for column in 0..<columns {
                guard source.remaining >= 1 else { break }
                try take(1)
                let kind = out[out.count - 1]
                guard kind == UInt8(ascii: "t") || kind == UInt8(ascii: "b") else { continue }
                guard source.remaining >= 4 else { break }
                try take(4)
                let length = Int(Int32(truncatingIfNeeded: bigEndian(out.count - 4, 4)))
                if length >= threshold && length <= source.remaining {
                    for k in 1...4 { out[out.count - k] = 0 }
                    if let directory {
                        largeValues.append(
                            LargeValue(
                                tuple: tuple, column: column, bytes: [],
                                file: try toFile(source, length, directory: directory)))
                        continue
                    }
                    let bytes = try [UInt8](unsafeUninitializedCapacity: length) { storage, initialized in
                        try source.read(into: UnsafeMutableRawBufferPointer(storage))
                        initialized = length
                    }
                    largeValues.append(LargeValue(tuple: tuple, column: column, bytes: bytes))
                } else if length > 0 {
                    try take(length)
                }
            }
            tuple += 1
        }
        try takeRest()
        return (out, largeValues)
    }
}

extension LargeValueSplicer {
    /// Copies the next `length` bytes of `source` to a new file in `directory`, 1 MiB at a time.
    static func toFile(_ source: some Source, _ length: Int, directory: String) throws -> LargeValueFile {
        let path = directory + "/" + filePrefix + UUID().uuidString + ".value"
        let fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LargeValueFileError(path: path, detail: "cannot be created: errno \(errno)") }
        let file = LargeValueFile(path: path, fd: fd, count: length)  // removes the file if what follows fails
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(length, 1 << 20), alignment: 16)
        defer { buffer.deallocate() }
        var left = length
        while left > 0 {
            let n = min(left, buffer.count)
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
            try source.read(into: piece)
            var written = 0
            while written < n {
                let w = write(fd, piece.baseAddress! + written, n - written)
                guard w > 0 else { throw LargeValueFileError(path: path, detail: "write failed: errno \(errno)") }
                written += w
            }
            left -= n
        }
        return file
    }
}

extension ReplicationSocket: LargeValueSplicer.Source {}
