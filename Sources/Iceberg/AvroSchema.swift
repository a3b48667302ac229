/// An Avro schema, as much of it as Iceberg's manifests, manifest lists and data files need,
/// with the extra attributes Iceberg stores in it (`field-id`, `element-id`, `logicalType`, ...).
///
/// Spec: https://avro.apache.org/docs/1.11.1/specification/ ("Schema Declaration"), and
/// Iceberg's https://iceberg.apache.org/spec/ "Appendix A: Avro" for the field-id attributes.
public indirect enum AvroSchema: Sendable, Hashable {
    case null
    case boolean
    case int
    case long
    case float
    case double
    case bytes
    case string
    /// A record: named, with its fields in order.
    case record(name: String, fields: [AvroField])
    /// An array of `items`; `attributes` carries Iceberg's `element-id` or `logicalType: map`.
    case array(items: AvroSchema, attributes: [AvroAttribute] = [])
    /// A map with string keys; `attributes` carries Iceberg's `key-id`/`value-id`.
    case map(values: AvroSchema, attributes: [AvroAttribute] = [])
    /// A union of branches (Iceberg only uses `["null", T]`).
    case union([AvroSchema])
    /// A fixed-size byte string.
    case fixed(name: String, size: Int, attributes: [AvroAttribute] = [])

    /// `["null", schema]`, how Iceberg writes an optional value.
    public static func optional(_ schema: AvroSchema) -> AvroSchema { .union([.null, schema]) }

    /// The schema as a JSON value (the form stored under `avro.schema`).
    public var json: JSONValue {
        switch self {
        case .null: return .string("null")
        case .boolean: return .string("boolean")
        case .int: return .string("int")
        case .long: return .string("long")
        case .float: return .string("float")
        case .double: return .string("double")
        case .bytes: return .string("bytes")
        case .string: return .string("string")
        case .record(let name, let fields):
            return .object([
                ("type", .string("record")), ("name", .string(name)),
                ("fields", .array(fields.map(\.json))),
            ])
        case .array(let items, let attributes):
            return .object([("type", .string("array")), ("items", items.json)] + attributes.map { ($0.key, $0.value) })
        case .map(let values, let attributes):
            return .object([("type", .string("map")), ("values", values.json)] + attributes.map { ($0.key, $0.value) })
        case .union(let branches):
            return .array(branches.map(\.json))
        case .fixed(let name, let size, let attributes):
            return .object(
                [("type", .string("fixed")), ("name", .string(name)), ("size", .int(Int64(size)))]
                    + attributes.map { ($0.key, $0.value) })
        }
    }

    /// Parses a schema from its JSON form. Named types are not referenced by name again
    /// (Iceberg's metadata files never do), so a bare name that is not a primitive fails.
    public static func parse(_ json: JSONValue) throws(IcebergError) -> AvroSchema {
        switch json {
        case .string(let name):
            switch name {
            case "null": return .null
            case "boolean": return .boolean
            case "int": return .int
            case "long": return .long
            case "float": return .float
            case "double": return .double
            case "bytes": return .bytes
            case "string": return .string
            default: throw IcebergError(.avroMismatch, "unsupported Avro type reference \(name)")
            }
        case .array(let branches):
            var parsed: [AvroSchema] = []
            for branch in branches { parsed.append(try parse(branch)) }
            return .union(parsed)
        case .object(let members):
            guard let type = json["type"] else { throw IcebergError(.avroMismatch, "Avro schema object without type") }
            let attributes = members.filter { !["type", "items", "values", "name", "size", "fields", "namespace"].contains($0.0) }
                .map { AvroAttribute($0.0, $0.1) }
            switch type.stringValue {
            case "record", "error":
                guard let name = json["name"]?.stringValue, let fields = json["fields"]?.arrayValue else {
                    throw IcebergError(.avroMismatch, "Avro record without name or fields")
                }
                var parsed: [AvroField] = []
                for f in fields { parsed.append(try AvroField.parse(f)) }
                return .record(name: name, fields: parsed)
            case "array":
                guard let items = json["items"] else { throw IcebergError(.avroMismatch, "Avro array without items") }
                return .array(items: try parse(items), attributes: attributes)
            case "map":
                guard let values = json["values"] else { throw IcebergError(.avroMismatch, "Avro map without values") }
                return .map(values: try parse(values), attributes: attributes)
            case "fixed":
                guard let name = json["name"]?.stringValue, let size = json["size"]?.intValue, size >= 0 else {
                    throw IcebergError(.avroMismatch, "Avro fixed without name or size")
                }
                return .fixed(name: name, size: Int(size), attributes: attributes)
            default:
                // A primitive written as an object, e.g. {"type": "int", "logicalType": "date"}.
                return try parse(type)
            }
        default:
            throw IcebergError(.avroMismatch, "an Avro schema is a string, an array or an object")
        }
    }
}

/// One extra attribute of an Avro schema object (`"element-id": 9`, `"logicalType": "map"`).
public struct AvroAttribute: Sendable, Hashable {
    /// The attribute name.
    public var key: String
    /// The attribute value.
    public var value: JSONValue

    /// An attribute `key: value`.
    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A field of an Avro record, with Iceberg's `field-id`.
public struct AvroField: Sendable, Hashable {
    /// The field name.
    public var name: String
    /// The field type.
    public var type: AvroSchema
    /// Iceberg's field id, written as the `field-id` attribute.
    public var fieldID: Int32?
    /// The field's default; Iceberg gives every optional field a null default.
    public var defaultValue: JSONValue?
    /// Documentation written with the field.
    public var doc: String?

    /// A field `name` of `type`, with an optional Iceberg field id, default and doc.
    public init(
        _ name: String, _ type: AvroSchema, id fieldID: Int32? = nil, default defaultValue: JSONValue? = nil,
        doc: String? = nil
    ) {
        self.name = name
        self.type = type
        self.fieldID = fieldID
        self.defaultValue = defaultValue
        self.doc = doc
    }

    /// An optional field as Iceberg writes one: `["null", type]` with a null default.
    public static func optional(_ name: String, _ type: AvroSchema, id fieldID: Int32?, doc: String? = nil) -> AvroField {
        AvroField(name, .optional(type), id: fieldID, default: .null, doc: doc)
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [("name", .string(name)), ("type", type.json)]
        if let doc { members.append(("doc", .string(doc))) }
        if let defaultValue { members.append(("default", defaultValue)) }
        if let fieldID { members.append(("field-id", .int(Int64(fieldID)))) }
        return .object(members)
    }

    static func parse(_ json: JSONValue) throws(IcebergError) -> AvroField {
        guard let name = json["name"]?.stringValue, let type = json["type"] else {
            throw IcebergError(.avroMismatch, "Avro field without name or type")
        }
        var fieldID: Int32?
        if let raw = json["field-id"] {
            guard let id = raw.int32Value else { throw IcebergError(.avroMismatch, "field-id of \(name) is not a 32-bit integer") }
            fieldID = id
        }
        return AvroField(
            name, try AvroSchema.parse(type), id: fieldID,
            default: json["default"], doc: json["doc"]?.stringValue)
    }
}
