import Foundation
import Parquet

/// Parquet settings of the files the daemon writes.
public struct ParquetFileOptions: Sendable {
    public var codec: ParquetCodec = .zstd(level: 1)
    /// Row groups are cut at about this many bytes of encoded data.
    public var rowGroupBytes = 128 << 20
    /// ... or past this many values (rows x columns), whichever comes first. Each column holds its
    /// row group's dictionary (with its hash table), indices and levels, which the byte estimate
    /// counts only in part: a table of 1,000 columns held 20,000 rows of them, 680 MiB. Default
    /// 2,000,000: about 2,000 rows of 1,000 columns, 125,000 rows of 16 (narrower tables reach the
    /// byte limit first).
    public var rowGroupCells = 2_000_000
    /// Data page version, 1 or 2.
    public var pageVersion = 1
    /// The version in `created_by` ("replicatord version X").
    public var version = "unknown"
    /// Whether `uuid` and `time` columns use Parquet's `UUID` and `TIME(MICROS)` logical types. Off
    /// (the default), they are STRING columns of PostgreSQL's text (`a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`,
    /// `13:45:00.5`, `24:00:00`): Spark 4 refuses a whole file that has either exact type
    /// (`PARQUET_TYPE_ILLEGAL`, `UNSUPPORTED_TIME_TYPE`), and Athena and Redshift Spectrum read neither.
    public var exactLogicalTypes = false
    /// The name of the column of each row's apply order (``RowOrder``), nil for none. The daemon
    /// sets `_seq` (`[output] seq_column`).
    public var seqColumn: String?
    /// The name of the column of each row's commit time (TIMESTAMP(MICROS, UTC)), nil for none; the
    /// daemon sets `_commit_ts` (`[output] commit_ts_column`).
    public var commitTimeColumn: String?
    /// DMS's `ParquetTimestampInMillisecond` (`[output] timestamp_millis`): every TIMESTAMP column
    /// (`timestamp`, `timestamptz`, their arrays, the commit time column) as TIMESTAMP(MILLIS),
    /// the microseconds floored to the millisecond (towards the past, before 1970 too).
    public var timestampMillis = false

    public init() {}
}

/// Writes a table's decoded rows (``ColumnBatch``es) as one Parquet file: the PostgreSQL -> Parquet
/// type mapping (see the README's table), optionally led by the `Op` column and followed by
/// `_unchanged_toast` for CDC files.
public final class ParquetTableWriter {
    /// One table column as written.
    public struct Column: Sendable, Equatable {
        public var name: String
        public var kind: ColumnKind
        public var nullable: Bool
        /// `pg_attribute.attnum`: the column's identity across renames (0 when unknown).
        public var attnum: Int
        /// The PostgreSQL type as `format_type` prints it ("" when unknown).
        public var typeName: String
        /// What rows stored before the column was added read for it (CDC files only; see
        /// ``ColumnDescription/missingValue``).
        public var missingValue: String?
        public init(name: String, kind: ColumnKind, nullable: Bool, attnum: Int = 0, typeName: String = "", missingValue: String? = nil) {
            self.name = name; self.kind = kind; self.nullable = nullable
            self.attnum = attnum; self.typeName = typeName; self.missingValue = missingValue
        }
    }

    /// The footer key describing the table's columns in PostgreSQL terms: a JSON array, one object
    /// per column in file order, `{"name", "attnum", "type"}` plus `"missing"` (the text older rows
    /// read for a column added with a default) when there is one. A column keeps its `attnum` across
    /// `RENAME COLUMN`, so files of several layouts line up by it.
    public static let columnsMetadataKey = "replicatord.columns"

    /// The name of the operation column (`I`, `U`, `D`, `T`), as DMS names it.
    public static let opColumnName = "Op"
    /// The column that lists the columns an update left out as unchanged TOAST values.
    public static let unchangedToastColumnName = "_unchanged_toast"

