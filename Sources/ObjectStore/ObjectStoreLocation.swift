import AWSRequests
import Foundation
import Logging

/// Where the output goes, from the `[target]` section of the configuration:
///
/// - `url`: `s3://bucket[/prefix]` or `file:///absolute/dir` (required)
/// - `region`: signing region (default `us-east-1`, or `AWS_REGION` when the daemon passes it)
/// - `endpoint`: S3-compatible endpoint `http(s)://host[:port]` (default: AWS)
/// - `path_style`: path-style addressing (default false; true for most S3-compatible stores)
/// - `ca_file`: PEM CA bundle (default: the system's)
/// - `part_size`: multipart part size in bytes (default 8 MiB, minimum 5 MiB)
/// - `parallelism`: parts in flight per upload (default 4)
/// - `sse`: `""`, `"AES256"` or `"aws:kms"`; `sse_kms_key_id` for the latter
/// - `checksum`: `"crc32"` (default), `"crc32+md5"` or `"md5"`: see `S3Checksum`
/// - `narrow_list_prefixes`: see `S3Configuration.narrowListPrefixes` (default: true when the endpoint
///   is on loopback, where the test bed's moto_server runs; listings stay correct either way)
///
/// Credentials never come from here: the environment, the shared files or instance metadata.
public struct ObjectStoreLocation: Sendable, Equatable {
    /// What `target.url` names.
    public var target: TargetURL
    /// Signing region.
    public var region: String
    /// S3-compatible endpoint, nil for AWS.
    public var endpoint: String?
    /// Path-style addressing.
    public var pathStyle: Bool
    /// PEM CA bundle.
    public var caFile: String?
    /// Multipart part size in bytes.
    public var partSize: Int
    /// Parts in flight per upload.
    public var parallelism: Int
    /// Server-side encryption.
    public var serverSideEncryption: ServerSideEncryption?
    /// See `S3Configuration.narrowListPrefixes`.
    public var narrowListPrefixes: Bool
    /// How uploads are checked.
    public var checksum: S3Checksum

    /// Parses `url` (see `TargetURL`) and validates the options.
    public init(
        url: String, region: String = "us-east-1", endpoint: String? = nil, pathStyle: Bool = false,
        caFile: String? = nil, partSize: Int = 8 * 1024 * 1024, parallelism: Int = 4,
        serverSideEncryption: ServerSideEncryption? = nil, narrowListPrefixes: Bool? = nil,
        checksum: S3Checksum = .crc32
    ) throws {
        let target: TargetURL
        do { target = try TargetURL(parsing: url) } catch { throw ObjectStoreError(.configuration, error.description) }
        try self.init(
            target: target, region: region, endpoint: endpoint, pathStyle: pathStyle, caFile: caFile,
            partSize: partSize, parallelism: parallelism, serverSideEncryption: serverSideEncryption,
            narrowListPrefixes: narrowListPrefixes, checksum: checksum)
    }

    /// A location for an already parsed `target`; validates the options.
    public init(
        target: TargetURL, region: String = "us-east-1", endpoint: String? = nil, pathStyle: Bool = false,
        caFile: String? = nil, partSize: Int = 8 * 1024 * 1024, parallelism: Int = 4,
        serverSideEncryption: ServerSideEncryption? = nil, narrowListPrefixes: Bool? = nil,
        checksum: S3Checksum = .crc32
    ) throws {
        self.target = target
        guard partSize >= S3Configuration.minimumPartSize else {
            throw ObjectStoreError(.configuration, "part_size \(partSize) is below the 5 MiB minimum")
        }
        guard parallelism >= 1 && parallelism <= 64 else {
            throw ObjectStoreError(.configuration, "parallelism must be between 1 and 64, got \(parallelism)")
        }
        guard !region.isEmpty else { throw ObjectStoreError(.configuration, "region is empty") }
        self.region = region
        self.endpoint = endpoint.flatMap { $0.isEmpty ? nil : $0 }
        self.pathStyle = pathStyle
        self.caFile = caFile.flatMap { $0.isEmpty ? nil : $0 }
        self.partSize = partSize
        self.parallelism = parallelism
        self.serverSideEncryption = serverSideEncryption
        self.narrowListPrefixes = narrowListPrefixes ?? ObjectStoreLocation.isLoopback(endpoint: self.endpoint)
        self.checksum = checksum
    }

    /// True for `http(s)://127.x.x.x`, `localhost` or `[::1]` endpoints.
    static func isLoopback(endpoint: String?) -> Bool {
        guard let endpoint, let schemeEnd = endpoint.range(of: "://") else { return false }
        var host = endpoint[schemeEnd.upperBound...].prefix { $0 != "/" }
        if host.hasPrefix("[") { return host.hasPrefix("[::1]") }
        host = host.prefix { $0 != ":" }
        return host == "localhost" || host.hasPrefix("127.")
    }

    /// The `sse` / `sse_kms_key_id` keys as a value.
    public static func serverSideEncryption(sse: String?, kmsKeyId: String?) throws -> ServerSideEncryption? {
        switch sse ?? "" {
        case "": return nil
        case "AES256": return .s3
        case "aws:kms": return .kms(keyId: kmsKeyId.flatMap { $0.isEmpty ? nil : $0 })
        default: throw ObjectStoreError(.configuration, "sse must be \"\", \"AES256\" or \"aws:kms\", got \(sse!)")
        }
    }

    /// The store this location names, with its prefix applied. S3 credentials come from `credentials`,
    /// by default the SDKs' chain (environment, shared files with `AWS_PROFILE`, instance metadata).
    public func makeStore(
        logger: Logger, credentials: (any CredentialsProvider)? = nil,
        retry: RetryPolicy = RetryPolicy()
    ) throws -> any ObjectStore {
        switch target {
        case .directory(let path):
            return try LocalDirectoryStore(root: path, logger: logger)
        case .s3(let bucket, _):
            let prefix = target.keyPrefix
            let config = S3Configuration(
                bucket: bucket, region: region, endpoint: endpoint, pathStyle: pathStyle, caFile: caFile,
                partSize: partSize, parallelism: parallelism, serverSideEncryption: serverSideEncryption,
                retry: retry, narrowListPrefixes: narrowListPrefixes,
                checksum: checksum)
            let client = try S3Client(configuration: config, credentials: credentials ?? DefaultCredentialsChain(), logger: logger)
            return S3ObjectStore(client: client, prefix: prefix, logger: logger)
        }
    }
}
