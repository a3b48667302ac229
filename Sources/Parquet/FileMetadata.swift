/// The Thrift structures of `parquet.thrift` the writer emits, and their compact-protocol encoding.
///
/// Spec: https://github.com/apache/parquet-format/blob/master/src/main/thrift/parquet.thrift
/// (`FileMetaData`, `SchemaElement`, `RowGroup`, `ColumnChunk`, `ColumnMetaData`, `Statistics`,
/// `KeyValue`, `ColumnOrder`, `PageHeader`, `DataPageHeader`, `DataPageHeaderV2`, `DictionaryPageHeader`).

/// `parquet.thrift` `Encoding` values.
enum ParquetEncoding: Int32 {
    case plain = 0
    case rle = 3
    case rleDictionary = 8
}

/// `parquet.thrift` `Statistics`: null count and PLAIN-encoded min/max (fields 3, 5, 6).
struct StatisticsMetadata: Equatable {
    var nullCount: Int64
    var minValue: [UInt8]?
    var maxValue: [UInt8]?

    func encode(into e: inout ThriftCompactEncoder) {
        e.fieldI64(3, nullCount)
        if let maxValue { e.fieldBinary(5, maxValue) }
        if let minValue { e.fieldBinary(6, minValue) }
    }
}

/// `parquet.thrift` `ColumnChunk` with its `ColumnMetaData`, for one column of one row group.
struct ColumnChunkMetadata {
    var physicalType: ParquetPhysicalType
    var encodings: [ParquetEncoding]
    var path: [String]
    var codec: ParquetCodec
    var numValues: Int64
    var totalUncompressedSize: Int64
    var totalCompressedSize: Int64
    var dataPageOffset: Int64
    var dictionaryPageOffset: Int64?
    var statistics: StatisticsMetadata

    func encode(into e: inout ThriftCompactEncoder) {
        e.structBegin()
        e.fieldI64(2, dictionaryPageOffset ?? dataPageOffset)  // file_offset: where the chunk starts
        e.fieldStructBegin(3)
        e.fieldI32(1, physicalType.rawValue)
        e.fieldListBegin(2, elementType: .i32, count: encodings.count)
        for encoding in encodings { e.writeI32(encoding.rawValue) }
        e.fieldListBegin(3, elementType: .binary, count: path.count)
        for name in path { e.writeString(name) }
        e.fieldI32(4, codec.thriftValue)
        e.fieldI64(5, numValues)
        e.fieldI64(6, totalUncompressedSize)
        e.fieldI64(7, totalCompressedSize)
        e.fieldI64(9, dataPageOffset)
        if let dictionaryPageOffset { e.fieldI64(11, dictionaryPageOffset) }
        e.fieldStructBegin(12)
        statistics.encode(into: &e)
        e.structEnd()
        e.structEnd()  // ColumnMetaData
        e.structEnd()  // ColumnChunk
    }
}

/// `parquet.thrift` `RowGroup`.
struct RowGroupMetadata {
    var columns: [ColumnChunkMetadata]
    var numRows: Int64
    var ordinal: Int16

    var fileOffset: Int64 { columns.first.map { $0.dictionaryPageOffset ?? $0.dataPageOffset } ?? 0 }
    var totalByteSize: Int64 { columns.reduce(0) { $0 + $1.totalUncompressedSize } }
    var totalCompressedSize: Int64 { columns.reduce(0) { $0 + $1.totalCompressedSize } }

    func encode(into e: inout ThriftCompactEncoder) {
        e.structBegin()
        e.fieldListBegin(1, elementType: .structure, count: columns.count)
        for column in columns { column.encode(into: &e) }
        e.fieldI64(2, totalByteSize)
        e.fieldI64(3, numRows)
        e.fieldI64(5, fileOffset)
        e.fieldI64(6, totalCompressedSize)
        e.fieldI16(7, ordinal)
        e.structEnd()
    }
}

/// `parquet.thrift` `FileMetaData`, the footer.
struct FileMetadata {
    var schema: ParquetSchema
    var numRows: Int64
    var rowGroups: [RowGroupMetadata]
    var keyValueMetadata: [(key: String, value: String)]
    var createdBy: String

