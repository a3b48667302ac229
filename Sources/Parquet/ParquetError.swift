/// An error from the Parquet writer, with a code, a message that never carries row values,
/// and the underlying cause when there is one.
public struct ParquetError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, coarsely.
    public enum Code: String, Sendable {
        /// The schema cannot be written (duplicate names, bad decimal, ...).
        case invalidSchema
        /// A row did not give every column exactly one value, or a value does not fit its column.
        case invalidRow
        /// A compression library reported a failure.
        case compressionFailed
        /// The sink refused bytes.
        case sinkFailed
        /// The writer was used after `close()`.
        case closed
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "Parquet \(code.rawValue): \(message) (\(underlying))" }
        return "Parquet \(code.rawValue): \(message)"
    }
}
