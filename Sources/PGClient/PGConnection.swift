import CLibPQ
import Glibc

/// One libpq connection, normal or `replication=database`.
///
/// Blocking: use it from one thread at a time, off the cooperative pool (Replication runs it on a `DedicatedThread`).
/// It is deliberately not `Sendable`: the thread that made it owns it. ``makeCanceller()`` gives a
/// `Sendable` handle that another thread may use to cancel the running command.
public final class PGConnection {
    private let conn: OpaquePointer
    /// The conninfo without its password, for messages.
    public let redactedConnInfo: String

    /// Whether this is a `replication=database` connection (walsender).
    public let isReplication: Bool

    /// Connects with a libpq conninfo string or URI. `replication: true` opens a logical
    /// replication (walsender) connection to the same database.
    /// `options` sets server settings for the session (`-c name=value ...`).
    public init(conninfo: String, replication: Bool = false, applicationName: String = "replicatord", options: String? = nil) throws {
        redactedConnInfo = try ConnInfo.redacted(conninfo)
        isReplication = replication
        var keywords = ["dbname", "fallback_application_name"]
        var values = [conninfo, applicationName]
        if replication { keywords.append("replication"); values.append("database") }
        if let options { keywords.append("options"); values.append(options) }
        let cKeys = keywords.map { strdup($0) }, cValues = values.map { strdup($0) }
        defer { (cKeys + cValues).forEach { free($0) } }
        var keyPointers = cKeys.map { UnsafePointer<CChar>($0) } + [nil]
        var valuePointers = cValues.map { UnsafePointer<CChar>($0) } + [nil]
        guard let conn = PQconnectdbParams(&keyPointers, &valuePointers, 1) else {
            throw PGError(.connectionFailed, "out of memory creating a libpq connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn))
            // The server's refusal of a password (SQLSTATE 28P01) reaches libpq's caller only as
            // this text; a password asked for and not given, through libpq's own test.
            let refused = PQconnectionNeedsPassword(conn) != 0 || message.contains("password authentication failed")
            PQfinish(conn)
            throw PGError(.connectionFailed, "\(message) (\(redactedConnInfo))", authenticationRefused: refused)
        }
        self.conn = conn
    }

    deinit { PQfinish(conn) }

    /// The server's version as an integer, e.g. 150020.
    public var serverVersion: Int { Int(PQserverVersion(conn)) }

    /// The libpq connection (for ``ReplicationSocket``).
    var handle: OpaquePointer { conn }

    /// The libpq socket, for `poll`.
    var socket: Int32 { PQsocket(conn) }

    // MARK: Simple queries

    /// Runs one statement (or replication command) and returns its rows in text format.
    @discardableResult
    public func query(_ sql: String) throws -> QueryResult {
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        try check(result, sql, expecting: [PGRES_TUPLES_OK, PGRES_COMMAND_OK])
        return QueryResult(result!)
    }

    /// Runs one statement with `$1...` parameters sent as text (never interpolated into the SQL).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?]) throws -> QueryResult {
        let cValues = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { cValues.forEach { free($0) } }
        var pointers = cValues.map { UnsafePointer<CChar>($0) }
        let result = PQexecParams(conn, sql, Int32(parameters.count), nil, &pointers, nil, nil, 0)
        defer { PQclear(result) }
        try check(result, sql, expecting: [PGRES_TUPLES_OK, PGRES_COMMAND_OK])
        return QueryResult(result!)
    }

    // MARK: COPY

