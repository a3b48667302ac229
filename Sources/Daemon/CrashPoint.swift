import Foundation

/// Test hook for the exactly-once proof: when `REPLICATORD_CRASH_AT` names a point, the process
/// exits at once (status 97, no cleanup, like `kill -9`) when it gets there. The integration tests
/// crash the daemon at every step of a cycle this way and check that the next run loses and
/// doubles nothing. Unset in production; it changes nothing then.
public enum CrashPoint: String, Sendable, CaseIterable {
    /// Full load: the first table's LOAD files are stored, the checkpoint does not say so yet.
    case afterLoadFilesStored = "after-load-files-stored"
    /// `reload-table`: the checkpoint names the table's new LOAD set; the folder's earlier files are
    /// not removed yet.
    case afterReplacingSetCommitted = "after-replacing-set-committed"
    /// `reload-table`: the folder's earlier files are removed; the request is not.
    case afterReplacedFilesRemoved = "after-replaced-files-removed"
    /// `[catalog] glue_database`: the Glue tables declare the cycle's (or the full load's) layouts,
    /// no file with such a layout is stored yet.
    case afterGlueTablesDeclared = "after-glue-tables-declared"
    /// `[catalog] glue_database` with `iceberg`: a Glue table's `metadata_location` names the new
    /// Iceberg metadata, the checkpoint does not cover it yet.
    case afterGlueIcebergAdvanced = "after-glue-iceberg-advanced"
    /// CDC: the cycle's intent is stored, its first Parquet file is written but not yet stored.
    case afterFileWritten = "after-file-written"
    /// CDC: every file of the cycle is stored, the checkpoint is not.
    case afterFilesStored = "after-files-stored"
    /// `[catalog] iceberg`: a table's manifests, manifest list and `vN.metadata.json` are stored,
    /// its `version-hint.text` is not advanced (full load and CDC; the first table committed).
    case afterIcebergMetadataStored = "after-iceberg-metadata-stored"
    /// `[catalog] iceberg`: a table's `version-hint.text` names the new metadata, the checkpoint
    /// does not cover it yet (full load and CDC; the first table committed).
    case afterIcebergHintAdvanced = "after-iceberg-hint-advanced"
    /// CDC: the checkpoint is stored, the LSN is not confirmed to PostgreSQL.
    case afterStateCommitted = "after-state-committed"

    static let selected: CrashPoint? = ProcessInfo.processInfo.environment["REPLICATORD_CRASH_AT"].flatMap(CrashPoint.init(rawValue:))

    /// Exits the process when `point` is the selected crash point.
    static func reach(_ point: CrashPoint) {
        guard selected == point else { return }
        FileHandle.standardError.write(Data("replicatord: crashing at \(point.rawValue) (REPLICATORD_CRASH_AT)\n".utf8))
        _exit(97)
    }
}
