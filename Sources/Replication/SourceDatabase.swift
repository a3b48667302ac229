import PGClient

/// The source PostgreSQL database as the daemon asks about it: the checks that it can be
/// replicated (`wal_level`, the role, the publication, the grants), its identity and version, and
/// where its WAL stands. Each call opens its own connection. Blocking: call from a
/// ``DedicatedThread``.
public struct SourceDatabase: Sendable {
    /// libpq conninfo (no password: that comes the libpq way).
    public var conninfo: String

    /// The database `conninfo` reaches.
    public init(conninfo: String) { self.conninfo = conninfo }

    /// What the source checks found: the publication's tables, and one sentence per problem.
    public struct Readiness: Sendable {
        /// The tables of the publication (empty when it is missing or empty).
        public var tables: [TableDescription]
        /// Each problem in one sentence a DBA can act on; empty when the source can be replicated.
        public var problems: [String]
    }

    /// Checks `wal_level`, the role's right to replicate, the publication and the right to read
    /// each of its tables.
    public func readiness(publication: String) throws -> Readiness {
        try Self.readiness(publication: publication, on: PGConnection(conninfo: conninfo))
    }

    static func readiness(publication: String, on connection: PGConnection) throws -> Readiness {
        var problems: [String] = []
        let walLevel = try connection.query("SHOW wal_level").rows.first?[0] ?? ""
        if walLevel != "logical" {
            problems.append(
                "wal_level is \(walLevel), not logical (ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL; on RDS rds.logical_replication = 1)")
        }
        // On Amazon RDS the REPLICATION attribute cannot be granted; membership of rds_replication stands for it.
        let role = try connection.query(
            """
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
            let unreadable = try connection.query(
                """
                SELECT format('%I.%I', n.nspname, c.relname) FROM pg_get_publication_tables($1) gpt
                JOIN pg_class c ON c.oid = gpt.relid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))
                ORDER BY 1
                """, [publication]
            ).rows.compactMap { $0[0] }
            if !unreadable.isEmpty {
                let user = role.rows.first?[1] ?? "?"
                problems.append(
                    "role \(user) may not read \(unreadable.joined(separator: ", ")) (GRANT USAGE ON SCHEMA and GRANT SELECT ON those tables TO \(user))")
            }
        }
        return Readiness(tables: tables, problems: problems)
    }

    /// The tables of `publication` (throws a ``CatalogError`` when it does not exist).
    public func publicationTables(_ publication: String) throws -> [TableDescription] {
        try Catalog.publicationTables(publication, on: PGConnection(conninfo: conninfo))
    }

    /// `IDENTIFY_SYSTEM`'s system id: one cluster's, kept in the checkpoint.
    /// The catalog's signature for `publication` (``CatalogSignature``): equal while nothing the
    /// publication's tables are read from has changed.
    public func catalogSignature(publication: String) throws -> String {
        try CatalogSignature.read(publication: publication, on: PGConnection(conninfo: conninfo))
    }

    public func systemID() throws -> String {
        try PGConnection(conninfo: conninfo, replication: true).identifySystem().systemID
    }

    /// `server_version`, as PostgreSQL prints it.
    public func serverVersion() throws -> String {
        try PGConnection(conninfo: conninfo).query("SHOW server_version").rows.first?[0] ?? "?"
    }

    /// Connects and runs `SELECT 1`: the source answers.
    public func ping() throws {
        try PGConnection(conninfo: conninfo).query("SELECT 1")
    }

    /// The server's WAL flush position now: where a CDC cycle cuts the stream.
    public func currentFlushLSN() throws -> LSN {
        let result = try PGConnection(conninfo: conninfo).query("SELECT pg_current_wal_flush_lsn()::text")
        guard let text = result.rows.first?[0], let lsn = LSN(text) else {
            throw PGError(.protocolViolation, "pg_current_wal_flush_lsn() returned no LSN")
        }
        return lsn
    }

    /// `slot`'s row of `pg_replication_slots` (nil when there is none).
    public func facts(of slot: ReplicationSlot) throws -> ReplicationSlot.Facts? {
        try slot.facts(on: PGConnection(conninfo: conninfo))
    }

    /// WAL `slot` keeps on the server, nil without the slot.
    public func retainedWALBytes(of slot: ReplicationSlot) throws -> Int64? {
        try slot.retainedWALBytes(on: PGConnection(conninfo: conninfo))
    }

    /// The server's WAL position, the lag behind it of `confirmed`, and the WAL `slot` retains.
    public func serverPosition(confirmed: String?, slot: ReplicationSlot) throws -> (walLSN: String, lagBytes: Int64?, retainedWALBytes: Int64?)? {
        try slot.serverPosition(confirmed: confirmed, on: PGConnection(conninfo: conninfo))
    }
}
