import CLibPQ
import Foundation

/// The COPY BOTH stream of a replication connection, spoken on the connection's socket (through
/// its TLS session when there is one) instead of through libpq.
///
/// libpq buffers a whole CopyData message before `PQgetCopyData` hands out a copy of it, and keeps
/// its input buffer at the largest size a message needed: a row with a 100 MB value costs 200 MB
/// there before it is decoded. Here a message's bytes are taken as they arrive (``read(into:)``),
/// so a caller can put a large value straight where it belongs. libpq still makes the connection
/// (authentication, TLS, parameters); once ``start(_:on:)`` has sent `START_REPLICATION` itself,
/// libpq does not read from the connection again, and ``end()`` hands it back idle.
///
/// Protocol: https://www.postgresql.org/docs/15/protocol-message-formats.html
public final class ReplicationSocket {
    /// What ``next(timeoutMilliseconds:)`` found.
    public enum Event: Equatable, Sendable {
        /// A CopyData message of this many bytes, to be read with ``read(into:)`` before the next call.
        case copyData(Int)
        /// Nothing arrived within the timeout.
        case timedOut
        /// The server ended the stream (CopyDone).
        case endOfStream
    }

    private let connection: PGConnection
    private let fd: Int32
    /// The connection's OpenSSL `SSL *`, nil on a plain socket.
    private let ssl: OpaquePointer?
    private var buffer: UnsafeMutableRawPointer
    private var capacity = 1 << 16
    /// The buffered, unread bytes are `buffer[head..<tail]`.
    private var head = 0
    private var tail = 0
    /// Bytes of the current CopyData message the caller has not read yet.
    public private(set) var remaining = 0
    /// How long to wait for the rest of a message once it has begun (milliseconds).
    private let midMessageTimeout: Int32 = 120_000

