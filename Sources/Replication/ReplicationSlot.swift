import PGClient

/// One logical replication slot of the source, by name: every query of `pg_replication_slots`,
/// the checks made before a slot is created or streamed from, and its removal. Blocking: call
/// from a ``DedicatedThread``.
public struct ReplicationSlot: Sendable, Equatable {
    /// The slot's name (`[source] slot`).
    public var name: String

    /// The slot named `name` (it may not exist yet).
    public init(name: String) { self.name = name }

    /// What `pg_replication_slots` says of the slot.
    public struct Facts: Sendable, Equatable {
        /// A walsender streams from it now.
        public var active: Bool
        /// The process streaming from it, when active.
        public var activePID: String?
        /// The output plugin (`pgoutput` for ours).
        public var plugin: String
        /// The database it belongs to.
        public var database: String
        /// Whether that is the database of the connection.
        public var ownDatabase: Bool
        /// `confirmed_flush_lsn` as text (nil for a physical slot).
        public var confirmedFlush: String?

        /// Whether it is a pgoutput slot of this database, one replicatord can stream from.
        public var isOurKind: Bool { plugin == "pgoutput" && ownDatabase }
    }

    /// The slot's row of `pg_replication_slots`, nil when there is no such slot.
    public func facts(on connection: PGConnection) throws -> Facts? {
        let result = try connection.query(
            """
            SELECT active, active_pid::text, plugin, database, database = current_database(), confirmed_flush_lsn::text
            FROM pg_replication_slots WHERE slot_name = $1
            """, [name])
        guard let row = result.rows.first else { return nil }
        return Facts(
            active: row[0] == "t", activePID: row[1], plugin: row[2] ?? "", database: row[3] ?? "",
            ownDatabase: row[4] == "t", confirmedFlush: row[5])
    }

    /// WAL the slot keeps on the server (`pg_current_wal_lsn() - restart_lsn`), nil without the slot.
    public func retainedWALBytes(on connection: PGConnection) throws -> Int64? {
        let result = try connection.query(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1", [name])
        return result.rows.first?[0].flatMap { Int64($0) }
    }

    /// The server's WAL position, the lag behind it of `confirmed`, and the WAL this slot retains.
    public func serverPosition(confirmed: String?, on connection: PGConnection) throws -> (walLSN: String, lagBytes: Int64?, retainedWALBytes: Int64?)? {
        let result = try connection.query(
            """
            SELECT pg_current_wal_lsn()::text,
                   pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint::text,
                   (SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text FROM pg_replication_slots WHERE slot_name = $2)
            """, [confirmed, name])
        guard let row = result.rows.first, let wal = row[0] else { return nil }
        return (wal, row[1].flatMap { Int64($0) }.map { max(0, $0) }, row[2].flatMap { Int64($0) })
    }

    /// Before the full load creates the slot: true when a slot of that name is there and may be
    /// dropped (a pgoutput slot of this database, not in use: no checkpoint names it, so nothing
    /// stored depends on it). Throws when it belongs to another database, is in use, or uses
    /// another plugin (someone else's consumer: test_decoding, wal2json, ... is never dropped).
    public func isLeftoverToDrop(on connection: PGConnection) throws -> Bool {
        guard let facts = try facts(on: connection) else { return false }
        guard facts.ownDatabase else {
            throw ReplicationSlotError(.unusable, "replication slot \(name) belongs to database \(facts.database); choose another [source] slot name")
        }
        guard !facts.active else { throw ReplicationSlotError(.unusable, "replication slot \(name) is in use by another process") }
        guard facts.plugin == "pgoutput" else {
            throw ReplicationSlotError(
                .unusable,
                "replication slot \(name) uses the \(facts.plugin) plugin, not pgoutput: it belongs to another consumer; choose another [source] slot name")
        }
        return true
    }

    /// Before a stream starts from `start`: the slot must still exist and be a pgoutput slot of
    /// this database.
    public func checkStreamable(from start: LSN, checkpointKey: String, on connection: PGConnection) throws {
        guard let facts = try facts(on: connection) else {
            throw ReplicationSlotError(
                .lost,
                "replication slot \(name) no longer exists: changes since \(start) cannot be read; drop the checkpoint (\(checkpointKey)) to start over with a full load"
            )
        }
        guard facts.isOurKind else { throw ReplicationSlotError(.lost, "replication slot \(name) is not a pgoutput slot of this database") }
    }

    /// The `cdc` migration type's start: the confirmed position of an existing pgoutput slot of
    /// this database, or the consistent point of the slot created now (without a snapshot).
    public func startForChangesOnly(conninfo: String) throws -> LSN {
        let admin = try PGConnection(conninfo: conninfo)
        if let facts = try facts(on: admin) {
            guard facts.isOurKind, let text = facts.confirmedFlush else {
                throw ReplicationSlotError(.unusable, "replication slot \(name) is not a pgoutput slot of this database")
            }
            return try LSN(serverText: text, from: "confirmed_flush_lsn")
        }
        let replication = try PGConnection(conninfo: conninfo, replication: true)
        return try LSN(serverText: replication.createLogicalSlot(name, exportSnapshot: false).consistentPoint, from: "CREATE_REPLICATION_SLOT")
    }

    /// `replicatord drop-slot`: drops the slot unless it is in use. Returns false when there was none.
    public func drop(conninfo: String) throws -> Bool {
        let connection = try PGConnection(conninfo: conninfo)
        guard let facts = try facts(on: connection) else { return false }
        if facts.active {
            throw ReplicationSlotError(.unusable, "replication slot \(name) is in use (pid \(facts.activePID ?? "?")): stop replicatord first")
        }
        try connection.query("SELECT pg_drop_replication_slot($1)", [name])
        return true
    }
}

/// A replication slot that cannot be used: gone (``Kind/lost``) or someone else's or busy
/// (``Kind/unusable``). Waiting does not make either go away.
public struct ReplicationSlotError: Error, Sendable, CustomStringConvertible {
    /// Why the slot cannot be used.
    public enum Kind: String, Sendable {
        /// The slot is gone or no longer ours: the changes since the checkpoint cannot be read.
        case lost = "replication slot lost"
        /// The slot belongs to another database or consumer, or is in use: a source check failure.
        case unusable = "source check failed"
    }
    /// Why the slot cannot be used.
    public var kind: Kind
    /// One sentence a DBA can act on.
    public var message: String
    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { "\(kind.rawValue): \(message)" }
}