    func encode() -> [UInt8] {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldI32(1, 2)
        let elements = schemaElementCount
        e.fieldListBegin(2, elementType: .structure, count: elements)
        encodeSchema(into: &e)
        e.fieldI64(3, numRows)
        e.fieldListBegin(4, elementType: .structure, count: rowGroups.count)
        for group in rowGroups { group.encode(into: &e) }
        if !keyValueMetadata.isEmpty {
            e.fieldListBegin(5, elementType: .structure, count: keyValueMetadata.count)
            for (key, value) in keyValueMetadata {
                e.structBegin()
                e.fieldString(1, key)
                e.fieldString(2, value)
                e.structEnd()
            }
        }
        e.fieldString(6, createdBy)
        e.fieldListBegin(7, elementType: .structure, count: schema.columns.count)
        for _ in schema.columns {
            e.structBegin()  // ColumnOrder union
            e.fieldStructBegin(1)  // TYPE_ORDER: TypeDefinedOrder
            e.structEnd()
            e.structEnd()
        }
        e.structEnd()
        return e.bytes
    }

    private var schemaElementCount: Int {
        1 + schema.columns.reduce(0) { $0 + ($1.isList ? 3 : 1) }
    }

    private enum Repetition: Int32 {
        case required = 0
        case optional = 1
        case repeated = 2
    }

    private func encodeSchema(into e: inout ThriftCompactEncoder) {
        e.structBegin()
        e.fieldString(4, "schema")
        e.fieldI32(5, Int32(schema.columns.count))
        e.structEnd()
        for column in schema.columns {
            if column.isList {
                e.structBegin()
                e.fieldI32(3, (column.isNullable ? Repetition.optional : .required).rawValue)
                e.fieldString(4, column.name)
                e.fieldI32(5, 1)
                e.fieldI32(6, 3)  // ConvertedType LIST
                if let id = column.fieldID { e.fieldI32(9, id) }
                e.fieldStructBegin(10)
                e.fieldStructBegin(3)  // LogicalType.LIST
                e.structEnd()
                e.structEnd()
                e.structEnd()
                e.structBegin()
                e.fieldI32(3, Repetition.repeated.rawValue)
                e.fieldString(4, "list")
                e.fieldI32(5, 1)
                e.structEnd()
                encodeLeaf(
                    column.type, name: "element", fieldID: column.elementFieldID,
                    repetition: column.isElementNullable ? .optional : .required, into: &e)
            } else {
                encodeLeaf(
                    column.type, name: column.name, fieldID: column.fieldID,
                    repetition: column.isNullable ? .optional : .required, into: &e)
            }
        }
    }

    private func encodeLeaf(
        _ type: ParquetValueType, name: String, fieldID: Int32?, repetition: Repetition,
        into e: inout ThriftCompactEncoder
    ) {
        e.structBegin()
        e.fieldI32(1, type.physicalType.rawValue)
        if let length = type.fixedLength { e.fieldI32(2, Int32(length)) }
        e.fieldI32(3, repetition.rawValue)
        e.fieldString(4, name)
        // Fields go in increasing id order: ConvertedType (6), scale (7), precision (8), field_id (9),
        // then LogicalType (10).
        switch type {
        case .boolean, .float, .double, .bytes, .fixedBytes, .uuid, .timeMicros: break
        case .int8: e.fieldI32(6, 15)
        case .int16: e.fieldI32(6, 16)
        case .int32: e.fieldI32(6, 17)
        case .int64: e.fieldI32(6, 18)
        case .string: e.fieldI32(6, 0)
        case .json: e.fieldI32(6, 19)
        case .decimal(let precision, let scale):
            e.fieldI32(6, 5)
            e.fieldI32(7, Int32(scale))
            e.fieldI32(8, Int32(precision))
        case .date: e.fieldI32(6, 6)
        case .timestampMicros(let adjustedToUTC):
            // Converted types only describe UTC-adjusted times, so none is written for the others.
            if adjustedToUTC { e.fieldI32(6, 10) }  // TIMESTAMP_MICROS
        case .timestampMillis(let adjustedToUTC):
            if adjustedToUTC { e.fieldI32(6, 9) }  // TIMESTAMP_MILLIS
        }
        if let fieldID { e.fieldI32(9, fieldID) }
        switch type {
        case .boolean, .float, .double, .bytes, .fixedBytes: break
        case .int8: integer(e: &e, bits: 8)
        case .int16: integer(e: &e, bits: 16)
        case .int32: integer(e: &e, bits: 32)
        case .int64: integer(e: &e, bits: 64)
        case .string: emptyLogical(1, &e)
        case .json: emptyLogical(12, &e)
        case .uuid: emptyLogical(14, &e)
        case .decimal(let precision, let scale):
            e.fieldStructBegin(10)
            e.fieldStructBegin(5)
            e.fieldI32(1, Int32(scale))
            e.fieldI32(2, Int32(precision))
            e.structEnd()
            e.structEnd()
        case .date: emptyLogical(6, &e)
        case .timeMicros: timeLike(7, adjustedToUTC: false, &e)
        case .timestampMicros(let adjustedToUTC): timeLike(8, adjustedToUTC: adjustedToUTC, &e)
        case .timestampMillis(let adjustedToUTC): timeLike(8, adjustedToUTC: adjustedToUTC, unit: 1, &e)
        }
        e.structEnd()
    }

