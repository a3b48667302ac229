/// A streaming Parquet file writer: column-by-column appends, row groups cut by a byte and row
/// budget, pages written as they fill, the Thrift compact footer at `close()`.
///
/// Spec: https://github.com/apache/parquet-format (`README.md` "File format").
///
/// For each row, give every column exactly one entry — a value (`appendInt64` …), a null
/// (`appendNull`) or, for LIST columns, a list (`beginList`, element appends, `endList`) — then
/// call `endRow()`. Appends do no heap allocation per value. Appending a value of the wrong
/// physical type, a null to a required column or a FIXED_LEN_BYTE_ARRAY of the wrong length is a
/// programming error and traps; a row with a missing or extra entry makes `endRow` throw.
/// Memory is bounded by the row group budget: a row group's column chunks are buffered
/// (encoded and compressed) and sent to the sink when the group is cut.
public final class ParquetWriter {
    /// The schema being written.
    public let schema: ParquetSchema
    /// The options in effect.
    public let options: ParquetWriterOptions
    private let sink: any ParquetSink
    private let columns: ContiguousArray<ColumnChunkWriter>
    /// The same writers, unretained, so hot-path appends do no reference counting.
    private let columnReferences: UnsafeMutableBufferPointer<Unmanaged<ColumnChunkWriter>>
    @exclusivity(unchecked) private var rowGroups: [RowGroupMetadata] = []
    @exclusivity(unchecked) private var rowsInGroup: Int64 = 0
    @exclusivity(unchecked) private var bufferedBytes = 0
    /// Rows ended so far.
    @exclusivity(unchecked) public private(set) var rowCount: Int64 = 0
    /// Bytes sent to the sink so far.
    @exclusivity(unchecked) public private(set) var bytesWritten: Int64 = 0
    @exclusivity(unchecked) private var isClosed = false
    /// Key-value metadata known only once the rows are written; the footer holds it after
    /// ``ParquetWriterOptions/keyValueMetadata``.
    public var footerKeyValueMetadata: [(key: String, value: String)] = []

    private static let magic: [UInt8] = Array("PAR1".utf8)

    /// Starts a file: validates the schema and writes the leading magic bytes to `sink`.
    public init(schema: ParquetSchema, sink: any ParquetSink, options: ParquetWriterOptions = .init()) throws(ParquetError) {
        try schema.validate()
        self.schema = schema
        self.options = options
        self.sink = sink
        let compressor = PageCompressor(codec: options.codec)
        columns = ContiguousArray(
            schema.columns.map {
                ColumnChunkWriter(column: $0, options: options, compressor: compressor)
            })
        columnReferences = .allocate(capacity: columns.count)
        for (k, column) in columns.enumerated() { columnReferences[k] = Unmanaged.passUnretained(column) }
        try write(Self.magic)
    }

    deinit { columnReferences.deallocate() }

    /// The writer of `column`, borrowed without retaining it.
    @inline(__always)
    private func with<R>(_ column: Int, _ body: (ColumnChunkWriter) -> R) -> R {
        precondition(column >= 0 && column < columnReferences.count, "column index is within the schema")
        return columnReferences[column]._withUnsafeGuaranteedRef(body)
    }

    // MARK: Appends (hot path)

