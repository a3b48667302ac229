import Foundation
import PGClient
import Testing

/// A database of its own on the test bed's PostgreSQL. A test takes one for a scope and the scope
/// drops it (with its slots): `withPostgres("name") { db in ... }`, or, where a set-up hands it on,
/// `defer { db.drop() }` next to the set-up's call. Nothing is left to a deinit.
final class PostgresFixture: Sendable {
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
}

/// Runs `body` with a fresh database, dropped when `body` returns or throws.
func withPostgres<T>(_ prefix: String, _ body: (PostgresFixture) throws -> T) throws -> T {
    let db = try PostgresFixture(prefix)
    defer { db.drop() }
    return try body(db)
}

/// Runs `body` with a fresh database, dropped when `body` returns or throws.
func withPostgres<T>(_ prefix: String, _ body: (PostgresFixture) async throws -> T) async throws -> T {
    let db = try PostgresFixture(prefix)
    defer { db.drop() }
    return try await body(db)
}
