import Foundation
import Logging
import ObjectStore
import TOMLKit

/// Checks of single values: slot names, conninfo (with its lexer), target URLs, endpoints, listen addresses.
extension ConfigurationLoader {
    /// Refuses a slot name PostgreSQL would refuse: lowercase letters, digits, underscores, 1...63.
    static func checkSlotName(_ slot: String) throws(ValueProblem) {
        let valid =
            !slot.isEmpty && slot.utf8.count <= 63
            && slot.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
        guard valid else {
            throw ValueProblem("expected a slot name of 1 to 63 lowercase letters, digits and underscores, got \"\(slot)\"")
        }
    }

    /// Refuses a conninfo that holds a password (or the client key's passphrase), or that cannot be split
    /// into keywords. Never quotes the conninfo, which might hold a secret.
    static func checkConninfo(_ conninfo: String) throws(ValueProblem) {
        let trimmed = conninfo.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw ValueProblem("expected a libpq conninfo such as \"host=127.0.0.1 dbname=app user=replicator\", got an empty string")
        }
        let keywords = try conninfoKeywords(trimmed)
        if keywords.contains("password") {
            throw ValueProblem("holds a password; \(postgresPasswordAdvice)", secret: true)
        }
        if keywords.contains("sslpassword") {
            throw ValueProblem(
                "holds sslpassword; the client key's passphrase never goes in the config file: use a key file without one, readable only by the daemon's user",
                secret: true)
        }
    }

    /// The keywords of a conninfo, `"password"` among them for a URI with `user:password@`.
    static func conninfoKeywords(_ conninfo: String) throws(ValueProblem) -> [String] {
        for scheme in ["postgresql://", "postgres://"] where conninfo.lowercased().hasPrefix(scheme) {
            let rest = conninfo.dropFirst(scheme.count)
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            var keywords: [String] = []
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                keywords.append("user")
                if userinfo.contains(":") { keywords.append("password") }
            }
            if let question = rest.firstIndex(of: "?") {
                for parameter in rest[rest.index(after: question)...].split(separator: "&") {
                    let name = parameter.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                    keywords.append((name.removingPercentEncoding ?? name).lowercased())
                }
            }
            return keywords
        }
        // key = value pairs; values may be single-quoted, with \' and \\ escapes (libpq's rules).
        var keywords: [String] = []
        var chars = conninfo[...]
        func skipSpaces() { chars = chars.drop(while: \.isWhitespace) }
        skipSpaces()
        while !chars.isEmpty {
            let key = chars.prefix(while: { $0 != "=" && !$0.isWhitespace })
            chars = chars.dropFirst(key.count)
            skipSpaces()
            guard chars.first == "=", !key.isEmpty else {
                throw ValueProblem("cannot be read as libpq conninfo: expected keyword=value pairs or a postgresql:// URI")
            }
            chars = chars.dropFirst()
            skipSpaces()
            if chars.first == "'" {
                chars = chars.dropFirst()
                var closed = false
                while let c = chars.first {
                    chars = chars.dropFirst()
                    if c == "\\" { chars = chars.dropFirst(); continue }
                    if c == "'" { closed = true; break }
                }
                guard closed else { throw ValueProblem("cannot be read as libpq conninfo: a quoted value is not closed") }
            } else {
                while let c = chars.first, !c.isWhitespace {
                    chars = chars.dropFirst(c == "\\" ? 2 : 1)
                }
            }
            keywords.append(key.lowercased())
            skipSpaces()
        }
        return keywords
    }

    /// Parses `target.url` into the one type the object store takes (see `TargetURL`).
    static func parseTargetURL(_ url: String) throws(ValueProblem) -> TargetURL {
        do { return try TargetURL(parsing: url) } catch { throw ValueProblem(error.description) }
    }

    /// Checks `target.endpoint`: empty, or an `http(s)://host[:port][/path]` URL without credentials;
    /// returns it without a trailing slash.
    static func checkEndpoint(_ endpoint: String) throws(ValueProblem) -> String {
        guard !endpoint.isEmpty else { return "" }
        let lowered = endpoint.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lowered.hasPrefix($0) }) else {
            throw ValueProblem("expected \"\" (AWS) or an http:// or https:// URL such as \"http://127.0.0.1:9000\", got \"\(endpoint)\"")
        }
        let rest = endpoint.dropFirst(scheme.count)
        let authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        guard !authority.contains("@") else { throw ValueProblem("holds credentials; \(awsCredentialsAdvice)", secret: true) }
        guard !authority.isEmpty else {
            throw ValueProblem("expected an http:// or https:// URL with a host, such as \"http://127.0.0.1:9000\", got \"\(endpoint)\"")
        }
        var result = Substring(endpoint)
        while result.hasSuffix("/") { result = result.dropLast() }
        return String(result)
    }

    /// Parses `health.listen`: `host:port` or `[ipv6]:port`, port `0...65535`.
    static func parseListenAddress(_ text: String) throws(ValueProblem) -> Configuration.ListenAddress {
        let expected = "expected host:port such as \"127.0.0.1:8080\" or \"[::1]:8080\", got \"\(text)\""
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ValueProblem(expected) }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":"), host.contains(":") else { throw ValueProblem(expected) }
            portText = after.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ValueProblem(expected) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { throw ValueProblem("\(expected): an IPv6 address goes in brackets, as \"[::1]:8080\"") }
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else { throw ValueProblem(expected) }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), portText.count <= 5,
            let port = Int(portText), (0...65535).contains(port)
        else {
            throw ValueProblem("\(expected): the port must be a number from 0 to 65535")
        }
        return .init(host: String(host), port: port)
    }
}
