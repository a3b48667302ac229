/// An error from the Iceberg metadata module, with a code, a message that never carries row
/// values, and the underlying cause when there is one.
public struct IcebergError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, coarsely.
    public enum Code: String, Sendable {
        /// A JSON document (table metadata, a schema) could not be parsed.
        case malformedJSON
        /// Table metadata parsed as JSON but does not describe a v2 table we can continue.
        case invalidMetadata
        /// An Avro value does not match its schema, or Avro bytes could not be decoded.
        case avroMismatch
        /// A schema change that Iceberg cannot express (a narrowing, a duplicate or missing name).
        case invalidSchemaChange
        /// A commit that refers to files or snapshots the table does not have.
        case invalidCommit
        /// A compression library reported a failure.
        case compressionFailed
    }

    /// What went wrong, coarsely.
    public var code: Code
    /// What went wrong, without row values.
    public var message: String
    /// The error that caused this one, if any.
    public var underlying: (any Error & Sendable)?

    /// An error with its code, message and cause.
    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// "Iceberg <code>: <message> (<cause>)".
    public var description: String {
        if let underlying { return "Iceberg \(code.rawValue): \(message) (\(underlying))" }
        return "Iceberg \(code.rawValue): \(message)"
    }
}
