import PGClient

/// A column of a published table, as pgoutput sends it (dropped and generated columns are not
/// sent by PostgreSQL 15's pgoutput, so they are not listed).
public struct ColumnDescription: Sendable, Equatable {
    /// The column's name.
    public var name: String
    /// `pg_attribute.attnum`: PostgreSQL's column order.
    public var attnum: Int
    /// The type OID (`atttypid`); for a domain this is the domain, see ``baseTypeOID``.
    public var typeOID: UInt32
    /// `atttypmod` (-1 when none): precision/scale of numeric, length of varchar, ...
    public var typmod: Int32
    /// The type as PostgreSQL prints it (`format_type`), e.g. `numeric(12,2)`.
    public var typeName: String
    /// The type a domain resolves to (the type itself when it is not a domain).
    public var baseTypeOID: UInt32
    /// `typtype` of the base type: `b` base, `e` enum, `r` range, `c` composite, `m` multirange.
    public var typeKind: Character
    /// Element type of a one-dimensional array type (`typelem` when `typcategory = 'A'`), else 0.
    public var elementTypeOID: UInt32
    /// Whether the column has NOT NULL.
    public var notNull: Bool
    /// `attndims`: the array dimensions the column was declared with (0 when not given).
    public var dimensions: Int = 0
    /// Whether the column is part of the primary key.
    public var isPrimaryKey: Bool
    /// The value rows stored before the column was added read for it (`attmissingval`, as text), when
    /// it was added with a non-volatile default; nil otherwise.
    public var missingValue: String? = nil
}

/// A table of the publication.
public struct TableDescription: Sendable, Equatable {
    /// The table's OID (`pg_class.oid`), which pgoutput's Relation messages carry.
    public var oid: UInt32
    public var schema: String
    public var name: String
    public var columns: [ColumnDescription]
    /// `relreplident`: `d` default (primary key), `f` full, `i` index, `n` nothing.
    public var replicaIdentity: Character
    /// `reltuples`, the planner's estimate of the row count (-1 or 0 when never analysed).
    public var estimatedRows: Int64

    public init(oid: UInt32, schema: String, name: String, columns: [ColumnDescription], replicaIdentity: Character, estimatedRows: Int64) {
        self.oid = oid; self.schema = schema; self.name = name; self.columns = columns
        self.replicaIdentity = replicaIdentity; self.estimatedRows = estimatedRows
    }

    /// `"schema"."table"`, quoted for SQL.
    public var qualifiedName: String {
        PGConnection.quoteIdentifier(schema) + "." + PGConnection.quoteIdentifier(name)
    }

    /// The primary key's columns in column order.
    public var primaryKey: [ColumnDescription] { columns.filter(\.isPrimaryKey) }
}

/// Reads the tables of a publication and their columns from the system catalogs.
public enum Catalog {
    /// The tables of `publication` in name order, with their columns in attnum order. Throws a
    /// ``CatalogError`` when the publication does not exist.
    public static func publicationTables(_ publication: String, on connection: PGConnection) throws -> [TableDescription] {
        let exists = try connection.query("SELECT puballtables FROM pg_publication WHERE pubname = $1", [publication])
        guard !exists.rows.isEmpty else { throw CatalogError.publicationMissing(publication) }
        let tables = try connection.query(
            """
            SELECT c.oid, n.nspname, c.relname, c.relreplident, c.reltuples::bigint
            FROM pg_get_publication_tables($1) gpt
            JOIN pg_class c ON c.oid = gpt.relid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            ORDER BY n.nspname, c.relname
            """, [publication])
        // The columns of many tables at a time: one query per batch, not one per table.
        var columnsByTable: [UInt32: [ColumnDescription]] = [:]
        let oids = tables.rows.compactMap { $0[0].flatMap { UInt32($0) } }
        for start in stride(from: 0, to: oids.count, by: columnBatch) {
            for (oid, columns) in try tableColumns(oids: Array(oids[start..<min(oids.count, start + columnBatch)]), on: connection) {
                columnsByTable[oid] = columns
            }
        }
        var result: [TableDescription] = []
        for row in tables.rows {
            guard let oidText = row[0], let oid = UInt32(oidText), let schema = row[1], let name = row[2],
                let ident = row[3]?.first
            else { continue }
            result.append(
                TableDescription(
                    oid: oid, schema: schema, name: name, columns: columnsByTable[oid] ?? [],
                    replicaIdentity: ident, estimatedRows: Int64(row[4] ?? "") ?? -1))
        }
        return result
    }

