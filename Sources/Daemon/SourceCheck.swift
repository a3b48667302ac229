import PGClient
import Replication

/// Checks that the source can be replicated, each failure in one sentence a DBA can act on
/// (`source-setup.sql` has the statements: `config/` in the source tree,
/// `/usr/share/doc/replicatord/` where the Debian package is installed).
public enum SourceCheck {
    /// What every problem ends with: where the setup statements are.
    public static let setupHint = " (see source-setup.sql: config/ in the source tree, /usr/share/doc/replicatord/ when installed)"

    /// The tables of the publication, after checking `wal_level`, the role and the publication.
    public static func run(publication: String, on connection: PGConnection) throws -> [TableDescription] {
        var problems: [String] = []
        let walLevel = try connection.query("SHOW wal_level").rows.first?[0] ?? ""
        if walLevel != "logical" {
            problems.append("wal_level is \(walLevel), not logical (ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL; on RDS rds.logical_replication = 1)")
        }
        // On Amazon RDS the REPLICATION attribute cannot be granted; membership of rds_replication stands for it.
        let role = try connection.query("""
            SELECT rolreplication OR rolsuper OR CASE WHEN to_regrole('rds_replication') IS NULL THEN false
                                                      ELSE pg_has_role(current_user, 'rds_replication', 'MEMBER') END,
                   current_user
            FROM pg_roles WHERE rolname = current_user
            """)
        if role.rows.first?[0] != "t" {
            problems.append("role \(role.rows.first?[1] ?? "?") may not replicate (ALTER ROLE ... WITH REPLICATION; on RDS GRANT rds_replication TO ...)")
        }
        var tables: [TableDescription] = []
        do {
            tables = try Catalog.publicationTables(publication, on: connection)
            if tables.isEmpty { problems.append(CatalogError.publicationEmpty(publication).description) }
        } catch let error as CatalogError {
            problems.append(error.description)
        }
        if !tables.isEmpty {
            let unreadable = try connection.query("""
                SELECT format('%I.%I', n.nspname, c.relname) FROM pg_get_publication_tables($1) gpt
                JOIN pg_class c ON c.oid = gpt.relid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))
                ORDER BY 1
                """, [publication]).rows.compactMap { $0[0] }
            if !unreadable.isEmpty {
                let user = role.rows.first?[1] ?? "?"
                problems.append("role \(user) may not read \(unreadable.joined(separator: ", ")) (GRANT USAGE ON SCHEMA and GRANT SELECT ON those tables TO \(user))")
            }
        }
        if !problems.isEmpty {
            throw EngineError(.sourceCheckFailed, problems.joined(separator: "; ") + setupHint)
        }
        return tables
    }

    /// One warning per published table whose updates and deletes cannot be replicated: no primary
    /// key and `REPLICA IDENTITY DEFAULT` (or `NOTHING`). While such a table is in a publication that
    /// publishes updates and deletes, PostgreSQL itself refuses them ("cannot update table ...
    /// because it does not have a replica identity"); its inserts and truncates are replicated.
    public static func identityWarnings(_ tables: [TableDescription]) -> [String] {
        tables.filter { ($0.replicaIdentity == "d" && $0.primaryKey.isEmpty) || $0.replicaIdentity == "n" }
            .sorted { ($0.schema, $0.name) < ($1.schema, $1.name) }
            .map {
                let why = $0.replicaIdentity == "n" ? "has REPLICA IDENTITY NOTHING" : "has no primary key and no REPLICA IDENTITY FULL"
                return "table \($0.schema).\($0.name) \(why): PostgreSQL refuses its UPDATE and DELETE while it is published (inserts and truncates are replicated); add a primary key or run ALTER TABLE ... REPLICA IDENTITY FULL"
            }
    }
}
