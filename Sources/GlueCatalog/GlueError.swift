import AWSRequests

/// A failed Glue call, by what the caller does about it; the full `AWSServiceError` is kept.
public struct GlueError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Sendable {
        /// The database or table does not exist (`EntityNotFoundException`).
        case entityNotFound
        /// The database or table exists already (`AlreadyExistsException`).
        case alreadyExists
        /// Another writer changed the table since it was read (`ConcurrentModificationException`, or a
        /// `VersionId` that is not the current one): read it again and retry.
        case concurrentModification
        /// The identity lacks a Glue permission, or its credentials are refused.
        case accessDenied
        /// The input is refused (`InvalidInputException`, `ResourceNumberLimitExceededException`, ...).
        case invalidInput
        /// Glue is unreachable or kept failing (after retries), or no credentials were found.
        case unavailable
    }

    /// The kind of failure.
    public var code: Code
    /// The operation, e.g. `UpdateTable`.
    public var operation: String
    /// What it was about: `database` or `database.table`.
    public var entity: String
    /// The call's error, whole.
    public var underlying: AWSServiceError

    /// An error from a Glue answer.
    public init(operation: String, entity: String, _ underlying: AWSServiceError) {
        self.operation = operation
        self.entity = entity
        self.underlying = underlying
        code =
            switch (underlying.code, underlying.awsCode ?? "") {
            case (_, "EntityNotFoundException"): .entityNotFound
            case (_, "AlreadyExistsException"): .alreadyExists
            case (_, "ConcurrentModificationException"), (_, "VersionMismatchException"): .concurrentModification
            case (.accessDenied, _): .accessDenied
            case (.rejected, _), (.configuration, _), (.malformedResponse, _): .invalidInput
            default: .unavailable
            }
    }

    public var description: String {
        var s = "glue \(operation) \(entity): \(code.rawValue): \(underlying.message)"
        if let awsCode = underlying.awsCode { s += " (\(awsCode))" }
        if code == .accessDenied { s += "; the identity needs glue:\(operation) on the database and its tables" }
        return s
    }
}