    private let writer: ParquetWriter
    private let columns: [Column]
    private let opColumn: Bool
    private let unchangedToastColumn: Bool
    /// Whether `uuid` and `time` are written with their exact logical types (else as text).
    private let exactLogicalTypes: Bool
    private let timestampMillis: Bool
    /// Whether the file has the `_seq` / `_commit_ts` columns (after the table's columns).
    private let seqColumn: Bool, commitTimeColumn: Bool
    /// Rows written so far.
    public private(set) var rowCount: Int64 = 0
    /// Per column name: the rows (and LIST elements) whose DECIMAL value was numeric `NaN`.
    private var numericNaN: [String: [String]] = [:]
    /// Per LIST column name: the rows whose array has other dimensions than `[1:n]`, with them.
    private var arrayDimensions: [String: [String]] = [:]
    /// Per column name: the rows (and LIST elements) whose value the column's type cannot hold, with its text.
    private var outOfRange: [String: [String]] = [:]

    /// The columns of a catalog table (nullability from NOT NULL).
    public static func columns(for table: TableDescription) -> [Column] {
        table.columns.map { Column(name: $0.name, kind: ColumnKind($0), nullable: !$0.notNull, attnum: $0.attnum, typeName: $0.typeName) }
    }

    /// The columns of a change stream's relation (all nullable: a `D` or `T` row leaves columns null).
    public static func columns(for relation: StreamRelation) -> [Column] {
        relation.columnNames.indices.map { i in
            Column(
                name: relation.columnNames[i], kind: relation.kinds[i], nullable: true,
                attnum: i < relation.attnums.count ? relation.attnums[i] : 0,
                typeName: i < relation.typeNames.count ? relation.typeNames[i] : "",
                missingValue: i < relation.missingValues.count ? relation.missingValues[i] : nil)
        }
    }

    /// Columns from names and kinds (the change stream's Relation).
    public static func columns(names: [String], kinds: [ColumnKind], nullable: Bool) -> [Column] {
        zip(names, kinds).map { Column(name: $0, kind: $1, nullable: nullable) }
    }

    /// The Parquet value type of a kind: `uuid` and `time` as STRING unless `exact` (see
    /// ``ParquetFileOptions/exactLogicalTypes``).
    public static func parquetType(_ kind: ColumnKind, exact: Bool, millis: Bool = false) -> ParquetValueType {
        switch kind {
        case .bool: .boolean
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .float32: .float
        case .float64: .double
        case .decimal(let p, let s): .decimal(precision: p, scale: s)
        case .numericText, .text, .interval, .timetz, .textCast: .string
        case .json, .jsonb: .json
        case .bytea: .bytes
        case .uuid: exact ? .uuid : .string
        case .date: .date
        case .time: exact ? .timeMicros : .string
        case .timestamp: millis ? .timestampMillis(adjustedToUTC: false) : .timestampMicros(adjustedToUTC: false)
        case .timestamptz: millis ? .timestampMillis(adjustedToUTC: true) : .timestampMicros(adjustedToUTC: true)
        case .list(let element): parquetType(element, exact: exact, millis: millis)  // the element type of the LIST
        }
    }

