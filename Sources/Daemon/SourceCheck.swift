import PGClient
import Replication

/// Checks that the source can be replicated, each failure in one sentence a DBA can act on
/// (`config/source-setup.sql` has the statements).
public enum SourceCheck {
    /// The tables of the publication, after checking `wal_level`, the role and the publication.
    public static func run(publication: String, on connection: PGConnection) throws -> [TableDescription] {
        var problems: [String] = []
        let walLevel = try connection.query("SHOW wal_level").rows.first?[0] ?? ""
        if walLevel != "logical" {
            problems.append("wal_level is \(walLevel), not logical (ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL)")
        }
        let role = try connection.query("SELECT rolreplication OR rolsuper, current_user FROM pg_roles WHERE rolname = current_user")
        if role.rows.first?[0] != "t" {
            problems.append("role \(role.rows.first?[1] ?? "?") may not replicate (ALTER ROLE ... WITH REPLICATION)")
        }
        var tables: [TableDescription] = []
        do {
            tables = try Catalog.publicationTables(publication, on: connection)
            if tables.isEmpty { problems.append(CatalogError.publicationEmpty(publication).description) }
        } catch let error as CatalogError {
            problems.append(error.description)
        }
        if !problems.isEmpty {
            throw EngineError(.sourceCheckFailed, problems.joined(separator: "; ") + " (see config/source-setup.sql)")
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
