/// No AWS credentials could be found or refreshed. Never carries a secret.
public struct AWSCredentialsError: Error, Sendable, CustomStringConvertible {
    /// Which sources were tried and why each failed.
    public var message: String
    /// The underlying error (an instance metadata transport failure), kept whole.
    public var underlying: (any Error & Sendable)?

    /// An error saying why there are no credentials.
    public init(_ message: String, underlying: (any Error & Sendable)? = nil) {
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        "credentials: \(message)" + (underlying.map { " (cause: \($0))" } ?? "")
    }
}