    public init(columns: [Column], opColumn: Bool, unchangedToastColumn: Bool, options: ParquetFileOptions, sink: any ParquetSink) throws {
        var schema: [ParquetColumn] = []
        if opColumn { schema.append(ParquetColumn(name: Self.opColumnName, type: .string, nullable: false)) }
        schema += columns.map { column -> ParquetColumn in
            if case .list(let element) = column.kind {
                return .list(
                    name: column.name, element: Self.parquetType(element, exact: options.exactLogicalTypes, millis: options.timestampMillis),
                    nullable: column.nullable, elementNullable: true)
            }
            return ParquetColumn(
                name: column.name, type: Self.parquetType(column.kind, exact: options.exactLogicalTypes, millis: options.timestampMillis),
                nullable: column.nullable)
        }
        for extra in [
            options.seqColumn, options.commitTimeColumn, opColumn ? Self.opColumnName : nil,
            unchangedToastColumn ? Self.unchangedToastColumnName : nil,
        ].compactMap({ $0 }) {
            if columns.contains(where: { $0.name == extra }) { throw NameCollision(column: extra) }
        }
        if let name = options.seqColumn { schema.append(ParquetColumn(name: name, type: .string, nullable: false)) }
        if let name = options.commitTimeColumn {
            schema.append(
                ParquetColumn(
                    name: name, type: options.timestampMillis ? .timestampMillis(adjustedToUTC: true) : .timestampMicros(adjustedToUTC: true), nullable: false))
        }
        if unchangedToastColumn { schema.append(ParquetColumn(name: Self.unchangedToastColumnName, type: .string, nullable: true)) }
        var writerOptions = ParquetWriterOptions()
        writerOptions.codec = options.codec
        writerOptions.rowGroupByteLimit = options.rowGroupBytes
        writerOptions.rowGroupRowLimit = min(writerOptions.rowGroupRowLimit, max(1_024, options.rowGroupCells / max(1, schema.count)))
        writerOptions.dataPageVersion = options.pageVersion == 2 ? .v2 : .v1
        writerOptions.version = options.version
        if columns.contains(where: { $0.attnum != 0 }) {
            writerOptions.keyValueMetadata.append((Self.columnsMetadataKey, Self.columnsJSON(columns)))
        }
        writer = try ParquetWriter(schema: ParquetSchema(schema), sink: sink, options: writerOptions)
        self.columns = columns
        self.opColumn = opColumn
        self.unchangedToastColumn = unchangedToastColumn
        self.exactLogicalTypes = options.exactLogicalTypes
        self.timestampMillis = options.timestampMillis
        self.seqColumn = options.seqColumn != nil
        self.commitTimeColumn = options.commitTimeColumn != nil
    }

    /// A table column named like a column replicatord adds (`Op`, `_seq`, `_commit_ts`,
    /// `_unchanged_toast`): the table cannot be written until the added column is renamed.
    public struct NameCollision: Error, Sendable, CustomStringConvertible {
        public var column: String
        public var description: String {
            "the table has a column named \(column), like a column replicatord adds; rename ours in [output] (seq_column, commit_ts_column) or the table's"
        }
    }

    /// Writes the order columns of `row` (0-based in the batch) at `column` and after.
    private func appendOrder(_ order: RowOrder?, row: Int, column: Int) {
        guard seqColumn || commitTimeColumn else { return }
        guard let order else { preconditionFailure("a file with order columns written without the rows' order") }
        let (lsn, position, time): (UInt64, UInt32, Int64) =
            switch order {
            case .snapshot(let lsn, let micros): (lsn, 0, micros)
            case .changes(let changes): (changes.lsns[row], changes.positions[row], changes.commitTimes[row])
            }
        var next = column
        if seqColumn {
            PortableText.withText({ RowOrder.seq(lsn: lsn, position: position, into: $0) }) { writer.appendBytes($0, column: next) }
            next += 1
        }
        if commitTimeColumn { writer.appendInt64(timestampMillis ? Self.millis(time) : time, column: next) }
    }

    /// The number of order columns.
    private var orderColumns: Int { (seqColumn ? 1 : 0) + (commitTimeColumn ? 1 : 0) }

    /// Bytes of the file so far, written and buffered: for cutting files at a maximum size.
    public var estimatedFileBytes: Int64 { writer.bytesWritten + Int64(writer.bufferedByteCount) }

