import Foundation
import Parquet

/// A CDC segment's rows moved out of memory: a Parquet file being written in the spool directory
/// with the CDC file layout (`Op`, the table's columns, `_unchanged_toast`). At the end of the
/// cycle the file is finished and uploaded under its final name, then removed.
public final class SegmentSpool: @unchecked Sendable {
    /// The local file.
    public let path: String
    private let sink: ParquetFileSink
    private let writer: ParquetTableWriter
    /// Rows written to the file.
    public private(set) var rows = 0

    /// Creates `<directory>/replicatord-<uuid>.parquet` for a segment of `relation`.
    public init(directory: String, relation: StreamRelation, options: ParquetFileOptions) throws {
        path = (directory as NSString).appendingPathComponent("replicatord-cdc-\(UUID().uuidString).parquet")
        sink = try ParquetFileSink(path: path)
        writer = try ParquetTableWriter(
            columns: ParquetTableWriter.columns(for: relation),
            opColumn: true, unchangedToastColumn: true, options: options, sink: sink)
    }

    /// Bytes of the file so far, written and buffered.
    public var bytes: Int64 { writer.estimatedFileBytes }

    /// Moves the segment's in-memory rows to the file.
    public func spill(_ segment: inout ChangeSegment) throws {
        try writer.append(segment.values, ops: segment.ops, unchangedToast: segment.unchangedToast, order: .changes(segment.order))
        rows += segment.rowCount
        segment.removeRowsInMemory()
    }

    /// Writes the rest of the segment and the footer, and syncs the file.
    public func finish(_ segment: inout ChangeSegment) throws {
        try spill(&segment)
        try writer.finish()
        try sink.sync()
        try sink.close()
    }

    /// What the finished file holds (each column's statistics); nil until ``finish(_:)``.
    public var written: ParquetWriteSummary? { writer.written }

    /// Removes the file.
    public func remove() { unlink(path) }
}
