/// A failed call to an AWS service other than S3 (Glue, CloudWatch, ...), with the context needed to act
/// on it. Never carries secrets or request bodies.
public struct AWSServiceError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure; switch on this (or on `awsCode` for a service's own codes), not on `message`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        public var description: String { raw }

        /// The credentials are refused, or the identity lacks the permission (`AccessDeniedException`, 403).
        public static let accessDenied = Code("accessDenied")
        /// The service refused the request as it is (a named entity missing, a conflict, a bad argument);
        /// `awsCode` says which.
        public static let rejected = Code("rejected")
        /// Retries ran out on throttling, 5xx answers or network failures.
        public static let unavailable = Code("unavailable")
        /// The network failed (connection refused or reset, timeout, TLS) in a way retrying cannot fix.
        public static let transport = Code("transport")
        /// No credentials could be found or refreshed.
        public static let credentials = Code("credentials")
        /// The endpoint or region is invalid.
        public static let configuration = Code("configuration")
        /// The service answered something we cannot parse.
        public static let malformedResponse = Code("malformedResponse")
    }

    /// The kind of failure.
    public var code: Code
    /// Human-readable detail (the service's message when it sent one).
    public var message: String
    /// The signing name of the service, e.g. `glue`.
    public var service: String
    /// The operation, e.g. `CreateTable`.
    public var operation: String?
    /// The HTTP status, when there was an answer.
    public var httpStatus: Int?
    /// The service's own error code without its namespace, e.g. `EntityNotFoundException`.
    public var awsCode: String?
    /// The request id, for support cases.
    public var requestId: String?
    /// How many attempts were made.
    public var attempts: Int?
    /// The underlying error, kept whole.
    public var underlying: (any Error & Sendable)?

    /// An error with its context.
    public init(
        _ code: Code, _ message: String, service: String, operation: String? = nil, httpStatus: Int? = nil,
        awsCode: String? = nil, requestId: String? = nil, attempts: Int? = nil,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.service = service
        self.operation = operation
        self.httpStatus = httpStatus
        self.awsCode = awsCode
        self.requestId = requestId
        self.attempts = attempts
        self.underlying = underlying
    }

    public var description: String {
        var s = "\(service)"
        if let operation { s += " \(operation)" }
        s += ": \(code): \(message)"
        if let httpStatus { s += " http=\(httpStatus)" }
        if let awsCode { s += " code=\(awsCode)" }
        if let requestId { s += " request-id=\(requestId)" }
        if let attempts { s += " attempts=\(attempts)" }
        if let underlying { s += " (cause: \(underlying))" }
        return s
    }
}