    /// Appends the rows of `batch` (and their ops and unchanged-TOAST lists for CDC files, and their
    /// order when the file has the order columns).
    public func append(_ batch: ColumnBatch, ops: [UInt8]?, unchangedToast: ColumnVector?, order: RowOrder? = nil) throws {
        if case .changes(let changes) = order { precondition(changes.count == batch.rowCount, "one order entry per row") }
        // The flat path: no LIST column and no numeric NaN to record (the rare cases take the loop below).
        if batch.largeValueStreams.isEmpty
            && !batch.columns.contains(where: { if case .list = $0.kind { true } else { !$0.nanRows.isEmpty || !$0.outOfRange.isEmpty } })
        {
            try appendFlat(batch, ops: ops, unchangedToast: unchangedToast, order: order)
            return
        }
        let rows = batch.rowCount
        precondition(batch.columns.count == columns.count, "a batch of \(batch.columns.count) columns for a table of \(columns.count)")
        precondition(ops == nil || ops!.count == rows, "one op per row")
        let base = opColumn ? 1 : 0
        var valueIndex = [Int](repeating: 0, count: columns.count)
        var elementValueIndex = [Int](repeating: 0, count: columns.count)
        var toastIndex = 0
        // Cursors into each column's (and LIST element vector's) numeric NaN rows.
        var nanCursor = [Int](repeating: 0, count: columns.count)
        var elementNanCursor = [Int](repeating: 0, count: columns.count)
        var shapeCursor = [Int](repeating: 0, count: columns.count)
        var rangeCursor = [Int](repeating: 0, count: columns.count)
        var elementRangeCursor = [Int](repeating: 0, count: columns.count)
        var streamed: [Int: LargeValueStream] = [:]
        for value in batch.largeValueStreams { streamed[value.row * columns.count + value.column] = value }
        for row in 0..<rows {
            if let ops {
                var op = ops[row]
                withUnsafeBytes(of: &op) { writer.appendBytes($0, column: 0) }
            }
            for c in 0..<columns.count {
                let vector = batch.columns[c]
                if vector.nulls[row] {
                    if !streamed.isEmpty, let value = streamed[row * columns.count + c] {
                        try appendStreamed(value, column: base + c)
                        continue
                    }
                    if nanCursor[c] < vector.nanRows.count, vector.nanRows[nanCursor[c]] == row {
                        nanCursor[c] += 1
                        numericNaN[columns[c].name, default: []].append("\(rowCount + Int64(row))")
                    }
                    if rangeCursor[c] < vector.outOfRange.count, vector.outOfRange[rangeCursor[c]].row == row {
                        outOfRange[columns[c].name, default: []].append("[\(rowCount + Int64(row)),\(Self.jsonString(vector.outOfRange[rangeCursor[c]].text))]")
                        rangeCursor[c] += 1
                    }
                    writer.appendNull(column: base + c); continue
                }
                let i = valueIndex[c]
                valueIndex[c] += 1
                if case .list = vector.kind {
                    // LIST: the i-th non-null list is a range of the element vector's rows.
                    let elements = vector.elements[0]
                    if shapeCursor[c] < vector.arrayShapes.count, vector.arrayShapes[shapeCursor[c]].row == row {
                        arrayDimensions[columns[c].name, default: []].append(
                            "[\(rowCount + Int64(row)),\(Self.jsonString(vector.arrayShapes[shapeCursor[c]].dimensions))]")
                        shapeCursor[c] += 1
                    }
                    writer.beginList(column: base + c)
                    for e in vector.listOffsets[i]..<vector.listOffsets[i + 1] {
                        if elements.nulls[e] {
                            if elementNanCursor[c] < elements.nanRows.count, elements.nanRows[elementNanCursor[c]] == e {
                                elementNanCursor[c] += 1
                                numericNaN[columns[c].name, default: []].append("[\(rowCount + Int64(row)),\(e - vector.listOffsets[i])]")
                            }
                            if elementRangeCursor[c] < elements.outOfRange.count, elements.outOfRange[elementRangeCursor[c]].row == e {
                                outOfRange[columns[c].name, default: []].append(
                                    "[\(rowCount + Int64(row)),\(e - vector.listOffsets[i]),\(Self.jsonString(elements.outOfRange[elementRangeCursor[c]].text))]"
                                )
                                elementRangeCursor[c] += 1
                            }
                            writer.appendNull(column: base + c); continue
                        }
                        try appendValue(elements, elementValueIndex[c], column: base + c)
                        elementValueIndex[c] += 1
                    }
                    writer.endList(column: base + c)
                    continue
                }
                try appendValue(vector, i, column: base + c)
            }
            appendOrder(order, row: row, column: base + columns.count)
            if unchangedToastColumn {
                let column = base + columns.count + orderColumns
                if let u = unchangedToast, !u.nulls[row] {
                    u.bytes.withUnsafeBytes {
                        writer.appendBytes(UnsafeRawBufferPointer(rebasing: $0[u.offsets[toastIndex]..<u.offsets[toastIndex + 1]]), column: column)
                    }
                    toastIndex += 1
                } else {
                    writer.appendNull(column: column)
                }
            }
            try writer.endRow()
        }
        rowCount += Int64(rows)
    }

