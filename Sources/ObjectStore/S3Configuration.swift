import AWSRequests

/// How to reach one S3 bucket.
public struct S3Configuration: Sendable {
    /// Bucket name.
    public var bucket: String
    /// Region for signing and the default endpoint, e.g. `us-east-1`.
    public var region: String
    /// `scheme://host[:port]` of an S3-compatible endpoint; nil for AWS (`https://s3.REGION.amazonaws.com`).
    public var endpoint: String?
    /// Path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`).
    public var pathStyle: Bool
    /// PEM CA bundle to trust instead of the system's.
    public var caFile: String?
    /// Multipart part size in bytes (default 8 MiB, at least 5 MiB).
    public var partSize: Int
    /// Parts uploaded at once by one upload.
    public var parallelism: Int
    /// Server-side encryption to request.
    public var serverSideEncryption: ServerSideEncryption?
    /// Retries of each request.
    public var retry: RetryPolicy
    /// Check part and object ETags against the MD5 of what was sent (off for stores whose ETags are not MD5s).
    public var verifyETags: Bool
    /// Send listings only the start of the prefix up to its first character outside `[A-Za-z0-9-._~ ]` and
    /// filter the rest here. For servers that check signatures over a re-encoded URL (moto_server
    /// decodes `%2F` in the query before checking, so any `prefix=a/b` fails with SignatureDoesNotMatch).
    /// Off by default: on AWS it only makes listings longer.
    public var narrowListPrefixes: Bool
    /// Checksum sent with each object and part besides `Content-MD5`, and checked against S3's answer.
    public var checksum: S3Checksum

    /// A configuration with the documented defaults.
    public init(
        bucket: String, region: String = "us-east-1", endpoint: String? = nil, pathStyle: Bool = false,
        caFile: String? = nil, partSize: Int = 8 * 1024 * 1024, parallelism: Int = 4,
        serverSideEncryption: ServerSideEncryption? = nil, retry: RetryPolicy = RetryPolicy(), verifyETags: Bool = true,
        narrowListPrefixes: Bool = false, checksum: S3Checksum = .crc32
    ) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.pathStyle = pathStyle
        self.caFile = caFile
        self.partSize = partSize
        self.parallelism = parallelism
        self.serverSideEncryption = serverSideEncryption
        self.retry = retry
        self.verifyETags = verifyETags
        self.narrowListPrefixes = narrowListPrefixes
        self.checksum = checksum
    }

    /// Smallest part S3 accepts (all but the last).
    public static let minimumPartSize = 5 * 1024 * 1024
}

/// Server-side encryption headers.
public enum ServerSideEncryption: Sendable, Equatable {
    /// SSE-S3: `x-amz-server-side-encryption: AES256`.
    case s3
    /// SSE-KMS with an optional key id (the account's default KMS key when nil).
    case kms(keyId: String?)

    var headers: [(String, String)] {
        switch self {
        case .s3: return [("x-amz-server-side-encryption", "AES256")]
        case .kms(let keyId):
            var h = [("x-amz-server-side-encryption", "aws:kms")]
            if let keyId { h.append(("x-amz-server-side-encryption-aws-kms-key-id", keyId)) }
            return h
        }
    }
}

/// How uploads are checked end to end
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
/// PutObject always sends `Content-MD5` and checks the ETag (small objects: the cost is nothing).
public enum S3Checksum: String, Sendable, Equatable {
    // Raw values are the `checksum` configuration values.
    /// Parts carry `x-amz-checksum-crc32` (S3 verifies it and answers it back; we compare), created with
    /// `x-amz-checksum-algorithm: CRC32`, as current AWS SDKs do. No MD5 of parts: it is the costliest
    /// hash (11 ms per 8 MiB here). PutObject also sends the CRC-32.
    case crc32
    /// Parts carry both the CRC-32 and `Content-MD5`, and each part's ETag is checked against its MD5.
    case crc32AndMD5 = "crc32+md5"
    /// `Content-MD5` only and ETags checked against it, for stores that reject the flexible checksum
    /// headers.
    case md5

    var sendsCRC32: Bool { self != .md5 }
    var checksPartMD5: Bool { self != .crc32 }
}
