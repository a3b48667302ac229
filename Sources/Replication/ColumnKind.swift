/// How one PostgreSQL column is carried from the wire to Parquet: the single place that decides
/// the type mapping (see the README's type table).
public enum ColumnKind: Sendable, Equatable, Hashable {
    case bool
    case int16, int32, int64
    case float32, float64
    /// `numeric(p,s)` with p <= 38: an exact scaled integer (DECIMAL(p,s)); PostgreSQL 15's negative
    /// scales become DECIMAL(p - s, 0).
    case decimal(precision: Int, scale: Int)
    /// Unbounded `numeric` (or p > 38): its exact decimal text, never rounded.
    case numericText
    /// UTF-8 text (text, varchar, bpchar, name, citext, enum labels, xml, and the text form of
    /// everything without a better mapping).
    case text
    /// `json` and `jsonb` as their UTF-8 text (Parquet JSON).
    case json, jsonb
    case bytea
    case uuid
    /// Days since 1970-01-01.
    case date
    /// Microseconds since midnight.
    case time
    /// Microseconds since 1970-01-01 00:00:00, local (`timestamp`) or UTC (`timestamptz`).
    case timestamp, timestamptz
    /// `interval` as ISO 8601 text (`P1Y2M3DT4H5M6.5S`).
    case interval
    /// `timetz` as text `HH:MM:SS[.ffffff]+HH[:MM]`.
    case timetz
    /// A type we read as its text form: the server casts it (`::text`) in the COPY's SELECT.
    case textCast
    /// A one-dimensional array (declared with one `[]` or none) of an element kind we decode:
    /// a Parquet LIST, NULL elements kept. Arrays declared with more dimensions are ``textCast``.
    indirect case list(element: ColumnKind)

    /// The mapping of a catalog column.
    public init(_ column: ColumnDescription) {
        if column.elementTypeOID != 0 {
            self = ColumnKind.array(elementTypeOID: column.elementTypeOID, typmod: column.typmod, dimensions: column.dimensions)
            return
        }
        self = ColumnKind(
            typeOID: column.baseTypeOID, typmod: column.typmod, typeKind: column.typeKind,
            typeName: column.typeName)
    }

    /// The mapping of an array type: a LIST of its element when it is declared one-dimensional
    /// and the element is a built-in type we decode, else its text form.
    public static func array(elementTypeOID: UInt32, typmod: Int32, dimensions: Int) -> ColumnKind {
        guard dimensions <= 1, elementTypeOID < 10_000 else { return .textCast }
        let element = ColumnKind(typeOID: elementTypeOID, typmod: typmod)
        switch element {
        case .textCast, .list: return .textCast
        default: return .list(element: element)
        }
    }

    /// The mapping of a type by OID (built-in types have fixed OIDs) and typmod.
    public init(typeOID: UInt32, typmod: Int32, typeKind: Character = "b", typeName: String = "") {
        switch typeOID {
        case PGTypeOID.bool: self = .bool
        case PGTypeOID.int2: self = .int16
        case PGTypeOID.int4: self = .int32
        case PGTypeOID.int8: self = .int64
        case PGTypeOID.float4: self = .float32
        case PGTypeOID.float8: self = .float64
        case PGTypeOID.numeric:
            if typmod >= 4 {
                let precision = Int((typmod - 4) >> 16) & 0xFFFF
                var scale = Int((typmod - 4) & 0x7FF)
                if scale > 1000 { scale -= 2048 }  // PostgreSQL 15 stores negative scales in 11 bits
                let parquetPrecision = scale < 0 ? precision - scale : precision
                self = parquetPrecision <= 38 && precision > 0 ? .decimal(precision: parquetPrecision, scale: max(scale, 0)) : .numericText
            } else {
                self = .numericText
            }
        case PGTypeOID.text, PGTypeOID.varchar, PGTypeOID.bpchar, PGTypeOID.name, PGTypeOID.xml:
            self = .text
        case PGTypeOID.json: self = .json
        case PGTypeOID.jsonb: self = .jsonb
        case PGTypeOID.bytea: self = .bytea
        case PGTypeOID.uuid: self = .uuid
        case PGTypeOID.date: self = .date
        case PGTypeOID.time: self = .time
        case PGTypeOID.timestamp: self = .timestamp
        case PGTypeOID.timestamptz: self = .timestamptz
        case PGTypeOID.interval: self = .interval
        case PGTypeOID.timetz: self = .timetz
        default:
            // Enum labels and citext travel in binary as their text; the rest as the server's text.
            self = typeKind == "e" || typeName == "citext" ? .text : .textCast
        }
    }

    /// Whether the value travels as text even in binary COPY (the SELECT casts it).
    public var needsTextCast: Bool { self == .textCast }

    /// Whether the values are stored as bytes (text, binary, uuid, text forms) in a ``ColumnVector``.
    public var isByteLike: Bool {
        switch self {
        case .numericText, .text, .json, .jsonb, .bytea, .uuid, .interval, .timetz, .textCast: true
        default: false
        }
    }
}

/// OIDs of the built-in types (`pg_type.dat`), fixed across PostgreSQL versions.
public enum PGTypeOID {
    public static let bool: UInt32 = 16, bytea: UInt32 = 17, char: UInt32 = 18, name: UInt32 = 19
    public static let int8: UInt32 = 20, int2: UInt32 = 21, int4: UInt32 = 23, text: UInt32 = 25
    public static let oid: UInt32 = 26, json: UInt32 = 114, xml: UInt32 = 142
    public static let float4: UInt32 = 700, float8: UInt32 = 701, money: UInt32 = 790
    public static let bpchar: UInt32 = 1042, varchar: UInt32 = 1043, date: UInt32 = 1082, time: UInt32 = 1083
    public static let timestamp: UInt32 = 1114, timestamptz: UInt32 = 1184, interval: UInt32 = 1186
    public static let timetz: UInt32 = 1266, numeric: UInt32 = 1700, uuid: UInt32 = 2950, jsonb: UInt32 = 3802
}
