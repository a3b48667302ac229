/// An object store failure, with the context needed to act on it. Never carries secrets or object bytes.
public struct ObjectStoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure; switch on this, not on `message`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// The object (or upload) does not exist.
        public static let notFound = Code("notFound")
        /// The credentials are refused: bad secret, unknown key, or not allowed.
        public static let accessDenied = Code("accessDenied")
        /// The bucket does not exist.
        public static let noSuchBucket = Code("noSuchBucket")
        /// The request is wrong in a way retrying cannot fix (bad region, invalid argument, entity too small, ...).
        public static let invalidRequest = Code("invalidRequest")
        /// Retries ran out on throttling, 5xx answers or network failures.
        public static let unavailable = Code("unavailable")
        /// The network failed (connection refused or reset, timeout, TLS); retryable.
        public static let transport = Code("transport")
        /// Bytes stored differ from bytes sent (MD5/ETag mismatch).
        public static let integrity = Code("integrity")
        /// S3 answered something we cannot parse.
        public static let malformedResponse = Code("malformedResponse")
        /// No credentials could be found or refreshed.
        public static let credentials = Code("credentials")
        /// The configuration is invalid (URL, region, part size, ...).
        public static let configuration = Code("configuration")
        /// A local file operation failed.
        public static let io = Code("io")
        /// The upload was used after complete or abort, or after it failed.
        public static let uploadClosed = Code("uploadClosed")
    }

    /// The kind of failure.
    public var code: Code
    /// Human-readable detail.
    public var message: String
    /// The bucket, when S3 is involved.
    public var bucket: String?
    /// The key (as sent to the store, prefix included), when an object is involved.
    public var key: String?
    /// The operation, e.g. `PutObject`.
    public var operation: String?
    /// The HTTP status, when there was an answer.
    public var httpStatus: Int?
    /// S3's own error code (`AccessDenied`, `SlowDown`, ...), when there was one.
    public var s3Code: String?
    /// S3's request id, for support cases.
    public var requestId: String?
    /// How many attempts were made.
    public var attempts: Int?
    /// The underlying error, kept whole.
    public var underlying: (any Error & Sendable)?

    /// An error with its context.
    public init(
        _ code: Code, _ message: String, bucket: String? = nil, key: String? = nil, operation: String? = nil,
        httpStatus: Int? = nil, s3Code: String? = nil, requestId: String? = nil, attempts: Int? = nil,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.bucket = bucket
        self.key = key
        self.operation = operation
        self.httpStatus = httpStatus
        self.s3Code = s3Code
        self.requestId = requestId
        self.attempts = attempts
        self.underlying = underlying
    }

    public var description: String {
        var parts: [String] = []
        if let operation { parts.append(operation) }
        if let bucket { parts.append("bucket=\(bucket)") }
        if let key { parts.append("key=\(key)") }
        var s = "\(code): \(message)"
        if !parts.isEmpty { s += " [" + parts.joined(separator: " ") + "]" }
        if let httpStatus { s += " http=\(httpStatus)" }
        if let s3Code { s += " s3code=\(s3Code)" }
        if let requestId { s += " request-id=\(requestId)" }
        if let attempts { s += " attempts=\(attempts)" }
        if let underlying { s += " (cause: \(underlying))" }
        return s
    }
}
