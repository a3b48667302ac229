/// One column's statistics over a whole file: what a table format's manifest records about a
/// data file (Iceberg's `value_counts`, `null_value_counts`, `lower_bounds`, `upper_bounds`,
/// `column_sizes`), gathered from the row groups' column chunk statistics when the file closes.
public struct ParquetColumnSummary: Sendable, Hashable {
    /// The column's path in the schema (one name for a top-level primitive column; a LIST's
    /// element has its list's name first).
    public var path: [String]
    /// The column's physical type.
    public var physicalType: ParquetPhysicalType
    /// Values written, nulls included (for a LIST element column: levels, not rows).
    public var valueCount: Int64
    /// Nulls written.
    public var nullCount: Int64
    /// The column's chunks' bytes in the file, compressed.
    public var compressedBytes: Int64
    /// The smallest non-null value, PLAIN-encoded as in the footer's statistics (a byte array
    /// without its length); nil when no row group had bounds for its values (all null, or a
    /// value longer than the statistics keep).
    public var min: [UInt8]?
    /// The largest non-null value, encoded as ``min``.
    public var max: [UInt8]?

    /// A column's statistics (the writer makes them; tests and other writers' files too).
    public init(
        path: [String], physicalType: ParquetPhysicalType, valueCount: Int64, nullCount: Int64,
        compressedBytes: Int64, min: [UInt8]?, max: [UInt8]?
    ) {
        self.path = path
        self.physicalType = physicalType
        self.valueCount = valueCount
        self.nullCount = nullCount
        self.compressedBytes = compressedBytes
        self.min = min
        self.max = max
    }
}

extension ParquetColumnSummary {
    /// The file-wide statistics of column `index` over `rowGroups`: counts summed, bounds the
    /// extremes of the chunks' bounds in the column's order, nil when a chunk that holds
    /// non-null values has none (its values were not all seen).
    static func merging(_ rowGroups: [RowGroupMetadata], column index: Int, order: ColumnStatistics.ByteOrder) -> ParquetColumnSummary? {
        guard let first = rowGroups.first?.columns[index] else { return nil }
        var summary = ParquetColumnSummary(
            path: first.path, physicalType: first.physicalType, valueCount: 0, nullCount: 0,
            compressedBytes: 0, min: nil, max: nil)
        var boundsKnown = true
        for group in rowGroups {
            let chunk = group.columns[index]
            summary.valueCount += chunk.numValues
            summary.nullCount += chunk.statistics.nullCount
            summary.compressedBytes += chunk.totalCompressedSize
            guard let lo = chunk.statistics.minValue, let hi = chunk.statistics.maxValue else {
                // A chunk of nulls only has nothing to bound; any other chunk without bounds
                // makes the file's bounds unknown. (For a LIST's element the levels count empty
                // lists too, so its bounds are dropped only when a chunk has no bounds at all.)
                if chunk.statistics.nullCount < chunk.numValues && summary.path.count == 1 { boundsKnown = false }
                continue
            }
            if summary.min.map({ Self.less(lo, $0, type: first.physicalType, order: order) }) ?? true { summary.min = lo }
            if summary.max.map({ Self.less($0, hi, type: first.physicalType, order: order) }) ?? true { summary.max = hi }
        }
        if !boundsKnown { summary.min = nil; summary.max = nil }
        return summary
    }

    /// Whether PLAIN-encoded `a` orders before `b` in the column's statistics order.
    static func less(_ a: [UInt8], _ b: [UInt8], type: ParquetPhysicalType, order: ColumnStatistics.ByteOrder) -> Bool {
        func int(_ v: [UInt8]) -> Int64 {
            var u: UInt64 = 0
            for (k, byte) in v.enumerated() { u |= UInt64(byte) << UInt64(8 * k) }
            if v.count == 4 { return Int64(Int32(truncatingIfNeeded: u)) }
            return Int64(bitPattern: u)
        }
        switch type {
        case .boolean, .int32, .int64:
            return int(a) < int(b)
        case .float:
            return Float(bitPattern: UInt32(truncatingIfNeeded: int(a))) < Float(bitPattern: UInt32(truncatingIfNeeded: int(b)))
        case .double:
            return Double(bitPattern: UInt64(bitPattern: int(a))) < Double(bitPattern: UInt64(bitPattern: int(b)))
        case .byteArray, .fixedLenByteArray:
            return a.withUnsafeBytes { x in b.withUnsafeBytes { y in ColumnStatistics.compare(x, y, order: order) < 0 } }
        }
    }
}