    /// How a flat (non-LIST) column's values reach the writer.
    private enum FlatWrite {
        case bool, int32, int64, float32, float64, int128(length: Int), bytes
        /// Microseconds written as milliseconds (``ParquetFileOptions/timestampMillis``).
        case int64Millis
        /// `uuid`'s 16 bytes written as their text; `time`'s microseconds written as their text.
        case uuidText, timeText
    }

    /// One flat column of a batch seen through its storage: the row loop below then does no
    /// reference counting and no copy of a ``ColumnVector`` per value.
    private struct FlatColumn {
        var write: FlatWrite
        var nulls: UnsafePointer<Bool>
        var int64s: UnsafePointer<Int64>?
        var int128s: UnsafePointer<Int128>?
        var float32s: UnsafePointer<Float>?
        var float64s: UnsafePointer<Double>?
        var bytes: UnsafeRawPointer?
        var offsets: UnsafePointer<Int>
    }

    private static func flatWrite(_ kind: ColumnKind, exact: Bool, millis: Bool) -> FlatWrite {
        switch kind {
        case .timestamp where millis, .timestamptz where millis: .int64Millis
        case .uuid where !exact: .uuidText
        case .time where !exact: .timeText
        case .bool: .bool
        case .int16, .int32, .date: .int32
        case .int64, .time, .timestamp, .timestamptz: .int64
        case .float32: .float32
        case .float64: .float64
        case .decimal(let p, _): p <= 9 ? .int32 : p <= 18 ? .int64 : .int128(length: ParquetValueType.decimalByteLength(precision: p))
        case .numericText, .text, .json, .jsonb, .bytea, .uuid, .interval, .timetz, .textCast: .bytes
        case .list: preconditionFailure("a LIST column is not flat")
        }
    }

    /// ``append(_:ops:unchangedToast:)`` for batches without LIST columns or numeric NaNs (the full
    /// load and the change files of most tables): the same values in the same order, from pointers taken once
    /// per batch instead of once per value.
    private func appendFlat(_ batch: ColumnBatch, ops: [UInt8]?, unchangedToast: ColumnVector?, order: RowOrder?) throws {
        let rows = batch.rowCount
        precondition(batch.columns.count == columns.count, "a batch of \(batch.columns.count) columns for a table of \(columns.count)")
        precondition(ops == nil || ops!.count == rows, "one op per row")
        let base = opColumn ? 1 : 0
        // `batch` is a constant for this whole call: its arrays' storage neither moves nor goes away
        // while the pointers are used (every array is native, so no temporary buffer is made).
        var flat: [FlatColumn] = []
        flat.reserveCapacity(batch.columns.count)
        // `_unchanged_toast`, when the file has it, is one more flat byte column (all null without a vector).
        let toast = unchangedToastColumn ? (unchangedToast ?? ColumnVector(kind: .text, nullRows: rows)) : nil
        for vector in batch.columns + (toast.map { [$0] } ?? []) {
            precondition(vector.count == rows, "every column of a batch has its rows")
            func pointer<T>(_ array: [T]) -> UnsafePointer<T>? { array.isEmpty ? nil : array.withUnsafeBufferPointer { $0.baseAddress } }
            flat.append(
                FlatColumn(
                    write: Self.flatWrite(vector.kind, exact: exactLogicalTypes, millis: timestampMillis),
                    nulls: pointer(vector.nulls) ?? UnsafePointer(bitPattern: 1)!,
                    int64s: pointer(vector.int64s), int128s: pointer(vector.int128s),
                    float32s: pointer(vector.float32s), float64s: pointer(vector.float64s),
                    bytes: vector.bytes.isEmpty ? nil : vector.bytes.withUnsafeBytes { $0.baseAddress },
                    offsets: pointer(vector.offsets)!))
        }
        let writer = self.writer
        let tableColumns = columns.count, orderColumns = self.orderColumns
        try withExtendedLifetime((batch, toast)) {
            try flat.withUnsafeBufferPointer { flat in
                var valueIndex = [Int](repeating: 0, count: flat.count)
                try valueIndex.withUnsafeMutableBufferPointer { valueIndex in
                    for row in 0..<rows {
                        if let ops {
                            var op = ops[row]
                            withUnsafeBytes(of: &op) { writer.appendBytes($0, column: 0) }
                        }
                        for c in 0..<flat.count {
                            let f = flat[c]
                            // `_unchanged_toast` (the last flat column) comes after the order columns.
                            let column = base + c + (c >= tableColumns ? orderColumns : 0)
                            if f.nulls[row] { writer.appendNull(column: column); continue }
                            let i = valueIndex[c]
                            valueIndex[c] = i + 1
                            switch f.write {
                            case .bool: writer.appendBool(f.int64s![i] != 0, column: column)
                            case .int32: writer.appendInt32(Int32(truncatingIfNeeded: f.int64s![i]), column: column)
                            case .int64: writer.appendInt64(f.int64s![i], column: column)
                            case .int64Millis: writer.appendInt64(Self.millis(f.int64s![i]), column: column)
                            case .float32: writer.appendFloat(f.float32s![i], column: column)
                            case .float64: writer.appendDouble(f.float64s![i], column: column)
                            case .int128(let length):
                                // FIXED_LEN_BYTE_ARRAY: big-endian two's complement in the fewest bytes for p digits.
                                var big = f.int128s![i].bigEndian
                                withUnsafeBytes(of: &big) { writer.appendBytes(UnsafeRawBufferPointer(rebasing: $0[(16 - length)...]), column: column) }
                            case .bytes:
                                let start = f.offsets[i]
                                writer.appendBytes(UnsafeRawBufferPointer(start: f.bytes.map { $0 + start }, count: f.offsets[i + 1] - start), column: column)
                            case .uuidText:
                                let start = f.offsets[i]
                                let bytes = UnsafeRawBufferPointer(start: f.bytes.map { $0 + start }, count: f.offsets[i + 1] - start)
                                PortableText.withText({ PortableText.uuid(bytes, into: $0) }) { writer.appendBytes($0, column: column) }
                            case .timeText:
                                let micros = f.int64s![i]
                                PortableText.withText({ PortableText.timeOfDay(micros, into: $0) }) { writer.appendBytes($0, column: column) }
                            }
                        }
                        appendOrder(order, row: row, column: base + tableColumns)
                        try writer.endRow()
                    }
                }
            }
        }
        rowCount += Int64(rows)
    }

