import Logging
import ObjectStore
import PGClient
import PGOutput
import Replication
import Synchronization

/// The replication engine: one cycle at a time (the full load when it has not been done, else one
/// CDC cycle), each ending with the checkpoint stored and the LSN confirmed.
public final class Engine: Sendable {
    public let settings: EngineSettings
    public let store: any ObjectStore
    public let keeper: StateKeeper
    let logger: Logger
    /// Whether this process has looked for multipart uploads left open by a killed predecessor.
    private let orphansSwept = Mutex(false)
    /// Whether the tables whose updates and deletes cannot be replicated have been named in the log.
    private let identityWarned = Mutex(false)

    public init(settings: EngineSettings, store: any ObjectStore, logger: Logger) {
        self.settings = settings
        self.store = store
        self.keeper = StateKeeper(store: store, logger: logger)
        self.logger = logger
    }

    /// What one call of ``runCycle()`` did.
    public enum Outcome: Sendable {
        case fullLoad(tables: Int)
        case cdc(CycleReport)
    }

    /// Runs the next cycle: checks the source, then the full load or one CDC cycle.
    public func runCycle() async throws -> Outcome {
        try await abortOrphanedUploads()
        let state = try await keeper.load()
        let settings = self.settings
        let (tables, systemID) = try await DedicatedThread.run(name: "replicatord-check") { () throws -> ([TableDescription], String) in
            let connection = try PGConnection(conninfo: settings.conninfo)
            let tables = try SourceCheck.run(publication: settings.publication, on: connection)
            let identity = try PGConnection(conninfo: settings.conninfo, replication: true).identifySystem()
            return (tables, identity.systemID)
        }
        if identityWarned.withLock({ warned in defer { warned = true }; return !warned }) {
            for warning in SourceCheck.identityWarnings(tables) { logger.warning("\(warning)") }
        }
        if let state {
            if let made = state.migrationType, made != settings.migrationType.rawValue {
                throw EngineError(.stateCorrupt, "the checkpoint was made with migration_type \(made), the configuration says \(settings.migrationType.rawValue); use another target prefix or remove \(ReplicationState.key)")
            }
            if let stored = state.systemID, stored != systemID {
                throw EngineError(.wrongCluster, "the checkpoint belongs to PostgreSQL system \(stored), the source is \(systemID)")
            }
            guard state.slot == settings.slot else {
                throw EngineError(.stateCorrupt, "the checkpoint is for slot \(state.slot), the configuration names \(settings.slot)")
            }
        }
        switch settings.migrationType {
        case .fullLoad:
            // Every cycle copies everything again in a fresh snapshot; no slot is kept.
            try await FullLoad(settings: settings, store: store, keeper: keeper, logger: logger).run(tables: tables, reload: true)
            return .fullLoad(tables: tables.count)
        case .cdc:
            if state == nil { try await startChangesOnly(tables: tables, systemID: systemID) }
        case .fullLoadAndCDC:
            if state == nil || state?.phase == .fullLoad {
                try await FullLoad(settings: settings, store: store, keeper: keeper, logger: logger).run(tables: tables)
                return .fullLoad(tables: tables.count)
            }
        }
        if settings.migrationType == .fullLoadAndCDC, let current = await keeper.state {
            // Tables added to the publication since the full load get one of their own first.
            let added = tables.filter { current.tables["\($0.schema).\($0.name)"] == nil }
            if !added.isEmpty {
                logger.info("tables added to the publication: loading them", metadata: ["tables": "\(added.map { "\($0.schema).\($0.name)" })"])
                try await FullLoad(settings: settings, store: store, keeper: keeper, logger: logger).run(tables: added, added: true)
            }
        }
        guard let state = await keeper.state else { preconditionFailure("a CDC cycle without a checkpoint") }
        let cycle = CDCCycle(settings: settings, store: store, keeper: keeper, logger: logger)
        var report = try await cycle.run(state: state, tables: tables)
        if state.pending != nil, let recovered = await keeper.state {
            // That was the redo of an interrupted cycle, to its recorded end; now the cycle itself.
            logger.notice("interrupted cycle redone", metadata: ["files": "\(report.files.count)", "lsn.confirmed": "\(report.confirmedLSN)"])
            let next = try await cycle.run(state: recovered, tables: tables)
            report.files += next.files
            report.rows += next.rows
            report.transactions += next.transactions
            report.confirmedLSN = next.confirmedLSN
            report.targetLSN = next.targetLSN
        }
        return .cdc(report)
    }

    /// Once per process, before its first cycle stores anything: a process killed in the middle of
    /// a multipart upload (kill -9, OOM, power) leaves the upload open and its parts billed. No
    /// upload of this process is in flight yet, and one daemon owns a prefix, so every open upload
    /// under the prefix is such an orphan: abort it.
    private func abortOrphanedUploads() async throws {
        guard orphansSwept.withLock({ !$0 }) else { return }
        let open = try await store.listOpenMultipartUploads(prefix: "")
        for upload in open {
            try await store.abortMultipartUpload(upload)
            logger.notice("aborted a multipart upload left open by an earlier process", metadata: ["key": "\(upload.key)", "initiated": "\(upload.initiated ?? "?")"])
        }
        orphansSwept.withLock { $0 = true }
    }

    /// The `cdc` migration type's first run: no full load; the changes start where the slot does
    /// (an existing slot of this database named in the configuration, or one made now).
    private func startChangesOnly(tables: [TableDescription], systemID: String) async throws {
        let settings = self.settings
        let start = try await DedicatedThread.run(name: "replicatord-slot") { () throws -> String in
            let admin = try PGConnection(conninfo: settings.conninfo)
            let existing = try admin.query("SELECT confirmed_flush_lsn::text, plugin, database = current_database() FROM pg_replication_slots WHERE slot_name = $1", [settings.slot])
            if let row = existing.rows.first {
                guard row[1] == "pgoutput", row[2] == "t", let lsn = row[0] else {
                    throw EngineError(.sourceCheckFailed, "replication slot \(settings.slot) is not a pgoutput slot of this database")
                }
                return lsn
            }
            let replication = try PGConnection(conninfo: settings.conninfo, replication: true)
            return try replication.createLogicalSlot(settings.slot, exportSnapshot: false).consistentPoint
        }
        var state = ReplicationState(slot: settings.slot, publication: settings.publication, systemID: systemID, phase: .cdc, confirmedLSN: start)
        state.migrationType = settings.migrationType.rawValue
        for table in tables {
            state.tables["\(table.schema).\(table.name)"] = .init(status: .replicating, oid: table.oid, cdcStartLSN: start)
        }
        try await keeper.save(state)
        logger.info("changes only: no full load", metadata: ["slot.name": "\(settings.slot)", "lsn.start": "\(start)"])
    }
}
