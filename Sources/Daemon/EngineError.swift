import Replication
import Replication

/// An engine failure: a code that decides what the daemon does (retry, or stop and report), the
/// error that caused it when there was one, and what it was about (a table, an LSN, an object key).
/// Classified by ``ErrorKind/classify(_:)`` on its code, never on its text.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case sourceCheckFailed = "source check failed"
        case stateCorrupt = "checkpoint state unreadable"
        case slotLost = "replication slot lost"
        case wrongCluster = "different PostgreSQL cluster"
        case writeFailed = "writing Parquet failed"
        /// A step of the cycle reported out of order (``CycleStateMachine``): a bug, never data.
        case cycleOrder = "cycle steps out of order"
    }

    /// What the failure was about, when it was about one thing.
    public struct Context: Sendable, Equatable {
        /// `schema.table`.
        public var table: String?
        public var lsn: LSN?
        /// An object key in the store, or a local path.
        public var key: String?
        public init(table: String? = nil, lsn: LSN? = nil, key: String? = nil) {
            self.table = table; self.lsn = lsn; self.key = key
        }
    }

    public var code: Code
    /// What happened, for a person (with the underlying error's text when it helps).
    public var message: String
    /// The error that caused this one, as it was thrown.
    public var underlying: (any Error)?
    public var context: Context

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil, context: Context = .init()) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.context = context
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
