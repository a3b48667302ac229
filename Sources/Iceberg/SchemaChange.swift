/// A change to a table's columns that keeps the field ids of the columns it does not add, as
/// https://iceberg.apache.org/spec/ "Schema Evolution" allows: add, drop, rename, widen, make optional.
public enum SchemaChange: Sendable, Hashable {
    /// A new optional column at the end (or after the column `after`), with fresh field ids.
    case addColumn(name: String, type: IcebergType, after: String? = nil)
    /// Removes a column; its id is never given to another column.
    case dropColumn(name: String)
    /// Gives a column a new name; its id stays.
    case renameColumn(from: String, to: String)
    /// Promotes a column's type (int to long, float to double, decimal precision up).
    case widenColumn(name: String, to: IcebergType)
    /// Lets a required column hold nulls.
    case makeOptional(name: String)
}

extension IcebergSchema {
    /// The schema after `changes`, with `schemaID`; new ids start above `lastColumnID`, which is
    /// advanced. A change that names a missing column, reuses a name or narrows a type throws
    /// and leaves `lastColumnID` as it was.
    public func applying(_ changes: [SchemaChange], schemaID: Int32, lastColumnID: inout Int32) throws(IcebergError) -> IcebergSchema {
        var fields = self.fields
        var last = lastColumnID
        func index(of name: String) throws(IcebergError) -> Int {
            guard let i = fields.firstIndex(where: { $0.name == name }) else {
                throw IcebergError(.invalidSchemaChange, "no column \(name)")
            }
            return i
        }
        func requireFree(_ name: String) throws(IcebergError) {
            guard !name.isEmpty else { throw IcebergError(.invalidSchemaChange, "a column name is empty") }
            guard !fields.contains(where: { $0.name == name }) else {
                throw IcebergError(.invalidSchemaChange, "column \(name) exists already")
            }
        }
        for change in changes {
            switch change {
            case .addColumn(let name, let type, let after):
                try requireFree(name)
                let id = last + 1
                var next = id
                let field = IcebergField(id: id, name: name, type: type.withFreshIDs(after: &next), required: false)
                last = next - 1
                if let after {
                    fields.insert(field, at: try index(of: after) + 1)
                } else {
                    fields.append(field)
                }
            case .dropColumn(let name):
                fields.remove(at: try index(of: name))
            case .renameColumn(let from, let to):
                let i = try index(of: from)
                if from != to { try requireFree(to) }
                fields[i].name = to
            case .widenColumn(let name, let wider):
                let i = try index(of: name)
                guard fields[i].type == wider || fields[i].type.canPromote(to: wider) else {
                    throw IcebergError(
                        .invalidSchemaChange,
                        "column \(name) cannot change from \(fields[i].type.json.serialized) to \(wider.json.serialized)")
                }
                fields[i].type = wider
            case .makeOptional(let name):
                fields[try index(of: name)].isRequired = false
            }
        }
        lastColumnID = last
        return IcebergSchema(schemaID: schemaID, fields: fields)
    }
}
