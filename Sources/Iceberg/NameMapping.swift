/// The table property `schema.name-mapping.default`: for each field id, the names a data file
/// without field ids may use for it, so that such files still resolve.
///
/// Spec: https://iceberg.apache.org/spec/ "Appendix C: Name Mapping Serialization"; Iceberg's table
/// configuration docs ("Column projection": `schema.name-mapping.default`).
public enum NameMapping {
    /// The property key.
    public static let propertyKey = "schema.name-mapping.default"

    /// The mapping for `current`: each field's current name first, then the names it had in
    /// `history` (older schemas) as long as no other current field uses that name. A dropped
    /// field keeps an entry under its old id with the names no current field took, so that a
    /// file still holding the column resolves it (to an id the schema no longer reads): readers
    /// such as pyiceberg refuse a file column the mapping does not name.
    public static func json(current: IcebergSchema, history: [IcebergSchema]) -> JSONValue {
        let currentNames = Set(current.fields.map(\.name))
        var used = currentNames
        var entries: [(id: Int32, names: [String], type: IcebergType)] = current.fields.map { field in
            var names = [field.name]
            for schema in history.reversed() {
                if let old = schema.field(id: field.id), !names.contains(old.name), !currentNames.contains(old.name) {
                    names.append(old.name)
                }
            }
            return (field.id, names, field.type)
        }
        for entry in entries { used.formUnion(entry.names) }
        var dropped: [Int32: (names: [String], type: IcebergType)] = [:]
        var droppedOrder: [Int32] = []
        for schema in history.reversed() {
            for field in schema.fields where current.field(id: field.id) == nil && !used.contains(field.name) {
                if dropped[field.id] == nil { droppedOrder.append(field.id); dropped[field.id] = ([], field.type) }
                if !dropped[field.id]!.names.contains(field.name) { dropped[field.id]!.names.append(field.name) }
                used.insert(field.name)
            }
        }
        entries += droppedOrder.sorted().map { (id: $0, names: dropped[$0]!.names, type: dropped[$0]!.type) }
        return .array(
            entries.map { entry in
                var members: [(String, JSONValue)] = [("field-id", .int(Int64(entry.id))), ("names", .array(entry.names.map { .string($0) }))]
                if case .list(let elementID, _, _) = entry.type {
                    members.append(
                        (
                            "fields",
                            .array([
                                .object([
                                    ("field-id", .int(Int64(elementID))),
                                    ("names", .array([.string("element")])),
                                ])
                            ])
                        ))
                }
                return .object(members)
            })
    }
}
