/// The table property `schema.name-mapping.default`: for each field id, the names a data file
/// without field ids may use for it, so that such files still resolve.
///
/// Spec: https://iceberg.apache.org/spec/ "Appendix C: Name Mapping Serialization"; Iceberg's table
/// configuration docs ("Column projection": `schema.name-mapping.default`).
public enum NameMapping {
    /// The property key.
    public static let propertyKey = "schema.name-mapping.default"

    /// The mapping for `current`: each field's current name first, then the names it had in
    /// `history` (older schemas) as long as no other current field uses that name.
    public static func json(current: IcebergSchema, history: [IcebergSchema]) -> JSONValue {
        let currentNames = Set(current.fields.map(\.name))
        return .array(current.fields.map { field in
            var names = [field.name]
            for schema in history.reversed() {
                if let old = schema.field(id: field.id), !names.contains(old.name), !currentNames.contains(old.name) {
                    names.append(old.name)
                }
            }
            var members: [(String, JSONValue)] = [("field-id", .int(Int64(field.id))), ("names", .array(names.map { .string($0) }))]
            if case .list(let elementID, _, _) = field.type {
                members.append(("fields", .array([.object([("field-id", .int(Int64(elementID))),
                                                           ("names", .array([.string("element")]))])])))
            }
            return .object(members)
        })
    }
}
