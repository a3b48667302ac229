/// Where an AWS service is reached: `scheme://host[:port]`, the host as the `Host` header signs it.
public struct AWSEndpoint: Sendable, Equatable {
    /// `http` or `https`.
    public let scheme: String
    /// Host (and port unless it is the scheme's default), as sent in `Host`.
    public let host: String

    /// `scheme://host` with no trailing slash.
    public var baseURL: String { scheme + "://" + host }

    /// Parses `url` (`http(s)://host[:port]`, one trailing slash allowed); nil or empty means
    /// `https://<service>.<region>.amazonaws.com`.
    public init(url: String?, service: String, region: String) throws {
        var endpoint = url.flatMap { $0.isEmpty ? nil : $0 } ?? "https://\(service).\(region).amazonaws.com"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard let schemeEnd = endpoint.range(of: "://"),
            ["http", "https"].contains(endpoint[..<schemeEnd.lowerBound].lowercased())
        else {
            throw AWSServiceError(
                .configuration, "endpoint must be http://host[:port] or https://host[:port], got \(endpoint)",
                service: service)
        }
        let scheme = String(endpoint[..<schemeEnd.lowerBound]).lowercased()
        var host = String(endpoint[schemeEnd.upperBound...])
        guard !host.isEmpty, !host.contains("/"), !host.contains("@") else {
            throw AWSServiceError(
                .configuration, "endpoint must be http(s)://host[:port] with no path or user: \(endpoint)",
                service: service)
        }
        // The Host header omits the scheme's default port, as clients send it and servers sign it.
        if scheme == "https" && host.hasSuffix(":443") { host.removeLast(4) }
        if scheme == "http" && host.hasSuffix(":80") { host.removeLast(3) }
        self.scheme = scheme
        self.host = host
    }
}
