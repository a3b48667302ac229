/// A Parquet data file of the table as a manifest describes it: where it is, its size, its row
/// count and its column statistics by field id.
///
/// Spec: https://iceberg.apache.org/spec/ "Manifests", "Data File Fields" (v2).
public struct DataFile: Sendable, Hashable {
    /// The file's full URI (`s3://bucket/prefix/schema/table/LOAD00000001.parquet`).
    public var path: String
    /// The file format as Iceberg names it; our data files are always Parquet.
    public var format: String = "PARQUET"
    /// Rows in the file.
    public var recordCount: Int64
    /// The whole file size in bytes.
    public var fileSizeInBytes: Int64
    /// Bytes on disk per field id (all column chunks of that column, without the footer).
    public var columnSizes: [Int32: Int64] = [:]
    /// Values per field id, nulls included.
    public var valueCounts: [Int32: Int64] = [:]
    /// Nulls per field id.
    public var nullValueCounts: [Int32: Int64] = [:]
    /// NaNs per field id (float and double columns).
    public var nanValueCounts: [Int32: Int64] = [:]
    /// The smallest non-null, non-NaN value per field id.
    public var lowerBounds: [Int32: IcebergLiteral] = [:]
    /// The largest non-null, non-NaN value per field id.
    public var upperBounds: [Int32: IcebergLiteral] = [:]
    /// Row group offsets, ascending.
    public var splitOffsets: [Int64]? = nil

    /// A Parquet file at `path` without column statistics.
    public init(path: String, recordCount: Int64, fileSizeInBytes: Int64) {
        self.path = path
        self.recordCount = recordCount
        self.fileSizeInBytes = fileSizeInBytes
    }
}

extension DataFile {
    /// The file with string and binary bounds cut to `length` characters (bytes), as Iceberg's
    /// default metrics mode `truncate(16)` keeps them: a lower bound becomes its prefix, an upper
    /// bound its prefix with the last character incremented, or is dropped when none exists.
    /// NaN bounds, which the spec forbids, are dropped too.
    public func withTruncatedBounds(length: Int = 16) -> DataFile {
        var f = self
        f.lowerBounds = lowerBounds.filter { !$0.value.isNaN }.mapValues { BoundTruncation.lower($0, length: length) }
        f.upperBounds = upperBounds.filter { !$0.value.isNaN }.compactMapValues { BoundTruncation.upper($0, length: length) }
        return f
    }
}

/// The status of a file in a manifest, relative to the snapshot that wrote the manifest.
public enum ManifestEntryStatus: Int32, Sendable, Hashable {
    case existing = 0
    case added = 1
    case deleted = 2
}

/// One row of a manifest: a data file, and when it was added or removed.
public struct ManifestEntry: Sendable, Hashable {
    /// Added, existing or deleted in the manifest's snapshot.
    public var status: ManifestEntryStatus
    /// The snapshot that added the file (or removed it, for `deleted`).
    public var snapshotID: Int64
    /// The data sequence number of the file: the sequence number of the snapshot that added it.
    public var sequenceNumber: Int64
    /// The sequence number of the snapshot that added the file.
    public var fileSequenceNumber: Int64
    /// The file the entry describes.
    public var dataFile: DataFile

    /// An entry with explicit ids and sequence numbers.
    public init(
        status: ManifestEntryStatus, snapshotID: Int64, sequenceNumber: Int64, fileSequenceNumber: Int64,
        dataFile: DataFile
    ) {
        self.status = status
        self.snapshotID = snapshotID
        self.sequenceNumber = sequenceNumber
        self.fileSequenceNumber = fileSequenceNumber
        self.dataFile = dataFile
    }
}
