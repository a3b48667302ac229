import CLibPQ

/// Helpers for libpq connection strings (`key=value ...` or `postgresql://` URIs).
public enum ConnInfo {
    /// Checks a conninfo with libpq's own parser and returns it with any password removed, for logs
    /// and error messages. Throws a ``PGError`` naming what libpq could not parse.
    public static func redacted(_ conninfo: String) throws -> String {
        var errmsg: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errmsg) else {
            let message = errmsg.map { String(cString: $0) } ?? "cannot parse the connection string"
            if let errmsg { PQfreemem(errmsg) }
            throw PGError(.connectionFailed, "invalid conninfo: \(message)")
        }
        defer { PQconninfoFree(options) }
        var parts: [String] = []
        var option = options
        while let keyword = option.pointee.keyword {
            let key = String(cString: keyword)
            if let value = option.pointee.val, key != "password" {
                parts.append("\(key)=\(String(cString: value))")
            }
            option += 1
        }
        return parts.joined(separator: " ")
    }
}
