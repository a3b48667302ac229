import AWSRequests
import Foundation
import Logging

/// The S3 REST operations replicatord uses, signed with SigV4 (payload hashes signed) and retried with
/// backoff; https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
///
/// Keys given here are full S3 keys (no prefix handling; `S3ObjectStore` does that).
public struct S3Client: Sendable {
    /// The bucket and how to reach it.
    public let configuration: S3Configuration
    let credentials: any CredentialsProvider
    let transport: any HTTPTransport
    let logger: Logger
    let signer: SigV4Signer
    let now: @Sendable () -> Date
    /// scheme://host[:port] requests go to (bucket included when virtual-hosted).
    let baseURL: String
    /// Host header value.
    let host: String
    /// Path prefix: `/bucket` for path-style, empty for virtual-hosted.
    let bucketPath: String

    /// A client for `configuration.bucket`, signing with credentials from `credentials`.
    public init(configuration: S3Configuration, credentials: any CredentialsProvider, logger: Logger) throws {
        try self.init(
            configuration: configuration, credentials: credentials, logger: logger,
            transport: CurlTransport(options: CurlTransportOptions(caFile: configuration.caFile)))
    }

    package init(
        configuration: S3Configuration, credentials: any CredentialsProvider, logger: Logger,
        transport: any HTTPTransport, now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard !configuration.bucket.isEmpty, !configuration.bucket.contains("/") else {
            throw ObjectStoreError(.configuration, "invalid bucket name \"\(configuration.bucket)\"")
        }
        guard configuration.partSize >= S3Configuration.minimumPartSize else {
            throw ObjectStoreError(.configuration, "part size \(configuration.partSize) is below S3's minimum of 5 MiB")
        }
        guard configuration.parallelism >= 1 else {
            throw ObjectStoreError(.configuration, "parallelism must be at least 1")
        }
        self.configuration = configuration
        self.credentials = credentials
        self.transport = transport
        self.logger = logger
        self.now = now
        signer = SigV4Signer(region: configuration.region, service: "s3")
        var endpoint = configuration.endpoint.flatMap { $0.isEmpty ? nil : $0 } ?? "https://s3.\(configuration.region).amazonaws.com"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard let schemeEnd = endpoint.range(of: "://"),
            ["http", "https"].contains(endpoint[..<schemeEnd.lowerBound].lowercased())
        else {
            throw ObjectStoreError(.configuration, "endpoint must be http://host[:port] or https://host[:port], got \(endpoint)")
        }
        let scheme = String(endpoint[..<schemeEnd.lowerBound]).lowercased()
        let endpointHost = String(endpoint[schemeEnd.upperBound...])
        guard !endpointHost.isEmpty, !endpointHost.contains("/") else {
            throw ObjectStoreError(.configuration, "endpoint must not have a path: \(endpoint)")
        }
        // The Host header omits the scheme's default port, as clients send it and servers sign it.
        func stripDefaultPort(_ h: String) -> String {
            if scheme == "https" && h.hasSuffix(":443") { return String(h.dropLast(4)) }
            if scheme == "http" && h.hasSuffix(":80") { return String(h.dropLast(3)) }
            return h
        }
        if configuration.pathStyle {
            host = stripDefaultPort(endpointHost)
            bucketPath = "/" + configuration.bucket
        } else {
            host = stripDefaultPort(configuration.bucket + "." + endpointHost)
            bucketPath = ""
        }
        baseURL = scheme + "://" + host
    }
}
