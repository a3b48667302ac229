import Iceberg
import Replication

/// The column statistics of a data file as an Iceberg manifest records them (value counts,
/// null counts, column sizes, lower and upper bounds by field id), taken from the statistics
/// the Parquet writer gathered while writing the file, so that engines skip files whose bounds
/// exclude a filter.
///
/// Spec: https://iceberg.apache.org/spec/ "Data File Fields" (`value_counts`, `lower_bounds`, ...)
/// and "Appendix D: Single-value serialization". A bound is serialized with the type the file
/// was written with; readers widen an `int` bound to `long`, a `float` to `double`, as they
/// widen the values.
enum IcebergColumnMetrics {
    /// `file` with the statistics of `written` (the file's columns, `layout` the table columns
    /// it was written with) filled in by field id. A column is left out when the table does not
    /// know its identity, when the table's field has a type the file's values cannot be read as,
    /// or when it is a LIST (its statistics are per element). Bounds the Parquet statistics lack
    /// are left out; the counts stay.
    static func apply(
        _ written: [ParquetColumnSummary], layout: [IcebergSync.Wanted], fieldIDs: [String: Int32],
        schema: IcebergSchema, to file: inout DataFile
    ) {
        var byName: [String: IcebergSync.Wanted] = [:]
        for column in layout { byName[column.name] = column }
        for column in written where column.path.count == 1 {
            guard let wanted = byName[column.path[0]], let id = fieldIDs[wanted.identity], let field = schema.field(id: id),
                IcebergSync.sameType(field.type, wanted.type) || wanted.type.canPromote(to: field.type)
            else { continue }
            if case .list = wanted.type { continue }
            file.valueCounts[id] = column.valueCount
            file.nullValueCounts[id] = column.nullCount
            file.columnSizes[id] = column.compressedBytes
            if let min = column.min, let max = column.max,
                let lower = literal(min, type: wanted.type), let upper = literal(max, type: wanted.type)
            {
                file.lowerBounds[id] = lower
                file.upperBounds[id] = upper
            }
        }
    }

    /// A PLAIN-encoded Parquet statistics value (little-endian numbers, a byte array without its
    /// length) as an Iceberg literal of `type`; nil when the bytes do not fit the type.
    static func literal(_ bytes: [UInt8], type: IcebergType) -> IcebergLiteral? {
        func littleEndian(_ count: Int) -> UInt64? {
            guard bytes.count == count else { return nil }
            var v: UInt64 = 0
            for (k, b) in bytes.enumerated() { v |= UInt64(b) << UInt64(8 * k) }
            return v
        }
        switch type {
        case .boolean:
            return bytes.count == 1 ? .boolean(bytes[0] != 0) : nil
        case .int:
            return littleEndian(4).map { .int(Int32(truncatingIfNeeded: $0)) }
        case .date:
            return littleEndian(4).map { .date(Int32(truncatingIfNeeded: $0)) }
        case .long:
            return littleEndian(8).map { .long(Int64(bitPattern: $0)) }
        case .time:
            return littleEndian(8).map { .time(Int64(bitPattern: $0)) }
        case .timestamp, .timestamptz:
            return littleEndian(8).map { .timestamp(Int64(bitPattern: $0)) }
        case .float:
            return littleEndian(4).map { .float(Float(bitPattern: UInt32(truncatingIfNeeded: $0))) }
        case .double:
            return littleEndian(8).map { .double(Double(bitPattern: $0)) }
        case .decimal(let precision, _):
            // INT32 up to 9 digits, INT64 up to 18, else big-endian FIXED_LEN_BYTE_ARRAY (ParquetValueType).
            if precision <= 9 { return littleEndian(4).map { .decimal(unscaled: Int64(Int32(truncatingIfNeeded: $0))) } }
            if precision <= 18 { return littleEndian(8).map { .decimal(unscaled: Int64(bitPattern: $0)) } }
            return bytes.isEmpty ? nil : .decimal(unscaledBigEndian: bytes)
        case .string:
            return String(validating: bytes, as: UTF8.self).map { .string($0) }
        case .binary:
            return .binary(bytes)
        case .uuid:
            return bytes.count == 16 ? .uuid(bytes) : nil
        case .fixed(let n):
            return bytes.count == n ? .binary(bytes) : nil
        case .list:
            return nil
        }
    }
}
