/// How a `ParquetWriter` encodes, compresses and cuts its output; every default is documented.
public struct ParquetWriterOptions: Sendable {
    /// The data page format.
    public enum DataPageVersion: Sendable {
        /// DATA_PAGE: levels and values compressed together (the most widely read).
        case v1
        /// DATA_PAGE_V2: levels uncompressed before the compressed values; pages hold whole rows.
        case v2
    }

    /// Page compression. Default: ZSTD level 1.
    public var codec: ParquetCodec = .zstd
    /// Whether columns start dictionary-encoded (not BOOLEAN). Default: true.
    public var dictionaryEnabled = true
    /// A chunk whose dictionary page body passes this many bytes falls back to PLAIN. Default: 1 MiB.
    public var dictionaryPageSizeLimit = 1 << 20
    /// A page is cut at the first row boundary after its encoded size reaches this. Default: 1 MiB.
    public var dataPageSize = 1 << 20
    /// A row group is cut at the first row boundary after its buffered bytes reach this. Default: 128 MiB.
    public var rowGroupByteLimit = 128 << 20
    /// A row group is cut after this many rows. Default: 1,048,576 (pyarrow's default).
    public var rowGroupRowLimit = 1_048_576
    /// Default: `.v1`.
    public var dataPageVersion: DataPageVersion = .v1
    /// Key-value pairs stored in the footer. Default: none.
    public var keyValueMetadata: [(key: String, value: String)] = []
    /// The version in `created_by` ("replicatord version X"). Default: "unknown".
    public var version: String = "unknown"

    public init() {}

    /// The footer's `created_by`.
    public var createdBy: String { "replicatord version \(version)" }
}

/// What `ParquetWriter.close()` reports.
public struct ParquetWriteSummary: Sendable, Hashable {
    /// Rows written.
    public var rows: Int64
    /// Row groups written.
    public var rowGroups: Int
    /// Bytes sent to the sink, footer included: the file's size.
    public var bytesWritten: Int64
    /// Each leaf column's statistics over the whole file, in schema order (empty for a file
    /// without rows).
    public var columns: [ParquetColumnSummary] = []
}
