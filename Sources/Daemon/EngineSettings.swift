import Foundation
import Replication

/// What the replication engine needs to know, taken from the ``Configuration``.
public struct EngineSettings: Sendable {
    /// libpq conninfo of the source (no password: that comes the libpq way).
    public var conninfo: String
    public var publication: String
    public var slot: String
    /// `full-load-and-cdc`, `full-load` or `cdc`, as DMS names them.
    public var migrationType: MigrationType = .fullLoadAndCDC
    /// A LOAD file is closed and the next begun once it reaches this size.
    public var maxFileBytes: Int64 = 1 << 30
    /// Connections reading at once during the full load, each a whole table or a page range of one.
    public var parallelTables: Int = 2
    /// A table of at least twice this many heap pages is read as page ranges by several of the
    /// ``parallelTables`` connections at once (PostgreSQL 14+); default 8192 pages (64 MiB).
    public var minRangePages = 8_192
    /// The full load's readers each buffer a row group of the file they write: its row groups are
    /// cut at `[parquet] row_group_mib` or this budget shared by the readers, whichever is smaller
    /// (peak RSS under 200 MiB with two readers uploading 8 MiB parts four at a time). Default 16 MiB:
    /// with two readers, row groups of about 125,000 rows of the reference table.
    public var fullLoadRowGroupBudget = 16 << 20
    /// DMS's `IncludeOpForFullLoad`: an `Op` column of `I` first in LOAD files.
    public var includeOpForFullLoad = false
    /// `[catalog] iceberg`: keep an Iceberg v2 table over each table folder, one snapshot per cycle.
    public var iceberg = false
    /// The target as Iceberg metadata names files: `s3://bucket/prefix` or an absolute directory
    /// path (Iceberg locations and data file paths are this, `/`, the object key).
    public var icebergLocation = ""
    /// `[catalog] glue_database` and its region and endpoint: nil leaves the Glue catalog alone.
    public var glue: GlueCatalogSync.Target?
    /// `[catalog] iceberg_snapshot_retention` in seconds: older snapshots are expired.
    public var icebergSnapshotRetentionSeconds: Int64 = 5 * 86_400
    /// Parquet codec, level, row group size and page version.
    public var parquet: ParquetFileOptions = {
        var options = ParquetFileOptions()
        options.seqColumn = "_seq"
        options.commitTimeColumn = "_commit_ts"
        return options
    }()
    /// DMS's date partitioning (`[output] date_partition`): CDC files in date folders; nil: off.
    public var datePartition: DatePartition?
    /// Iceberg tables whose leftover metadata this engine has looked for (once per table and process).
    public let icebergMetadataSwept = FirstTimes()
    /// Date-folder partitions declared in Glue by this engine (kept so a folder costs one call).
    public let declaredGluePartitions = GlueCatalogSync.DeclaredPartitions()
    /// DMS's `CdcInsertsOnly` / `CdcInsertsAndUpdates`: which changes CDC files hold.
    public var writtenChanges: WrittenChanges = .all
    /// DMS's `CdcMinFileSize` / `CdcMaxBatchInterval`: when a table's changes are held.
    public var batching = CDCBatching()
    /// A warning is logged when the slot retains more WAL than this.
    public var retainedWALWarnBytes: Int64 = 4 << 30
    /// Local scratch space: CDC segments larger than ``cdcSpillRows`` are written here first.
    public var spoolDirectory = FileManager.default.temporaryDirectory.path
    /// A table's changes in a cycle move from memory to a spool file past this many rows.
    public var cdcSpillRows = 50_000
    /// Bytes handed to the store at a time (the multipart part size).
    public var uploadChunkBytes = 8 << 20

    public init(conninfo: String, publication: String, slot: String) {
        self.conninfo = conninfo
        self.publication = publication
        self.slot = slot
    }
}
