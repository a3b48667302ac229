/// An Iceberg type: the primitives our tables use, and lists of them.
///
/// Spec: https://iceberg.apache.org/spec/ "Schemas and Data Types" and "Appendix C: JSON serialization".
public indirect enum IcebergType: Sendable, Hashable {
    case boolean
    case int
    case long
    case float
    case double
    case decimal(precision: Int, scale: Int)
    case date
    /// Microseconds since midnight.
    case time
    /// Microseconds since the epoch, without zone.
    case timestamp
    /// Microseconds since the epoch, UTC.
    case timestamptz
    case string
    case uuid
    case fixed(Int)
    case binary
    /// A list; `elementID` is the element's field id.
    case list(elementID: Int32, element: IcebergType, elementRequired: Bool)

    /// The type's JSON form (`"decimal(10,2)"`, or an object for a list).
    public var json: JSONValue {
        switch self {
        case .boolean: .string("boolean")
        case .int: .string("int")
        case .long: .string("long")
        case .float: .string("float")
        case .double: .string("double")
        case .decimal(let p, let s): .string("decimal(\(p),\(s))")
        case .date: .string("date")
        case .time: .string("time")
        case .timestamp: .string("timestamp")
        case .timestamptz: .string("timestamptz")
        case .string: .string("string")
        case .uuid: .string("uuid")
        case .fixed(let n): .string("fixed[\(n)]")
        case .binary: .string("binary")
        case .list(let id, let element, let required):
            .object([
                ("type", .string("list")), ("element-id", .int(Int64(id))), ("element", element.json),
                ("element-required", .bool(required)),
            ])
        }
    }

    /// Parses a type's JSON form; whitespace around parameters is accepted, as the spec asks.
    public static func parse(_ json: JSONValue) throws(IcebergError) -> IcebergType {
        if case .object = json {
            guard json["type"]?.stringValue == "list", let id = json["element-id"]?.int32Value,
                let element = json["element"], let required = json["element-required"]?.boolValue
            else {
                throw IcebergError(.invalidMetadata, "unsupported nested type \(json.serialized)")
            }
            return .list(elementID: id, element: try parse(element), elementRequired: required)
        }
        guard let text = json.stringValue else { throw IcebergError(.invalidMetadata, "a type is a string or an object") }
        let compact = text.filter { !$0.isWhitespace }
        switch compact {
        case "boolean": return .boolean
        case "int": return .int
        case "long": return .long
        case "float": return .float
        case "double": return .double
        case "date": return .date
        case "time": return .time
        case "timestamp": return .timestamp
        case "timestamptz": return .timestamptz
        case "string": return .string
        case "uuid": return .uuid
        case "binary": return .binary
        default: break
        }
        if compact.hasPrefix("decimal("), compact.hasSuffix(")") {
            let parts = compact.dropFirst(8).dropLast().split(separator: ",")
            if parts.count == 2, let p = Int(parts[0]), let s = Int(parts[1]) { return .decimal(precision: p, scale: s) }
        }
        if compact.hasPrefix("fixed["), compact.hasSuffix("]"), let n = Int(compact.dropFirst(6).dropLast()) {
            return .fixed(n)
        }
        throw IcebergError(.invalidMetadata, "unsupported type \(text)")
    }

    /// Whether a column of this type may change to `wider` (spec "Schema Evolution", v2
    /// promotions: int to long, float to double, decimal(P,S) to decimal(P',S) with P' > P).
    public func canPromote(to wider: IcebergType) -> Bool {
        switch (self, wider) {
        case (.int, .long), (.float, .double): return true
        case (.decimal(let p, let s), .decimal(let p2, let s2)): return s == s2 && p2 > p
        default: return false
        }
    }
}

/// A top-level field of a schema.
public struct IcebergField: Sendable, Hashable {
    /// The field id, stable across renames.
    public var id: Int32
    /// The column name.
    public var name: String
    /// Whether the column never holds null.
    public var isRequired: Bool
    /// The column type.
    public var type: IcebergType
    /// The column comment.
    public var doc: String?