    private init(connection: PGConnection, ssl: OpaquePointer?) {
        self.connection = connection
        self.fd = connection.socket
        self.ssl = ssl
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        // libpq keeps its socket non-blocking; the waits here rely on it.
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 && flags & O_NONBLOCK == 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    deinit { buffer.deallocate() }

    /// Sends `sql` (a `START_REPLICATION` command) as a simple query on `connection` and waits for
    /// the server to enter COPY BOTH. Returns nil when the connection's transport cannot be spoken
    /// directly (GSSAPI encryption, a TLS library other than OpenSSL): use libpq's COPY then.
    public static func start(_ sql: String, on connection: PGConnection) throws -> ReplicationSocket? {
        let conn = connection.handle
        if PQgssEncInUse(conn) != 0 { return nil }
        var ssl: OpaquePointer?
        if PQsslInUse(conn) != 0 {
            guard let object = PQsslStruct(conn, "OpenSSL") else { return nil }
            ssl = OpaquePointer(object)
        }
        let socket = ReplicationSocket(connection: connection, ssl: ssl)
        var query: [UInt8] = [UInt8(ascii: "Q")]
        appendInt32(&query, Int32(4 + sql.utf8.count + 1))
        query += sql.utf8
        query.append(0)
        try socket.write(query)
        while true {
            guard let (type, length) = try socket.messageHeader(timeoutMilliseconds: socket.midMessageTimeout) else {
                throw PGError(.replicationFailed, "the server did not answer \(PGConnection.commandName(sql))")
            }
            switch type {
            case UInt8(ascii: "W"):  // CopyBothResponse
                try socket.skip(length)
                return socket
            case UInt8(ascii: "E"):
                let error = try socket.errorResponse(length, code: .replicationFailed, command: PGConnection.commandName(sql))
                socket.discardUntilReady()
                throw error
            case UInt8(ascii: "N"), UInt8(ascii: "S"), UInt8(ascii: "A"):  // notice, parameter, notification
                try socket.skip(length)
            default:
                throw PGError(.protocolViolation, "unexpected message \(Self.describe(type)) in answer to START_REPLICATION")
            }
        }
    }

    /// Waits up to `timeoutMilliseconds` for the next message of the stream. Notices and parameter
    /// reports are passed over; an ErrorResponse is thrown.
    public func next(timeoutMilliseconds: Int32) throws -> Event {
        precondition(remaining == 0, "the previous CopyData message was not read to its end")
        while true {
            guard let (type, length) = try messageHeader(timeoutMilliseconds: timeoutMilliseconds) else { return .timedOut }
            switch type {
            case UInt8(ascii: "d"):
                remaining = length
                return .copyData(length)
            case UInt8(ascii: "c"):
                return .endOfStream
            case UInt8(ascii: "E"):
                throw try errorResponse(length, code: .replicationFailed, command: nil)
            case UInt8(ascii: "N"), UInt8(ascii: "S"), UInt8(ascii: "A"):
                try skip(length)
            default:
                throw PGError(.protocolViolation, "unexpected message \(Self.describe(type)) in the replication stream")
            }
        }
    }

    /// Fills `destination` with the next bytes of the current CopyData message (at most what is
    /// left of it), straight from the socket once the buffered bytes are used.
    public func read(into destination: UnsafeMutableRawBufferPointer) throws {
        guard destination.count <= remaining else {
            throw PGError(.protocolViolation, "read of \(destination.count) bytes past the end of a CopyData message (\(remaining) left)")
        }
        var filled = 0
        let buffered = min(tail - head, destination.count)
        if buffered > 0 {
            destination.baseAddress!.copyMemory(from: buffer + head, byteCount: buffered)
            head += buffered
            filled = buffered
        }
        while filled < destination.count {
            let n = try receive(into: destination.baseAddress! + filled, count: destination.count - filled, timeoutMilliseconds: midMessageTimeout)
            guard n > 0 else { throw PGError(.connectionClosed, "the server stopped sending in the middle of a message") }
            filled += n
        }
        remaining -= destination.count
    }

    /// The next `count` bytes of the current CopyData message as an array.
    public func readArray(_ count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { storage, initialized in
            try read(into: UnsafeMutableRawBufferPointer(storage))
            initialized = count
        }
    }

    /// Sends one CopyData message (a Standby Status Update).
    public func sendCopyData(_ bytes: [UInt8]) throws {
        var message: [UInt8] = [UInt8(ascii: "d")]
        Self.appendInt32(&message, Int32(4 + bytes.count))
        message += bytes
        try write(message)
    }

    /// Ends our side of the stream (CopyDone) and reads the server's closing messages, leaving the
    /// connection idle for libpq.
    public func end() throws {
        if remaining > 0 { try skip(remaining); remaining = 0 }
        try write([UInt8(ascii: "c"), 0, 0, 0, 4])
        discardUntilReady()
    }

    // MARK: Messages

    /// Reads a message's type and length (the body's length, without the 4 length bytes); nil when
    /// no byte came within the timeout. Once the first byte is there, waits for the rest.
    private func messageHeader(timeoutMilliseconds: Int32) throws -> (UInt8, Int)? {
        guard try buffered(1, timeoutMilliseconds: timeoutMilliseconds) else { return nil }
        guard try buffered(5, timeoutMilliseconds: midMessageTimeout) else {
            throw PGError(.connectionClosed, "the server stopped sending in the middle of a message header")
        }
        let type = buffer.load(fromByteOffset: head, as: UInt8.self)
        var length: UInt32 = 0
        for k in 1...4 { length = length << 8 | UInt32(buffer.load(fromByteOffset: head + k, as: UInt8.self)) }
        head += 5
        guard length >= 4, length <= Int32.max else {
            throw PGError(.protocolViolation, "message \(Self.describe(type)) with length \(length)")
        }
        return (type, Int(length) - 4)
    }

    /// Discards `count` bytes of the stream.
    private func skip(_ count: Int) throws {
        var left = count
        while left > 0 {
            if tail == head {
                guard try buffered(1, timeoutMilliseconds: midMessageTimeout) else {
                    throw PGError(.connectionClosed, "the server stopped sending in the middle of a message")
                }
            }
            let n = min(left, tail - head)
            head += n
            left -= n
        }
    }

    /// Reads an ErrorResponse body of `length` bytes into a ``PGError``.
    private func errorResponse(_ length: Int, code: PGError.Code, command: String?) throws -> PGError {
        remaining = length
        let body = try readArray(length)
        var fields: [UInt8: String] = [:]
        var k = 0
        while k < body.count, body[k] != 0 {
            let field = body[k]
            k += 1
            let from = k
            while k < body.count, body[k] != 0 { k += 1 }
            fields[field] = String(decoding: body[from..<k], as: UTF8.self)
            k += 1
        }
        var text = fields[UInt8(ascii: "M")] ?? "an error without a message"
        if let detail = fields[UInt8(ascii: "D")] { text += " (\(detail))" }
        return PGError(code, text, sqlState: fields[UInt8(ascii: "C")], command: command)
    }

    /// Reads and drops messages until ReadyForQuery (or 5 s, or an error), so that libpq finds
    /// the connection idle.
    private func discardUntilReady() {
        remaining = 0
        let until = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < until {
            guard let (type, length) = try? messageHeader(timeoutMilliseconds: 1000) else { continue }
            guard (try? skip(length)) != nil else { return }
            if type == UInt8(ascii: "Z") { return }
        }
    }

    static func describe(_ type: UInt8) -> String {
        (32..<127).contains(type) ? "'\(Character(Unicode.Scalar(type)))'" : "byte \(type)"
    }

    static func appendInt32(_ bytes: inout [UInt8], _ value: Int32) {
        let u = UInt32(bitPattern: value)
        bytes += [UInt8(u >> 24), UInt8(u >> 16 & 0xFF), UInt8(u >> 8 & 0xFF), UInt8(u & 0xFF)]
    }

    // MARK: Transport

    /// Makes at least `count` bytes (at most the buffer's capacity) available in the buffer;
    /// false when none came within the timeout.
    private func buffered(_ count: Int, timeoutMilliseconds: Int32) throws -> Bool {
        while tail - head < count {
            if head > 0 && capacity - tail < count {
                (buffer).copyMemory(from: buffer + head, byteCount: tail - head)
                tail -= head
                head = 0
            }
            let n = try receive(into: buffer + tail, count: capacity - tail, timeoutMilliseconds: timeoutMilliseconds)
            if n == 0 { return false }
            tail += n
        }
        return true
    }

    /// Reads what is available (at most `count` bytes), waiting up to the timeout; 0 on timeout.
    private func receive(into destination: UnsafeMutableRawPointer, count: Int, timeoutMilliseconds: Int32) throws -> Int {
        while true {
            var wait = Int16(POLLIN)
            if let ssl {
                ERR_clear_error()
                let n = SSL_read(ssl, destination, Int32(clamping: count))
                if n > 0 { return Int(n) }
                switch SSL_get_error(ssl, n) {
                case SSL_ERROR_WANT_READ: wait = Int16(POLLIN)
                case SSL_ERROR_WANT_WRITE: wait = Int16(POLLOUT)
                case SSL_ERROR_ZERO_RETURN: throw PGError(.connectionClosed, "the server closed the TLS session of the replication stream")
                default: throw PGError(.connectionClosed, "TLS read failed on the replication stream (errno \(errno))")
                }
            } else {
                let n = recv(fd, destination, count, 0)
                if n > 0 { return n }
                if n == 0 { throw PGError(.connectionClosed, "the server closed the replication connection") }
                if errno == EINTR { continue }
                guard errno == EAGAIN || errno == EWOULDBLOCK else {
                    throw PGError(.connectionClosed, "reading the replication stream failed: errno \(errno)")
                }
            }
            var fds = pollfd(fd: fd, events: wait, revents: 0)
            let ready = poll(&fds, 1, timeoutMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw PGError(.replicationFailed, "poll failed: errno \(errno)")
            }
            if ready == 0 { return 0 }
        }
    }

    private func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                var wait = Int16(POLLOUT)
                if let ssl {
                    ERR_clear_error()
                    let n = SSL_write(ssl, raw.baseAddress! + sent, Int32(raw.count - sent))
                    if n > 0 { sent += Int(n); continue }
                    switch SSL_get_error(ssl, n) {
                    case SSL_ERROR_WANT_READ: wait = Int16(POLLIN)
                    case SSL_ERROR_WANT_WRITE: wait = Int16(POLLOUT)
                    default: throw PGError(.connectionClosed, "TLS write failed on the replication stream (errno \(errno))")
                    }
                } else {
                    let n = send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                    if n > 0 { sent += n; continue }
                    if n < 0 && errno == EINTR { continue }
                    guard n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) else {
                        throw PGError(.connectionClosed, "writing to the replication stream failed: errno \(errno)")
                    }
                }
                var fds = pollfd(fd: fd, events: wait, revents: 0)
                if poll(&fds, 1, midMessageTimeout) == 0 {
                    throw PGError(.connectionClosed, "the server took no data for \(midMessageTimeout / 1000) s")
                }
            }
        }
    }
}