    /// A value read in pieces: compressed as they come (a codec that cannot stream gets it whole).
    private func appendStreamed(_ value: LargeValueStream, column: Int) throws {
        if writer.canStreamValue(column: column) && value.count > 4096 {
            try writer.appendLargeValue(count: value.count, column: column, value.produce)
        } else {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(value.count)
            try value.produce { bytes.append(contentsOf: $0) }
            bytes.withUnsafeBytes { writer.appendBytes($0, column: column) }
        }
    }

    private func appendValue(_ v: ColumnVector, _ i: Int, column: Int) throws {
        switch v.kind {
        case .uuid where !exactLogicalTypes:
            v.bytes.withUnsafeBytes { all in
                let bytes = UnsafeRawBufferPointer(rebasing: all[v.offsets[i]..<v.offsets[i + 1]])
                PortableText.withText({ PortableText.uuid(bytes, into: $0) }) { writer.appendBytes($0, column: column) }
            }
        case .time where !exactLogicalTypes:
            PortableText.withText({ PortableText.timeOfDay(v.int64s[i], into: $0) }) { writer.appendBytes($0, column: column) }
        case .bool: writer.appendBool(v.int64s[i] != 0, column: column)
        case .int16, .int32, .date: writer.appendInt32(Int32(truncatingIfNeeded: v.int64s[i]), column: column)
        case .timestamp where timestampMillis, .timestamptz where timestampMillis: writer.appendInt64(Self.millis(v.int64s[i]), column: column)
        case .int64, .time, .timestamp, .timestamptz: writer.appendInt64(v.int64s[i], column: column)
        case .float32: writer.appendFloat(v.float32s[i], column: column)
        case .float64: writer.appendDouble(v.float64s[i], column: column)
        case .decimal(let p, _):
            if p <= 9 {
                writer.appendInt32(Int32(truncatingIfNeeded: v.int64s[i]), column: column)
            } else if p <= 18 {
                writer.appendInt64(v.int64s[i], column: column)
            } else {
                // FIXED_LEN_BYTE_ARRAY: big-endian two's complement in the fewest bytes for p digits.
                let length = ParquetValueType.decimalByteLength(precision: p)
                var big = v.int128s[i].bigEndian
                withUnsafeBytes(of: &big) { writer.appendBytes(UnsafeRawBufferPointer(rebasing: $0[(16 - length)...]), column: column) }
            }
        case .list:
            preconditionFailure("a LIST is appended element by element")
        case .numericText, .text, .json, .jsonb, .bytea, .uuid, .interval, .timetz, .textCast:
            v.bytes.withUnsafeBytes { writer.appendBytes(UnsafeRawBufferPointer(rebasing: $0[v.offsets[i]..<v.offsets[i + 1]]), column: column) }
        }
    }