    /// A field; optional unless `required`.
    public init(id: Int32, name: String, type: IcebergType, required: Bool = false, doc: String? = nil) {
        self.id = id
        self.name = name
        self.isRequired = required
        self.type = type
        self.doc = doc
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .int(Int64(id))), ("name", .string(name)),
            ("required", .bool(isRequired)), ("type", type.json),
        ]
        if let doc { members.append(("doc", .string(doc))) }
        return .object(members)
    }

    static func parse(_ json: JSONValue) throws(IcebergError) -> IcebergField {
        guard let id = json["id"]?.int32Value, let name = json["name"]?.stringValue,
            let required = json["required"]?.boolValue, let type = json["type"]
        else {
            throw IcebergError(.invalidMetadata, "a schema field needs id, name, required and type")
        }
        return IcebergField(
            id: id, name: name, type: try IcebergType.parse(type), required: required,
            doc: json["doc"]?.stringValue)
    }

    /// Every field id this field uses (its own, and a list's element id).
    var allIDs: [Int32] {
        if case .list(let elementID, _, _) = type { return [id, elementID] }
        return [id]
    }
}

/// A table schema: a struct of top-level fields, with its schema id.
public struct IcebergSchema: Sendable, Hashable {
    /// The schema id, unique within the table.
    public var schemaID: Int32
    /// The columns, in order.
    public var fields: [IcebergField]

    /// A schema of `fields`.
    public init(schemaID: Int32 = 0, fields: [IcebergField]) {
        self.schemaID = schemaID
        self.fields = fields
    }

    /// The field named `name`, or nil.
    public func field(named name: String) -> IcebergField? { fields.first { $0.name == name } }

    /// The field with id `id`, or nil.
    public func field(id: Int32) -> IcebergField? { fields.first { $0.id == id } }

    /// The highest field id in use (0 for an empty schema).
    public var highestFieldID: Int32 { fields.flatMap(\.allIDs).max() ?? 0 }

    /// The schema's JSON form, with `schema-id`.
    public var json: JSONValue {
        .object([
            ("type", .string("struct")), ("schema-id", .int(Int64(schemaID))),
            ("fields", .array(fields.map(\.json))),
        ])
    }

    /// Parses a schema's JSON form.
    public static func parse(_ json: JSONValue) throws(IcebergError) -> IcebergSchema {
        guard let fields = json["fields"]?.arrayValue else { throw IcebergError(.invalidMetadata, "schema without fields") }
        var parsed: [IcebergField] = []
        for f in fields { parsed.append(try IcebergField.parse(f)) }
        guard let schemaID = json["schema-id"]?.int32Value else { throw IcebergError(.invalidMetadata, "schema without a 32-bit schema-id") }
        return IcebergSchema(schemaID: schemaID, fields: parsed)
    }

    /// Builds a new table's first schema from names and types, giving ids 1, 2, ... in order (a
    /// list's element id follows its field's), the way the field ids go into the Parquet files.
    public static func assigningIDs(_ columns: [(name: String, type: IcebergType, required: Bool)]) -> IcebergSchema {
        var next: Int32 = 1
        var fields: [IcebergField] = []
        for column in columns {
            fields.append(
                IcebergField(
                    id: next, name: column.name, type: column.type.withFreshIDs(after: &next),
                    required: column.required))
        }
        return IcebergSchema(schemaID: 0, fields: fields)
    }
}

extension IcebergType {
    /// This type with nested ids assigned after `next`; `next` is first consumed for the field
    /// itself (the caller's id) and then for each nested element.
    func withFreshIDs(after next: inout Int32) -> IcebergType {
        next += 1
        if case .list(_, let element, let required) = self {
            let elementID = next
            return .list(elementID: elementID, element: element.withFreshIDs(after: &next), elementRequired: required)
        }
        return self
    }
}
