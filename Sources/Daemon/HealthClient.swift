import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// `replicatord status` asks the running service for its `/health` body: a plain HTTP/1.0 GET on
/// a loopback socket, bounded in time, so the command needs nothing but the configuration.
public enum HealthClient {
    /// What the service answered.
    public struct Answer: Sendable {
        public var status: Int
        public var report: HealthReport
    }

    /// GET `/health` from `host:port` (a wildcard address means this host); nil when nothing
    /// answers within `timeoutSeconds` or the answer is not a health body.
    public static func fetch(host: String, port: Int, timeoutSeconds: Int = 3) -> Answer? {
        let address = host == "0.0.0.0" || host.isEmpty ? "127.0.0.1" : host == "::" ? "::1" : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address, String(port), &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { return nil }
        let request = Array("GET /health HTTP/1.0\r\nHost: \(address):\(port)\r\nAccept: application/json\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var expected: Int?
        while response.count < 64 << 20 {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response += buffer[0..<n]
            // The server may keep the connection open after an HTTP/1.0 answer: stop at the end
            // of the body its Content-Length announces, not at the receive timeout.
            if expected == nil { expected = expectedLength(response) }
            if let expected, response.count >= expected { break }
        }
        return parse(response)
    }

    /// The whole response's length (head and body) once its head is in `response` and names a
    /// Content-Length; nil before that or without one.
    static func expectedLength(_ response: [UInt8]) -> Int? {
        guard let end = headEnd(response) else { return nil }
        let head = String(decoding: response[..<end], as: UTF8.self).lowercased()
        for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
            if let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) { return end + 4 + length }
        }
        return nil
    }

    /// Where the head ends (the index of its blank line's CR LF CR LF).
    static func headEnd(_ response: [UInt8]) -> Int? {
        guard response.count >= 4 else { return nil }
        for i in 0...(response.count - 4) where response[i] == 13 && response[i + 1] == 10 && response[i + 2] == 13 && response[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Splits an HTTP/1.x response into its status code and decoded health body.
    static func parse(_ response: [UInt8]) -> Answer? {
        guard let end = headEnd(response) else { return nil }
        let head = String(decoding: response[..<end], as: UTF8.self)
        let statusLine = head.split(separator: "\r\n").first.map(String.init) ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else { return nil }
        let body = Data(response[(end + 4)...])
        guard let report = try? JSONDecoder().decode(HealthReport.self, from: body) else { return nil }
        return Answer(status: status, report: report)
    }
}