    /// Appends an INT32 value (INT8/16/32, DATE, DECIMAL of precision <= 9) to `column`.
    @inline(__always) public func appendInt32(_ value: Int32, column: Int) { with(column) { $0.appendInt32(value) } }
    /// Appends an INT64 value (INT64, TIME, TIMESTAMP, DECIMAL of precision 10...18) to `column`.
    @inline(__always) public func appendInt64(_ value: Int64, column: Int) { with(column) { $0.appendInt64(value) } }
    /// Appends a FLOAT value to `column`.
    @inline(__always) public func appendFloat(_ value: Float, column: Int) { with(column) { $0.appendFloat(value) } }
    /// Appends a DOUBLE value to `column`.
    @inline(__always) public func appendDouble(_ value: Double, column: Int) { with(column) { $0.appendDouble(value) } }
    /// Appends a BOOLEAN value to `column`.
    @inline(__always) public func appendBool(_ value: Bool, column: Int) { with(column) { $0.appendBool(value) } }
    /// Appends a BYTE_ARRAY value (STRING/JSON: UTF-8 bytes) or a FIXED_LEN_BYTE_ARRAY value of
    /// exactly the column's length (UUID: 16 bytes; DECIMAL: big-endian two's complement) to `column`.
    @inline(__always) public func appendBytes(_ value: UnsafeRawBufferPointer, column: Int) { with(column) { $0.appendBytes(value) } }
    /// Whether `column` can take a streamed value now (a flat BYTE_ARRAY column, at the start of
    /// its entry for the row, with a codec that streams: not Snappy).
    public func canStreamValue(column: Int) -> Bool { with(column) { $0.canStreamValue } }
    /// Appends to `column` a value of `count` bytes (more than 4 KiB) that `produce` hands over in
    /// pieces, in order: compressed as they come into a page of its own, never held whole.
    public func appendLargeValue(
        count: Int, column: Int,
        _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        precondition(column >= 0 && column < columnReferences.count, "column index is within the schema")
        try columnReferences[column]._withUnsafeGuaranteedRef { try $0.appendLargeValue(count: count, produce) }
    }
    /// Appends a null (a null value, a null list, or inside a list a null element) to `column`.
    @inline(__always) public func appendNull(column: Int) { with(column) { $0.appendNull() } }
    /// Opens the current row's list in LIST `column`; append its elements, then `endList`.
    @inline(__always) public func beginList(column: Int) { with(column) { $0.beginList() } }
    /// Closes the list opened by `beginList` (no elements in between: an empty list).
    @inline(__always) public func endList(column: Int) { with(column) { $0.endList() } }

    /// Appends a string's UTF-8 bytes to a BYTE_ARRAY `column` (no copy for native strings).
    public func appendString(_ value: String, column: Int) {
        var value = value
        value.withUTF8 { appendBytes(UnsafeRawBufferPointer($0), column: column) }
    }

    /// Appends an unscaled decimal to a DECIMAL `column` of any precision, in its physical type.
    public func appendDecimal(unscaled: Int64, column: Int) {
        let writer = columns[column]
        switch writer.physicalType {
        case .int32:
            precondition(
                Int64(Int32.min)...Int64(Int32.max) ~= unscaled,
                "the unscaled decimal fits column \(writer.column.name)'s INT32")
            writer.appendInt32(Int32(unscaled))
        case .int64:
            writer.appendInt64(unscaled)
        default:
            let length = writer.fixedLength
            withUnsafeTemporaryAllocation(byteCount: length, alignment: 1) { buffer in
                let fill: UInt8 = unscaled < 0 ? 0xFF : 0
                for k in 0..<length {
                    let shift = (length - 1 - k) * 8
                    buffer[k] = shift < 64 ? UInt8(truncatingIfNeeded: unscaled >> Int64(shift)) : fill
                }
                writer.appendBytes(UnsafeRawBufferPointer(buffer))
            }
        }
    }

    /// Ends the current row; cuts pages and, past the row group budget, writes the row group.
    public func endRow() throws(ParquetError) {
        guard !isClosed else { throw ParquetError(.closed, "endRow after close") }
        var bytes = 0
        for k in 0..<columnReferences.count {
            var failure: ParquetError?
            bytes &+= columnReferences[k]._withUnsafeGuaranteedRef { column -> Int in
                do throws(ParquetError) { try column.endRow() } catch { failure = error; return 0 }
                return column.bufferedBytes
            }
            if let failure { throw failure }
        }
        rowsInGroup += 1
        rowCount += 1
        bufferedBytes = bytes
        if rowsInGroup >= options.rowGroupRowLimit || bytes >= options.rowGroupByteLimit {
            try flushRowGroup()
        }
    }

