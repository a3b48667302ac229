import PGClient
import PGOutput

/// Resolves the columns of a pgoutput Relation message to ``ColumnKind``s. Built-in types map by
/// OID; user types (domains, enums, extension types such as citext) are looked up once in
/// `pg_type` on a normal connection and cached.
public final class TypeResolver {
    private let connection: PGConnection
    private var cache: [UInt32: (base: UInt32, kind: Character, name: String, baseTypmod: Int32)] = [:]
    /// The primary key's column names per table OID, from the catalog (empty: no primary key).
    private var primaryKeys: [UInt32: Set<String>] = [:]

    public init(connection: PGConnection) { self.connection = connection }

    /// The stream relation for a Relation message.
    public func resolve(_ relation: PGOutputMessage.Relation) throws -> StreamRelation {
        // The catalog's description maps a column exactly as the snapshot reader does (arrays by
        // their declared dimensions, domains by their base type) while it still matches the
        // stream's layout; otherwise the type OID and typmod the stream sent decide.
        let columns = try Catalog.tableColumns(oid: relation.oid, on: connection)
        let catalog = Dictionary(columns.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let sentNames = Set(relation.columns.map(\.name))
        // The catalog is today's; a Relation sent before a RENAME COLUMN names the column as it was.
        // With the same number of columns, a column of the same type at the same place is the same
        // column (its attnum), so files of both layouts line up.
        let samePlaces = columns.count == relation.columns.count
        var kinds: [ColumnKind] = []
        var attnums: [Int] = [], typeNames: [String] = [], missingValues: [String?] = []
        for (place, column) in relation.columns.enumerated() {
            var described = catalog[column.name]
            if described == nil, samePlaces, columns[place].typeOID == column.typeOID, !sentNames.contains(columns[place].name) {
                described = columns[place]
            }
            if let described, described.typeOID == column.typeOID, described.typmod == column.typeModifier {
                kinds.append(ColumnKind(described))
                typeNames.append(described.typeName)
            } else {
                kinds.append(try kind(typeOID: column.typeOID, typmod: column.typeModifier))
                typeNames.append("")
            }
            attnums.append(described?.attnum ?? 0)
            missingValues.append(described?.missingValue)
        }
        let keyNames: Set<String>
        if let known = primaryKeys[relation.oid] { keyNames = known } else {
            let r = try connection.query(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
                    + "WHERE i.indrelid = $1::oid AND i.indisprimary", [String(relation.oid)])
            keyNames = Set(r.rows.compactMap { $0[0] })
            primaryKeys[relation.oid] = keyNames
        }
        let identity: Character = switch relation.replicaIdentity {
        case .default: "d"
        case .full: "f"
        case .index: "i"
        case .nothing: "n"
        }
        return StreamRelation(oid: relation.oid, schema: relation.namespace, name: relation.name,
                              columnNames: relation.columns.map(\.name), kinds: kinds,
                              keyColumns: relation.columns.indices.filter { relation.columns[$0].isKey },
                              replicaIdentity: identity,
                              primaryKeyColumns: relation.columns.indices.filter { keyNames.contains(relation.columns[$0].name) },
                              attnums: attnums, typeNames: typeNames, missingValues: missingValues)
    }

    /// Forgets what is known of a table (after DDL).
    public func invalidate(table oid: UInt32) { primaryKeys[oid] = nil }

    func kind(typeOID: UInt32, typmod: Int32) throws -> ColumnKind {
        if typeOID < 10_000 { return ColumnKind(typeOID: typeOID, typmod: typmod) }
        if cache[typeOID] == nil {
            let r = try connection.query("""
                WITH RECURSIVE base(oid, typbasetype, typtypmod, depth) AS (
                  SELECT oid, typbasetype, typtypmod, 0 FROM pg_type WHERE oid = $1::oid
                  UNION ALL SELECT t.oid, t.typbasetype, t.typtypmod, b.depth + 1 FROM base b JOIN pg_type t ON t.oid = b.typbasetype
                  WHERE b.typbasetype <> 0)
                SELECT b.oid, t.typtype, t.typname, (SELECT typtypmod FROM base WHERE depth = 1)
                FROM base b JOIN pg_type t ON t.oid = b.oid ORDER BY b.depth DESC LIMIT 1
                """, [String(typeOID)])
            guard let row = r.rows.first, let base = row[0].flatMap({ UInt32($0) }) else {
                return .textCast
            }
            cache[typeOID] = (base, row[1]?.first ?? "b", row[2] ?? "", row[3].flatMap { Int32($0) } ?? -1)
        }
        let t = cache[typeOID]!
        // A domain's typmod is its base's (typtypmod), not the column's.
        let mod = t.base != typeOID && typmod == -1 ? t.baseTypmod : typmod
        return ColumnKind(typeOID: t.base, typmod: mod, typeKind: t.kind, typeName: t.name)
    }
}
