import Replication
import Synchronization

/// The column statistics of the files a cycle wrote, by object key, recorded by the writer
/// threads for the cycle's Iceberg commit (its manifests carry them).
final class WrittenFileStatistics: Sendable {
    private let byKey = Mutex<[String: [ParquetColumnSummary]]>([:])

    /// Records the statistics of the file stored at `key`.
    func record(_ statistics: [ParquetColumnSummary], of key: String) { byKey.withLock { $0[key] = statistics } }

    /// The statistics of the file at `key` (none when it was not recorded).
    func statistics(of key: String) -> [ParquetColumnSummary] { byKey.withLock { $0[key] ?? [] } }
}