    /// Appends a whole row of convenience values and ends it (tests and cold paths).
    public func appendRow(_ values: [ParquetValue]) throws(ParquetError) {
        guard values.count == columns.count else {
            throw ParquetError(.invalidRow, "a row has \(values.count) values for \(columns.count) columns")
        }
        for (index, value) in values.enumerated() {
            if case .list(let elements) = value {
                beginList(column: index)
                for element in elements { append(element, column: index) }
                endList(column: index)
            } else {
                append(value, column: index)
            }
        }
        try endRow()
    }

    /// Appends one convenience value (not a list) to `column`.
    public func append(_ value: ParquetValue, column: Int) {
        switch value {
        case .null: appendNull(column: column)
        case .bool(let v): appendBool(v, column: column)
        case .int32(let v): appendInt32(v, column: column)
        case .int64(let v): appendInt64(v, column: column)
        case .float(let v): appendFloat(v, column: column)
        case .double(let v): appendDouble(v, column: column)
        case .bytes(let v): v.withUnsafeBytes { appendBytes($0, column: column) }
        case .string(let v): appendString(v, column: column)
        case .decimal(let v): appendDecimal(unscaled: v, column: column)
        case .list: preconditionFailure("a list is appended with appendRow or beginList/endList")
        }
    }

    /// Bytes buffered for the current row group, as of the last `endRow`.
    public var bufferedByteCount: Int { bufferedBytes }

    // MARK: Row groups and footer

    /// Writes the buffered rows as a row group now (no-op without rows).
    public func flushRowGroup() throws(ParquetError) {
        guard rowsInGroup > 0 else { return }
        var chunks: [ColumnChunkMetadata] = []
        chunks.reserveCapacity(columns.count)
        for column in columns {
            let metadata = try column.writeChunk(to: sink, at: bytesWritten)
            bytesWritten += metadata.totalCompressedSize
            chunks.append(metadata)
        }
        rowGroups.append(RowGroupMetadata(columns: chunks, numRows: rowsInGroup, ordinal: Int16(truncatingIfNeeded: rowGroups.count)))
        rowsInGroup = 0
        bufferedBytes = 0
    }

    /// Writes the last row group and the footer; the sink then holds the whole file.
    /// Rows must be ended; the sink is not closed.
    @discardableResult
    public func close() throws(ParquetError) -> ParquetWriteSummary {
        guard !isClosed else { throw ParquetError(.closed, "close called twice") }
        for column in columns where column.entriesInRow != 0 || column.inList {
            throw ParquetError(.invalidRow, "column \(column.column.name) has values of a row that was not ended")
        }
        try flushRowGroup()
        isClosed = true
        let footer = FileMetadata(
            schema: schema, numRows: rowCount, rowGroups: rowGroups,
            keyValueMetadata: options.keyValueMetadata + footerKeyValueMetadata, createdBy: options.createdBy
        ).encode()
        try write(footer)
        var length = [UInt8](repeating: 0, count: 4)
        let n = UInt32(footer.count)
        for k in 0..<4 { length[k] = UInt8(truncatingIfNeeded: n >> UInt32(8 * k)) }
        try write(length)
        try write(Self.magic)
        var summary = ParquetWriteSummary(rows: rowCount, rowGroups: rowGroups.count, bytesWritten: bytesWritten)
        summary.columns = columns.indices.compactMap {
            ParquetColumnSummary.merging(rowGroups, column: $0, order: columns[$0].statisticsByteOrder)
        }
        return summary
    }

    private func write(_ bytes: [UInt8]) throws(ParquetError) {
        do {
            try bytes.withUnsafeBytes { try sink.write($0) }
        } catch let error as ParquetError {
            throw error
        } catch {
            throw ParquetError(
                .sinkFailed, "the sink refused the file's bytes",
                underlying: SinkFailure(description: String(describing: error)))
        }
        bytesWritten += Int64(bytes.count)
    }
}

/// A value for the convenience (non-hot-path) appends.
public enum ParquetValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int32(Int32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    /// BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY bytes.
    case bytes([UInt8])
    /// A STRING or JSON value.
    case string(String)
    /// An unscaled DECIMAL value for a column of any decimal precision (up to 18 digits).
    case decimal(Int64)
    /// A LIST's elements (only as a whole column value).
    case list([ParquetValue])
}
