/// An error from PostgreSQL or from libpq, with the context a person needs to act on it.
///
/// It carries the SQLSTATE and the server's primary message when the server sent them. It never
/// carries a password or a row value: messages come from libpq/the server, and conninfo strings are
/// only ever shown redacted (see ``ConnInfo/redacted(_:)``).
public struct PGError: Error, Sendable, CustomStringConvertible {
    /// What kind of step failed.
    public enum Code: String, Sendable {
        case connectionFailed = "connection failed"
        case queryFailed = "query failed"
        case copyFailed = "COPY failed"
        case replicationFailed = "replication stream failed"
        case protocolViolation = "unexpected response"
        case connectionClosed = "connection closed"
    }

    /// What kind of step failed.
    public var code: Code
    /// The server's or libpq's message, one line.
    public var message: String
    /// The five-character SQLSTATE, when the server sent one (e.g. `42704` undefined object).
    public var sqlState: String?
    /// The statement or replication command that failed, when there was one (never with values).
    public var command: String?
    /// The server refused the connection's credentials (or asked for a password none was given
    /// for). libpq reports no SQLSTATE for a connection that never became a session, so this is
    /// set where the connection is made.
    public var authenticationRefused: Bool

    /// Makes an error; `message` is trimmed to its first non-empty lines.
    public init(_ code: Code, _ message: String, sqlState: String? = nil, command: String? = nil, authenticationRefused: Bool = false) {
        self.code = code
        self.message = message.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }.joined(separator: "; ")
        self.sqlState = sqlState
        self.command = command
        self.authenticationRefused = authenticationRefused
    }

    public var description: String {
        var text = "PostgreSQL \(code.rawValue): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let command { text += " [\(command)]" }
        return text
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        var s = self
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