    private func integer(e: inout ThriftCompactEncoder, bits: Int8) {
        e.fieldStructBegin(10)
        e.fieldStructBegin(10)  // LogicalType.INTEGER
        e.fieldI8(1, bits)
        e.fieldBool(2, true)
        e.structEnd()
        e.structEnd()
    }

    private func emptyLogical(_ id: Int16, _ e: inout ThriftCompactEncoder) {
        e.fieldStructBegin(10)
        e.fieldStructBegin(id)
        e.structEnd()
        e.structEnd()
    }

    /// TIME or TIMESTAMP with its `TimeUnit`: field 1 MILLIS, 2 MICROS (the default).
    private func timeLike(_ id: Int16, adjustedToUTC: Bool, unit: Int16 = 2, _ e: inout ThriftCompactEncoder) {
        e.fieldStructBegin(10)
        e.fieldStructBegin(id)
        e.fieldBool(1, adjustedToUTC)
        e.fieldStructBegin(2)  // TimeUnit
        e.fieldStructBegin(unit)  // MILLIS (1) or MICROS (2)
        e.structEnd()
        e.structEnd()
        e.structEnd()
        e.structEnd()
    }
}

/// `parquet.thrift` `PageHeader` for the three page kinds the writer emits.
enum PageHeader {
    /// A DATA_PAGE (v1) header.
    static func dataPageV1(
        uncompressedSize: Int, compressedSize: Int, numValues: Int,
        encoding: ParquetEncoding
    ) -> [UInt8] {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldI32(1, 0)
        e.fieldI32(2, Int32(uncompressedSize))
        e.fieldI32(3, Int32(compressedSize))
        e.fieldStructBegin(5)
        e.fieldI32(1, Int32(numValues))
        e.fieldI32(2, encoding.rawValue)
        e.fieldI32(3, ParquetEncoding.rle.rawValue)
        e.fieldI32(4, ParquetEncoding.rle.rawValue)
        e.structEnd()
        e.structEnd()
        return e.bytes
    }

    /// A DATA_PAGE_V2 header.
    static func dataPageV2(
        uncompressedSize: Int, compressedSize: Int, numValues: Int, numNulls: Int,
        numRows: Int, encoding: ParquetEncoding, definitionLevelsByteLength: Int,
        repetitionLevelsByteLength: Int, isCompressed: Bool
    ) -> [UInt8] {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldI32(1, 3)
        e.fieldI32(2, Int32(uncompressedSize))
        e.fieldI32(3, Int32(compressedSize))
        e.fieldStructBegin(8)
        e.fieldI32(1, Int32(numValues))
        e.fieldI32(2, Int32(numNulls))
        e.fieldI32(3, Int32(numRows))
        e.fieldI32(4, encoding.rawValue)
        e.fieldI32(5, Int32(definitionLevelsByteLength))
        e.fieldI32(6, Int32(repetitionLevelsByteLength))
        e.fieldBool(7, isCompressed)
        e.structEnd()
        e.structEnd()
        return e.bytes
    }

    /// A DICTIONARY_PAGE header (PLAIN-encoded dictionary).
    static func dictionaryPage(uncompressedSize: Int, compressedSize: Int, numValues: Int) -> [UInt8] {
        var e = ThriftCompactEncoder()
        e.structBegin()
        e.fieldI32(1, 2)
        e.fieldI32(2, Int32(uncompressedSize))
        e.fieldI32(3, Int32(compressedSize))
        e.fieldStructBegin(7)
        e.fieldI32(1, Int32(numValues))
        e.fieldI32(2, ParquetEncoding.plain.rawValue)
        e.structEnd()
        e.structEnd()
        return e.bytes
    }
}
