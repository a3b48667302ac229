import Foundation

/// The walsender commands of the streaming replication protocol, on a `replication=database`
/// connection. https://www.postgresql.org/docs/15/protocol-replication.html
extension PGConnection {
    /// What `IDENTIFY_SYSTEM` answers.
    public struct SystemIdentity: Sendable, Equatable {
        public var systemID: String
        public var timeline: Int
        /// The current WAL flush position, `X/Y`.
        public var walPosition: String
        public var database: String?
    }

    /// What `CREATE_REPLICATION_SLOT` answers.
    public struct CreatedSlot: Sendable, Equatable {
        public var slotName: String
        /// The LSN from which the slot streams: changes committed after it, none before.
        public var consistentPoint: String
        /// The exported snapshot's name, usable with `SET TRANSACTION SNAPSHOT` until this
        /// connection runs its next command.
        public var snapshotName: String?
        public var outputPlugin: String?
    }

    /// `IDENTIFY_SYSTEM`.
    public func identifySystem() throws -> SystemIdentity {
        try requireReplication("IDENTIFY_SYSTEM")
        let r = try query("IDENTIFY_SYSTEM")
        guard r.rows.count == 1, let id = r.value(0, "systemid"), let tli = r.value(0, "timeline").flatMap({ Int($0) }),
            let pos = r.value(0, "xlogpos")
        else { throw PGError(.protocolViolation, "IDENTIFY_SYSTEM answered \(r.rows.count) rows with columns \(r.columns)") }
        return SystemIdentity(systemID: id, timeline: tli, walPosition: pos, database: r.value(0, "dbname"))
    }

    /// `CREATE_REPLICATION_SLOT name LOGICAL pgoutput (SNAPSHOT 'export'|'nothing')`.
    public func createLogicalSlot(_ name: String, plugin: String = "pgoutput", exportSnapshot: Bool, temporary: Bool = false) throws -> CreatedSlot {
        try requireReplication("CREATE_REPLICATION_SLOT")
        let sql =
            "CREATE_REPLICATION_SLOT \(Self.quoteIdentifier(name))\(temporary ? " TEMPORARY" : "") LOGICAL \(Self.quoteIdentifier(plugin)) (SNAPSHOT '\(exportSnapshot ? "export" : "nothing")')"
        let r = try query(sql)
        guard r.rows.count == 1, let slot = r.value(0, "slot_name"), let point = r.value(0, "consistent_point") else {
            throw PGError(.protocolViolation, "CREATE_REPLICATION_SLOT answered \(r.rows.count) rows with columns \(r.columns)")
        }
        return CreatedSlot(
            slotName: slot, consistentPoint: point, snapshotName: r.value(0, "snapshot_name"),
            outputPlugin: r.value(0, "output_plugin"))
    }

    /// `DROP_REPLICATION_SLOT name [WAIT]`.
    public func dropSlot(_ name: String, wait: Bool = false) throws {
        try requireReplication("DROP_REPLICATION_SLOT")
        try query("DROP_REPLICATION_SLOT \(Self.quoteIdentifier(name))\(wait ? " WAIT" : "")")
    }

    /// `START_REPLICATION SLOT name LOGICAL X/Y (options)`: the connection enters COPY BOTH mode;
    /// read with ``readCopyData(timeoutMilliseconds:_:)`` and answer with ``sendCopyData(_:)``.
    public func startLogicalReplication(slot: String, from lsn: String, options: [(String, String)]) throws {
        try requireReplication("START_REPLICATION")
        let opts = options.map { "\(Self.quoteIdentifier($0.0)) '\($0.1.replacingQuote())'" }.joined(separator: ", ")
        let sql = "START_REPLICATION SLOT \(Self.quoteIdentifier(slot)) LOGICAL \(lsn)" + (opts.isEmpty ? "" : " (\(opts))")
        try startCopyBoth(sql)
    }

    /// `START_REPLICATION ... LOGICAL` spoken on the socket (``ReplicationSocket``); nil when the
    /// connection's transport cannot be (then use ``startLogicalReplication(slot:from:options:)``).
    public func startLogicalReplicationOnSocket(slot: String, from lsn: String, options: [(String, String)]) throws -> ReplicationSocket? {
        try requireReplication("START_REPLICATION")
        let opts = options.map { "\(Self.quoteIdentifier($0.0)) '\($0.1.replacingQuote())'" }.joined(separator: ", ")
        let sql = "START_REPLICATION SLOT \(Self.quoteIdentifier(slot)) LOGICAL \(lsn)" + (opts.isEmpty ? "" : " (\(opts))")
        return try ReplicationSocket.start(sql, on: self)
    }

    private func requireReplication(_ command: String) throws {
        guard isReplication else {
            throw PGError(.protocolViolation, "\(command) needs a replication=database connection")
        }
    }

    /// Quotes an SQL identifier (`"a""b"`).
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Quotes an SQL string literal (`'a''b'`).
    public static func quoteLiteral(_ text: String) -> String { "'" + text.replacingQuote() + "'" }
}

extension String {
    func replacingQuote() -> String { replacingOccurrences(of: "'", with: "''") }
}
