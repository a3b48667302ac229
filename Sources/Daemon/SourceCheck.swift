import Replication

/// Checks that the source can be replicated, each failure in one sentence a DBA can act on
/// (`source-setup.sql` has the statements: `config/` in the source tree,
/// `/usr/share/doc/replicatord/` where the Debian package is installed).
public enum SourceCheck {
    /// What every problem ends with: where the setup statements are.
    public static let setupHint = " (see source-setup.sql: config/ in the source tree, /usr/share/doc/replicatord/ when installed)"

    /// The tables of the publication, after checking `wal_level`, the role and the publication
    /// (the queries are ``SourceDatabase/readiness(publication:)``'s). Blocking.
    public static func run(publication: String, source: SourceDatabase) throws -> [TableDescription] {
        let readiness = try source.readiness(publication: publication)
        if !readiness.problems.isEmpty {
            throw EngineError(.sourceCheckFailed, readiness.problems.joined(separator: "; ") + setupHint)
        }
        return readiness.tables
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
                return
                    "table \($0.schema).\($0.name) \(why): PostgreSQL refuses its UPDATE and DELETE while it is published (inserts and truncates are replicated); add a primary key or run ALTER TABLE ... REPLICA IDENTITY FULL"
            }
    }
}