    /// Runs `COPY ... TO STDOUT` and hands each CopyData message (one row, in text or binary COPY
    /// format) to `onRow` as it arrives, without buffering the table. The buffer is valid only
    /// during the call. Returns the number of messages.
    @discardableResult
    public func copyOut(_ sql: String, onRow: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let start = PQexec(conn, sql)
        do {
            defer { PQclear(start) }
            try check(start, sql, expecting: [PGRES_COPY_OUT])
        }
        var count = 0
        var failure: Error?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(conn, &buffer, 0)
            if n > 0, let buffer {
                defer { PQfreemem(buffer) }
                if failure == nil {
                    do { try onRow(UnsafeRawBufferPointer(start: buffer, count: Int(n))) } catch {
                        // Stop the server from sending the rest, then drain what is in flight.
                        failure = error
                        makeCanceller().cancel()
                    }
                }
                count += 1
            } else if n == -1 {
                break
            } else {
                throw PGError(.copyFailed, String(cString: PQerrorMessage(conn)), command: sql)
            }
        }
        let end = PQgetResult(conn)
        defer { PQclear(end); drainResults() }
        if let failure { throw failure }
        try check(end, sql, expecting: [PGRES_COMMAND_OK], code: .copyFailed)
        return count
    }

    // MARK: COPY BOTH (replication stream)

    /// What ``readCopyData(timeoutMilliseconds:_:)`` found.
    public enum ReadOutcome: Sendable, Equatable {
        /// One CopyData message was handed to the closure.
        case message
        /// Nothing arrived within the timeout.
        case timedOut
        /// The server ended the COPY (e.g. at the end of a `pg_recvlogical`-style `endpos`).
        case endOfStream
    }

    /// Waits up to `timeoutMilliseconds` for one CopyData message of a COPY BOTH stream (after
    /// `START_REPLICATION`) and hands its bytes to `body`, valid only during the call.
    public func readCopyData(timeoutMilliseconds: Int32, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> ReadOutcome {
        var waited = false
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(conn, &buffer, 1)
            if n > 0, let buffer {
                defer { PQfreemem(buffer) }
                try body(UnsafeRawBufferPointer(start: buffer, count: Int(n)))
                return .message
            }
            if n == -1 {
                let result = PQgetResult(conn)
                defer { PQclear(result); drainResults() }
                if let result, PQresultStatus(result) == PGRES_FATAL_ERROR {
                    throw error(from: result, code: .replicationFailed, command: nil)
                }
                return .endOfStream
            }
            if n == -2 { throw PGError(.replicationFailed, String(cString: PQerrorMessage(conn))) }
            // n == 0: nothing complete buffered. Wait for the socket once, then read what came.
            if waited { return .timedOut }
            var fds = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fds, 1, timeoutMilliseconds)
            if ready < 0 && errno != EINTR { throw PGError(.replicationFailed, "poll failed: errno \(errno)") }
            if ready == 0 { return .timedOut }
            guard PQconsumeInput(conn) == 1 else {
                throw PGError(.connectionClosed, String(cString: PQerrorMessage(conn)))
            }
            waited = true
        }
    }

    /// Runs a command that enters COPY BOTH mode (`START_REPLICATION`).
    func startCopyBoth(_ sql: String) throws {
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        try check(result, sql, expecting: [PGRES_COPY_BOTH], code: .replicationFailed)
    }

    /// Sends one CopyData message on a COPY BOTH stream (a Standby Status Update) and flushes it.
    public func sendCopyData(_ bytes: [UInt8]) throws {
        let ok = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                PQputCopyData(conn, $0, Int32(buffer.count))
            }
        }
        guard ok == 1, PQflush(conn) == 0 else {
            throw PGError(.replicationFailed, String(cString: PQerrorMessage(conn)))
        }
    }

    /// Ends our side of a COPY BOTH stream (CopyDone) and reads the server's closing results.
    public func endCopy() throws {
        guard PQputCopyEnd(conn, nil) == 1, PQflush(conn) == 0 else {
            throw PGError(.replicationFailed, String(cString: PQerrorMessage(conn)))
        }
        // The server may still send CopyData until it has seen our CopyDone: discard it.
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(conn, &buffer, 0)
            if let buffer { PQfreemem(buffer) }
            if n < 0 { break }
        }
        drainResults()
    }

    // MARK: Cancel

    /// A handle another thread may use to cancel the command this connection is running.
    public func makeCanceller() -> PGCanceller { PGCanceller(PQgetCancel(conn)) }

    // MARK: Results

    private func drainResults() {
        while let r = PQgetResult(conn) { PQclear(r) }
    }

    private func check(_ result: OpaquePointer?, _ sql: String, expecting: [ExecStatusType], code: PGError.Code = .queryFailed) throws {
        guard let result else { throw PGError(code, String(cString: PQerrorMessage(conn)), command: Self.commandName(sql)) }
        let status = PQresultStatus(result)
        guard expecting.contains(status) else {
            if status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR {
                throw error(from: result, code: code, command: Self.commandName(sql))
            }
            throw PGError(
                .protocolViolation, "expected \(expecting.map { String(cString: PQresStatus($0)) }) but got \(String(cString: PQresStatus(status)))",
                command: Self.commandName(sql))
        }
    }

    private func error(from result: OpaquePointer, code: PGError.Code, command: String?) -> PGError {
        func field(_ f: UInt8) -> String? { PQresultErrorField(result, Int32(f)).map { String(cString: $0) } }
        let message = field(UInt8(ascii: "M")) ?? String(cString: PQresultErrorMessage(result))
        var text = message
        if let detail = field(UInt8(ascii: "D")) { text += " (\(detail))" }
        return PGError(code, text, sqlState: field(UInt8(ascii: "C")), command: command)
    }

    /// The statement shown in errors: its text up to 200 characters (our statements carry no values;
    /// parameters travel separately).
    static func commandName(_ sql: String) -> String {
        sql.count > 200 ? String(sql.prefix(200)) + "..." : sql
    }
}

/// Cancels the command a ``PGConnection`` is running, from any thread.
public final class PGCanceller: @unchecked Sendable {
    // PGcancel is documented thread-safe to use with PQcancel from another thread.
    private let handle: OpaquePointer?

    init(_ handle: OpaquePointer?) { self.handle = handle }
    deinit { if let handle { PQfreeCancel(handle) } }

    /// Asks the server to cancel the running command; returns whether the request was sent.
    @discardableResult
    public func cancel() -> Bool {
        guard let handle else { return false }
        var buffer = [CChar](repeating: 0, count: 256)
        return PQcancel(handle, &buffer, Int32(buffer.count)) == 1
    }
}
