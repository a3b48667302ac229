import Foundation
import PGClient
import Testing

/// A database of its own on the test bed's PostgreSQL, dropped (with its slots) at the end.
final class PostgresFixture: @unchecked Sendable {
    /// libpq conninfo for the new database.
    let conninfo: String
    let database: String
    private let adminConninfo: String

    /// Creates a fresh database named after `prefix` and a random suffix.
    init(_ prefix: String) throws {
        adminConninfo = try TestEnvironment.require("REPLICATORD_TEST_PG")
        database = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))".lowercased()
        let admin = try PGConnection(conninfo: adminConninfo)
        try admin.query("CREATE DATABASE \(PGConnection.quoteIdentifier(database))")
        conninfo = adminConninfo + " dbname=\(database)"
    }

    /// A normal connection to the fixture's database.
    func connect() throws -> PGConnection { try PGConnection(conninfo: conninfo) }
    /// A `replication=database` connection to the fixture's database.
    func connectReplication() throws -> PGConnection { try PGConnection(conninfo: conninfo, replication: true) }

    /// Runs SQL statements on a fresh connection.
    func execute(_ sql: String) throws {
        let c = try connect()
        try c.query(sql)
    }

    /// Drops the slots of the database, then the database.
    func drop() {
        guard let admin = try? PGConnection(conninfo: adminConninfo) else { return }
        _ = try? admin.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active", [database])
        _ = try? admin.query("DROP DATABASE IF EXISTS \(PGConnection.quoteIdentifier(database)) WITH (FORCE)")
    }

    deinit { drop() }
}