    /// Tables whose columns ``publicationTables(_:on:)`` reads in one query.
    static let columnBatch = 2_000

    /// The columns of the table with `oid` that pgoutput sends, in attnum order.
    public static func tableColumns(oid: UInt32, on connection: PGConnection) throws -> [ColumnDescription] {
        try tableColumns(oids: [oid], on: connection)[oid] ?? []
    }

    /// The columns of each table of `oids` that pgoutput sends, in attnum order (a table with no
    /// such column, or no longer there, is absent).
    public static func tableColumns(oids: [UInt32], on connection: PGConnection) throws -> [UInt32: [ColumnDescription]] {
        // A domain's base type: follow typbasetype through nested domains (getBaseType).
        let r = try connection.query(
            """
            WITH RECURSIVE base(start_oid, oid, typbasetype, depth) AS (
              SELECT t.oid, t.oid, t.typbasetype, 0 FROM pg_type t
              WHERE t.oid IN (SELECT atttypid FROM pg_attribute WHERE attrelid = ANY ($1::oid[]))
              UNION ALL
              SELECT b.start_oid, t.oid, t.typbasetype, b.depth + 1 FROM base b JOIN pg_type t ON t.oid = b.typbasetype
              WHERE b.typbasetype <> 0
            ), resolved AS (
              SELECT DISTINCT ON (start_oid) start_oid, oid AS base_oid FROM base ORDER BY start_oid, depth DESC
            )
            SELECT a.attrelid, a.attname, a.attnum, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod),
                   r.base_oid, bt.typtype, CASE WHEN bt.typcategory = 'A' THEN bt.typelem ELSE 0 END,
                   a.attnotnull, a.attndims,
                   EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary
                           AND a.attnum = ANY (i.indkey)),
                   CASE WHEN a.atthasmissing THEN (a.attmissingval::text::text[])[1] END
            FROM pg_attribute a
            JOIN resolved r ON r.start_oid = a.atttypid
            JOIN pg_type bt ON bt.oid = r.base_oid
            WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attrelid, a.attnum
            """, ["{" + oids.map(String.init).joined(separator: ",") + "}"])
        var out: [UInt32: [ColumnDescription]] = [:]
        for full in r.rows {
            guard let table = full[0].flatMap({ UInt32($0) }) else { continue }
            let row = full.dropFirst()
            let i = row.startIndex
            guard let name = row[i], let attnum = row[i + 1].flatMap({ Int($0) }), let typeOID = row[i + 2].flatMap({ UInt32($0) }),
                let typmod = row[i + 3].flatMap({ Int32($0) }), let baseOID = row[i + 5].flatMap({ UInt32($0) })
            else { continue }
            out[table, default: []].append(
                ColumnDescription(
                    name: name, attnum: attnum, typeOID: typeOID, typmod: typmod, typeName: row[i + 4] ?? "",
                    baseTypeOID: baseOID, typeKind: row[i + 6]?.first ?? "b",
                    elementTypeOID: row[i + 7].flatMap({ UInt32($0) }) ?? 0,
                    notNull: row[i + 8] == "t", dimensions: Int(row[i + 9] ?? "0") ?? 0, isPrimaryKey: row[i + 10] == "t",
                    missingValue: row[i + 11]))
        }
        return out
    }
}

/// What is wrong with the source's catalog, in one sentence a DBA can act on.
public enum CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    case publicationMissing(String)
    case publicationEmpty(String)

    public var description: String {
        switch self {
        case .publicationMissing(let p): "publication \"\(p)\" does not exist (CREATE PUBLICATION \(p) FOR TABLE ...)"
        case .publicationEmpty(let p): "publication \"\(p)\" has no tables (ALTER PUBLICATION \(p) ADD TABLE ...)"
        }
    }
}
