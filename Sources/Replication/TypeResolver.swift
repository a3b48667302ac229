import PGClient
import PGOutput

/// Resolves the columns of a pgoutput Relation message to ``ColumnKind``s. Built-in types map by
/// OID; user types (domains, enums, extension types such as citext) are looked up once in
/// `pg_type` on a normal connection and cached.
public final class TypeResolver {
    private let connection: PGConnection
    private var cache: [UInt32: (base: UInt32, kind: Character, name: String, baseTypmod: Int32)] = [:]
    /// The publication whose tables' columns are read in one batch once a stream has sent
    /// Relation messages for more than ``relationsBeforeBatch`` tables (nil: one query per table).
    private let publication: String?
    /// Columns read in that batch, each used once, for a Relation message it still matches.
    private var prefetched: [UInt32: [ColumnDescription]] = [:]
    private var resolvedOne = 0
    private var batchRead = false
    /// Relations resolved one query at a time before the rest of the publication is read at once.
    static let relationsBeforeBatch = 16

    public init(connection: PGConnection, publication: String? = nil) {
        self.connection = connection
        self.publication = publication
    }

    /// The catalog's columns for `relation`: from the batch when it was read and still matches
    /// the message (same names, types and modifiers in the same order), else from a query now.
    private func catalogColumns(_ relation: PGOutputMessage.Relation) throws -> [ColumnDescription] {
        resolvedOne += 1
        if let publication, !batchRead, resolvedOne > Self.relationsBeforeBatch {
            // A cycle in which many tables changed: one query per 2,000 tables instead of two per table.
            batchRead = true
            let oids = try connection.query(
                "SELECT format('%I.%I', schemaname, tablename)::regclass::oid FROM pg_publication_tables WHERE pubname = $1", [publication]
            )
            .rows.compactMap { $0[0].flatMap { UInt32($0) } }
            for start in stride(from: 0, to: oids.count, by: 2_000) {
                for (oid, columns) in try Catalog.tableColumns(oids: Array(oids[start..<min(oids.count, start + 2_000)]), on: connection) {
                    prefetched[oid] = columns
                }
            }
        }
        if let columns = prefetched.removeValue(forKey: relation.oid), columns.count == relation.columns.count,
            zip(columns, relation.columns).allSatisfy({ $0.name == $1.name && $0.typeOID == $1.typeOID && $0.typmod == $1.typeModifier })
        {
            return columns
        }
        return try Catalog.tableColumns(oid: relation.oid, on: connection)
    }

    /// The stream relation for a Relation message.
    public func resolve(_ relation: PGOutputMessage.Relation) throws -> StreamRelation {
        // The catalog's description maps a column exactly as the snapshot reader does (arrays by
        // their declared dimensions, domains by their base type) while it still matches the
        // stream's layout; otherwise the type OID and typmod the stream sent decide.
        let columns = try catalogColumns(relation)
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
        // The primary key from the catalog: under REPLICA IDENTITY FULL the Relation flags every column.
        let keyNames = Set(columns.filter(\.isPrimaryKey).map(\.name))
        let identity: Character =
            switch relation.replicaIdentity {
            case .default: "d"
            case .full: "f"
            case .index: "i"
            case .nothing: "n"
            }
        return StreamRelation(
            oid: relation.oid, schema: relation.namespace, name: relation.name,
            columnNames: relation.columns.map(\.name), kinds: kinds,
            keyColumns: relation.columns.indices.filter { relation.columns[$0].isKey },
            replicaIdentity: identity,
            primaryKeyColumns: relation.columns.indices.filter { keyNames.contains(relation.columns[$0].name) },
            attnums: attnums, typeNames: typeNames, missingValues: missingValues)
    }

    func kind(typeOID: UInt32, typmod: Int32) throws -> ColumnKind {
        if typeOID < 10_000 { return ColumnKind(typeOID: typeOID, typmod: typmod) }
        if cache[typeOID] == nil {
            let r = try connection.query(
                """
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