    /// Microseconds since 1970 floored to milliseconds: `.0019` is `.001`, and `-0.0001` s (before
    /// 1970) is `-0.001`, so a value never moves to a later millisecond.
    static func millis(_ micros: Int64) -> Int64 {
        let (quotient, remainder) = micros.quotientAndRemainder(dividingBy: 1000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    /// Writes the last row group and the footer (with the ``numericNaNMetadataKey`` list when a
    /// DECIMAL column held `NaN`).
    public func finish() throws {
        if !numericNaN.isEmpty {
            writer.footerKeyValueMetadata.append((Self.numericNaNMetadataKey, Self.rowListJSON(numericNaN, order: columns.map(\.name))))
        }
        if !outOfRange.isEmpty {
            writer.footerKeyValueMetadata.append((Self.outOfRangeMetadataKey, Self.rowListJSON(outOfRange, order: columns.map(\.name))))
        }
        if !arrayDimensions.isEmpty {
            writer.footerKeyValueMetadata.append((Self.arrayDimensionsMetadataKey, Self.rowListJSON(arrayDimensions, order: columns.map(\.name))))
        }
        written = try writer.close()
    }

    /// What the finished file holds (rows, size, each column's statistics); nil until ``finish()``.
    public private(set) var written: ParquetWriteSummary?

    /// The footer key listing where a DECIMAL column held numeric `NaN` (written as NULL): a JSON
    /// object from column name to the rows (0-based, in file order) that hold it; for a LIST column,
    /// `[row, element]` pairs (element 0-based in the Parquet list).
    public static let numericNaNMetadataKey = "replicatord.numeric_nan"

    /// The footer key listing the arrays of a LIST column whose dimensions are not `[1:n]`: a JSON
    /// object from column name to `[row, dims]` pairs (row 0-based in file order, dims as
    /// PostgreSQL's `array_dims()` prints them, `"[1:2][1:3]"`). The list holds such an array's
    /// elements in row-major order; a reader nests them again by the dimensions.
    public static let arrayDimensionsMetadataKey = "replicatord.array_dims"

    /// The footer key listing values PostgreSQL accepts that the column's Parquet type cannot hold
    /// (timestamps after 294247-01-10), written as NULL: a JSON object from column name to
    /// `[row, text]` pairs, or `[row, element, text]` for a LIST element, the text as PostgreSQL prints it.
    public static let outOfRangeMetadataKey = "replicatord.out_of_range"

    static func columnsJSON(_ columns: [Column]) -> String {
        "["
            + columns.map { c in
                "{\"name\":" + jsonString(c.name) + ",\"attnum\":\(c.attnum),\"type\":" + jsonString(c.typeName)
                    + (c.missingValue.map { ",\"missing\":" + jsonString($0) } ?? "") + "}"
            }.joined(separator: ",") + "]"
    }

    /// `{"column": [entry, ...]}` in column order, for the footer keys that list rows.
    static func rowListJSON(_ positions: [String: [String]], order: [String]) -> String {
        let entries = order.compactMap { name -> String? in
            guard let rows = positions[name] else { return nil }
            return jsonString(name) + ":[" + rows.joined(separator: ",") + "]"
        }
        return "{" + entries.joined(separator: ",") + "}"
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension ColumnVector {
    /// A vector of `nullRows` NULL rows.
    init(kind: ColumnKind, nullRows: Int) {
        self.init(kind: kind)
        nulls = Array(repeating: true, count: nullRows)
    }
}
