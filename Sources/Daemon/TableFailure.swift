import Foundation
import ObjectStore
import Replication

/// A failure in reading, encoding or storing one table's rows that is the table's own: the table
/// goes to state `error` (in `status`, /health, /metrics and the log) while every other table goes
/// on and the slot keeps advancing; `replicatord reload-table` loads it again. Any other failure
/// (the source or the store unreachable, the checkpoint not writable) fails the cycle, which is retried.
struct TableFailure: Error, CustomStringConvertible {
    /// `schema.table`.
    var table: String
    var underlying: any Error

    var description: String { "\(underlying)" }

    /// Runs `body`, which works on `table`'s rows only, turning a failure that is the table's own
    /// into a ``TableFailure``.
    static func scoped<T>(_ table: String, _ body: () throws -> T) throws -> T {
        do {
            try injectedRefusal(table)
            return try body()
        } catch let error where isTableOwn(error) {
            throw TableFailure(table: table, underlying: error)
        }
    }

    /// Whether a failure while working on one table's rows is that table's own: a value its mapping
    /// cannot take, a file the writer refuses, an object key the store refuses (access denied or
    /// an invalid request for that key; a store refusing everything fails the checkpoint first).
    static func isTableOwn(_ error: any Error) -> Bool {
        switch error {
        case is TableFailure, is ValueDecodingError, is InjectedRefusal: true
        case let parquet as ParquetError:
            // A local file the writer could not write (the spool's disk full, an I/O error) is the
            // machine's, not the table's: the cycle fails and is retried. A store refusing the
            // table's key is judged as the store's error below.
            switch parquet.underlying {
            case is ParquetSystemError: false
            case let underlying?: isTableOwn(underlying)
            case nil: true
            }
        case let store as ObjectStoreError:
            // A key of the table's files; the checkpoint's keys (`_replicatord/`) are the cycle's.
            store.key.map { !$0.contains("_replicatord/") } == true && (store.code == .accessDenied || store.code == .invalidRequest)
        default: false
        }
    }

    /// Test hook, like ``CrashPoint``: `REPLICATORD_REFUSE_TABLE=schema.table` makes every write of
    /// that table's files fail, as a store that refuses its path would. Unset in production.
    static let refusedTable = ProcessInfo.processInfo.environment["REPLICATORD_REFUSE_TABLE"]

    struct InjectedRefusal: Error, CustomStringConvertible {
        var table: String
        var description: String { "writing \(table) refused (REPLICATORD_REFUSE_TABLE)" }
    }

    static func injectedRefusal(_ table: String) throws {
        if let refused = refusedTable, refused == table { throw InjectedRefusal(table: table) }
    }
}
