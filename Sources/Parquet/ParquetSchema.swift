/// Parquet physical types, with their `parquet.thrift` `Type` values.
public enum ParquetPhysicalType: Int32, Sendable, Hashable {
    case boolean = 0
    case int32 = 1
    case int64 = 2
    case float = 4
    case double = 5
    case byteArray = 6
    case fixedLenByteArray = 7
}

/// The type of a leaf value: a physical type together with its logical annotation.
///
/// See `LogicalTypes.md` in apache/parquet-format. The physical type follows from the case:
/// `decimal` is INT32 up to precision 9, INT64 up to 18, and a FIXED_LEN_BYTE_ARRAY of the fewest
/// bytes that hold the precision beyond that (values are big-endian two's complement).
public enum ParquetValueType: Sendable, Hashable {
    case boolean
    /// INT32 annotated INTEGER(8, signed).
    case int8
    /// INT32 annotated INTEGER(16, signed).
    case int16
    /// INT32 annotated INTEGER(32, signed).
    case int32
    /// INT64 annotated INTEGER(64, signed).
    case int64
    case float
    case double
    /// BYTE_ARRAY annotated STRING (UTF-8).
    case string
    /// BYTE_ARRAY annotated JSON (UTF-8).
    case json
    /// BYTE_ARRAY without annotation.
    case bytes
    /// FIXED_LEN_BYTE_ARRAY(16) annotated UUID, bytes in network order.
    case uuid
    /// FIXED_LEN_BYTE_ARRAY of the given length without annotation.
    case fixedBytes(length: Int)
    /// DECIMAL(precision, scale): the unscaled value.
    case decimal(precision: Int, scale: Int)
    /// INT32 annotated DATE: days since 1970-01-01.
    case date
    /// INT64 annotated TIME(MICROS, isAdjustedToUTC: false): microseconds since midnight.
    case timeMicros
    /// INT64 annotated TIMESTAMP(MICROS, isAdjustedToUTC): microseconds since the Unix epoch.
    case timestampMicros(adjustedToUTC: Bool)
    /// INT64 annotated TIMESTAMP(MILLIS, isAdjustedToUTC): milliseconds since the Unix epoch.
    case timestampMillis(adjustedToUTC: Bool)

    /// The physical type that stores this value type.
    public var physicalType: ParquetPhysicalType {
        switch self {
        case .boolean: .boolean
        case .int8, .int16, .int32, .date: .int32
        case .int64, .timeMicros, .timestampMicros, .timestampMillis: .int64
        case .float: .float
        case .double: .double
        case .string, .json, .bytes: .byteArray
        case .uuid, .fixedBytes: .fixedLenByteArray
        case .decimal(let precision, _):
            precision <= 9 ? .int32 : precision <= 18 ? .int64 : .fixedLenByteArray
        }
    }

    /// The byte length of FIXED_LEN_BYTE_ARRAY types, nil for the others.
    public var fixedLength: Int? {
        switch self {
        case .uuid: 16
        case .fixedBytes(let length): length
        case .decimal(let precision, _) where precision > 18: Self.decimalByteLength(precision: precision)
        default: nil
        }
    }

    /// The fewest bytes whose signed range holds every unscaled value of `precision` decimal digits.
    public static func decimalByteLength(precision: Int) -> Int {
        var n = 1
        // 2^(8n-1) - 1 >= 10^precision - 1  <=>  (8n - 1) * log10(2) >= precision
        while Double(8 * n - 1) * 0.30102999566398120 < Double(precision) { n += 1 }
        return n
    }
}

/// One column of a flat schema: a leaf value, or a LIST of leaf values (three-level list layout).
public struct ParquetColumn: Sendable, Hashable {
    /// The column's name (the top-level field name).
    public var name: String
    /// The type of the values (for a list, of its elements).
    public var type: ParquetValueType
    /// Whether the column (for a list: the list itself) may be null.
    public var isNullable: Bool
    /// Whether the column is a LIST of `type`.
    public var isList: Bool
    /// For a list column, whether elements may be null.
    public var isElementNullable: Bool
    /// The column's field id (`SchemaElement.field_id`), as Apache Iceberg and other table formats
    /// use to find a column whatever its name; nil writes none. For a list, the id of the list.
    public var fieldID: Int32?
    /// For a list column, the field id of its element (nil writes none).
    public var elementFieldID: Int32?

    /// A leaf column.
    public init(name: String, type: ParquetValueType, nullable: Bool = true, fieldID: Int32? = nil) {
        self.name = name
        self.type = type
        self.isNullable = nullable
        self.isList = false
        self.isElementNullable = false
        self.fieldID = fieldID
        self.elementFieldID = nil
    }

    /// A LIST column of `element` values.
    public static func list(
        name: String, element: ParquetValueType, nullable: Bool = true,
        elementNullable: Bool = true, fieldID: Int32? = nil,
        elementFieldID: Int32? = nil
    ) -> ParquetColumn {
        var c = ParquetColumn(name: name, type: element, nullable: nullable, fieldID: fieldID)
        c.isList = true
        c.isElementNullable = elementNullable
        c.elementFieldID = elementFieldID
        return c
    }

    /// The highest definition level of the leaf (a present, non-null value).
    public var maxDefinitionLevel: Int {
        (isNullable ? 1 : 0) + (isList ? 1 + (isElementNullable ? 1 : 0) : 0)
    }

    /// The highest repetition level of the leaf.
    public var maxRepetitionLevel: Int { isList ? 1 : 0 }

    /// The dotted path of the leaf in the schema (`name`, or `name.list.element`).
    public var path: [String] { isList ? [name, "list", "element"] : [name] }
}

/// A flat Parquet schema: an ordered list of columns under the root message.
public struct ParquetSchema: Sendable, Hashable {
    public var columns: [ParquetColumn]

    public init(_ columns: [ParquetColumn]) {
        self.columns = columns
    }

    /// Checks what the format requires of a schema: unique non-empty names, valid decimals and lengths.
    public func validate() throws(ParquetError) {
        var seen = Set<String>()
        for column in columns {
            guard !column.name.isEmpty else { throw ParquetError(.invalidSchema, "a column has an empty name") }
            guard seen.insert(column.name).inserted else {
                throw ParquetError(.invalidSchema, "column \(column.name) appears twice")
            }
            switch column.type {
            case .decimal(let precision, let scale):
                guard precision >= 1, precision <= 76, scale >= 0, scale <= precision else {
                    throw ParquetError(
                        .invalidSchema,
                        "column \(column.name): DECIMAL(\(precision),\(scale)) needs 1 <= precision <= 76, 0 <= scale <= precision")
                }
            case .fixedBytes(let length):
                guard length >= 1 else {
                    throw ParquetError(.invalidSchema, "column \(column.name): fixed length must be positive")
                }
            default: break
            }
        }
    }
}
