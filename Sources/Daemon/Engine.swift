import Foundation
import Logging
import ObjectStore
import Replication
import Synchronization

/// The replication engine: one cycle at a time (the full load when it has not been done, else one
/// CDC cycle), each ending with the checkpoint stored and the LSN confirmed.
public final class Engine: Sendable {
    public let settings: EngineSettings
    public let store: any ObjectStore
    public let keeper: CheckpointStore
    /// The running full load's counters (rows, rates, ETAs), for `/health` and the progress log.
    public let progress = FullLoadProgress()
    let logger: Logger
    /// Service mode keeps the replication connection open between cycles and reads it
    /// continuously; `--once` and the tests open it per cycle.
    let keepStreamOpen: Bool
    private let live = LiveStreamHolder()
    /// Whether this process has looked for multipart uploads left open by a killed predecessor.
    private let orphansSwept = Mutex(false)
    /// Whether the tables whose updates and deletes cannot be replicated have been named in the log.
    private let identityWarned = Mutex(false)
    /// The publication's tables, read in full only when the catalog changed.
    let catalog: SourceCatalog

    public init(settings: EngineSettings, store: any ObjectStore, logger: Logger, keepStreamOpen: Bool = false) {
        self.settings = settings
        self.store = store
        self.keeper = CheckpointStore(store: store, logger: logger)
        self.logger = logger
        self.keepStreamOpen = keepStreamOpen
        let spool = (settings.spoolDirectory as NSString).appendingPathComponent(settings.slot)
        self.catalog = SourceCatalog(cacheFile: CatalogCacheFile(directory: spool, conninfo: settings.conninfo, publication: settings.publication))
    }

    /// Ends the replication stream kept open between cycles, if any (service mode's shutdown).
    public func close() async {
        await live.replace(with: nil)
    }

    /// What one call of ``runCycle()`` did.
    public enum Outcome: Sendable {
        case fullLoad(tables: Int)
        case cdc(CycleReport)
    }

    /// Runs the next cycle: checks the source, then the full load or one CDC cycle.
    public func runCycle() async throws -> Outcome {
        do {
            return try await nextCycle()
        } catch {
            // Whatever failed, the stream kept open is closed: what it holds beyond the checkpoint
            // is read again by the next one. (An open stream must not outlive a failing source: a
            // PostgreSQL shutting down waits for its walsenders' clients to confirm everything.)
            await live.replace(with: nil)
            throw error
        }
    }

    /// Runs one cycle as ``CycleStateMachine`` orders it: the order of its effects (the full load
    /// or its resume, the redo of an interrupted cycle, intent, files, checkpoint, confirmation)
    /// comes from the machine; this function only does them.
    private func nextCycle() async throws -> Outcome {
        var machine = CycleStateMachine(
            migrationType: settings.migrationType, iceberg: settings.iceberg,
            uploadsSwept: orphansSwept.withLock { $0 })
        var tables: [TableDescription] = []
        var systemID = ""
        var report: CycleReport?
        do {
            var action = try machine.cycleDue()
            while true {
                switch action {
                case .abortOrphanedUploads:
                    try await abortOrphanedUploads()
                    action = try machine.uploadsAborted()
                case .loadCheckpoint:
                    let state: Checkpoint?
                    (state, tables, systemID) = try await loadCheckpoint()
                    action = try machine.checkpointLoaded(try state.map(CycleStateMachine.CheckpointSummary.init))
                case .runFullLoad:
                    // `full-load` copies everything again in a fresh snapshot each cycle; no slot is kept.
                    try await FullLoad(settings: settings, store: store, keeper: keeper, logger: logger, progress: progress)
                        .run(tables: tables, reload: settings.migrationType == .fullLoad)
                    action = try machine.fullLoadDone()
                case .startChangesOnly:
                    try await startChangesOnly(tables: tables, systemID: systemID)
                    action = try machine.changesOnlyStarted(try await currentCheckpoint())
                case .loadNewTables:
                    try await loadNewTables(tables)
                    action = try machine.newTablesLoaded(try await currentCheckpoint())
                case .readServerPosition, .cut:
                    guard let state = await keeper.state else { preconditionFailure("a CDC cycle without a checkpoint") }
                    let redo = state.pending != nil
                    let (cycle, next) = try await cdcCycle(state: state, tables: tables, machine: &machine, from: action)
                    if var earlier = report {
                        earlier.files += cycle.files
                        earlier.rows += cycle.rows
                        earlier.transactions += cycle.transactions
                        earlier.confirmedLSN = cycle.confirmedLSN
                        earlier.targetLSN = cycle.targetLSN
                        earlier.stoppedEarly = cycle.stoppedEarly
                        report = earlier
                    } else {
                        report = cycle
                    }
                    if redo {
                        // That was the redo of an interrupted cycle, to its recorded end; now the cycle itself.
                        logger.notice("interrupted cycle redone", metadata: ["files": "\(cycle.files.count)", "lsn.confirmed": "\(cycle.confirmedLSN)"])
                    }
                    action = next
                case .finish(.fullLoad):
                    return .fullLoad(tables: tables.count)
                case .finish(.cdc):
                    guard let report else { throw EngineError(.cycleOrder, "a CDC cycle finished without running") }
                    return .cdc(report)
                case .removeOrphanFiles, .writeIntent, .storeFiles, .commitIceberg, .writeCheckpoint, .confirm, .reportFailure:
                    throw EngineError(.cycleOrder, "the engine was asked for \(action), a step of CDCCycle")
                }
            }
        } catch {
            _ = machine.failed()
            throw error
        }
    }

    /// The checkpoint as the machine needs it.
    private func currentCheckpoint() async throws -> CycleStateMachine.CheckpointSummary {
        guard let state = await keeper.state else { throw EngineError(.cycleOrder, "no checkpoint after it was stored") }
        return try CycleStateMachine.CheckpointSummary(state)
    }

    /// Loads the checkpoint, checks the source and that the checkpoint belongs to it (this
    /// migration type, this cluster, this slot). Returns the checkpoint, the publication's tables
    /// and the source's system identifier.
    private func loadCheckpoint() async throws -> (Checkpoint?, [TableDescription], String) {
        let state = try await keeper.load()
        let settings = self.settings
        // The source check and every table's columns only when the catalog changed (SourceCatalog).
        let (tables, systemID) = try await catalog.tables(settings: settings)
        if identityWarned.withLock({ warned in
            defer { warned = true }; return !warned
        }) {
            for warning in SourceCheck.identityWarnings(tables) { logger.warning("\(warning)") }
        }
        if let state {
            if let made = state.migrationType, made != settings.migrationType.rawValue {
                throw EngineError(
                    .stateCorrupt,
                    "the checkpoint was made with migration_type \(made), the configuration says \(settings.migrationType.rawValue); use another target prefix or remove \(Checkpoint.key)"
                )
            }
            if let stored = state.systemID, stored != systemID {
                throw EngineError(.wrongCluster, "the checkpoint belongs to PostgreSQL system \(stored), the source is \(systemID)")
            }
            guard state.slot == settings.slot else {
                throw EngineError(.stateCorrupt, "the checkpoint is for slot \(state.slot), the configuration names \(settings.slot)")
            }
        }
        return (state, tables, systemID)
    }

    /// `full-load-and-cdc` between cycles: tables added to the publication since the full load get
    /// one of their own first (and so does a table whose own load was interrupted); then the tables
    /// `reload-table` asks for.
    private func loadNewTables(_ tables: [TableDescription]) async throws {
        guard let current = await keeper.state else { return }
        let requested = Set(try await TableReloadRequest.pending(in: store))
        let added = tables.filter { !requested.contains(key($0)) && (current.tables[key($0)] == nil || current.tables[key($0)]?.status == .loading) }
        if !added.isEmpty {
            logger.info("tables added to the publication: loading them", metadata: ["tables": "\(added.map(key))"])
            await tablesAdded()
            try await FullLoad(settings: settings, store: store, keeper: keeper, logger: logger, progress: progress).run(tables: added, added: true)
        }
        try await reloadTables(requested, of: tables)
    }

    /// One CDC cycle on the stream kept open (service mode) or on a new one. A stream is reused
    /// only when it stands at the checkpoint's position and reads what the checkpoint needs (the
    /// same tables' start positions and value format); a redo of an interrupted cycle always gets
    /// a new stream, so that it ends where its intent says.
    private func cdcCycle(
        state: Checkpoint, tables: [TableDescription], machine: inout CycleStateMachine,
        from action: CycleStateMachine.Action
    ) async throws -> (CycleReport, CycleStateMachine.Action) {
        let identity = CDCCycle.streamIdentity(settings: settings, state: state, tables: tables)
        let start = machine.checkpointed
        guard state.confirmedLSN == start else {
            throw EngineError(.cycleOrder, "the cycle starts from \(start), the stored checkpoint is at \(state.confirmedLSN)")
        }
        let redo: Bool = if case .cut(_, _, redo: true) = action { true } else { false }
        var stream = await live.current
        if let existing = stream, existing.isFinished || existing.identity != identity || existing.position != start || redo {
            await live.replace(with: nil)
            stream = nil
        }
        let opened: ChangeFeed
        if let stream {
            opened = stream
        } else {
            opened = ChangeFeed(settings: settings, start: start, identity: identity, continuous: keepStreamOpen, logger: logger)
            await live.replace(with: opened)
        }
        let result = try await CDCCycle(settings: settings, store: store, keeper: keeper, logger: logger)
            .run(state: state, stream: opened, machine: &machine, from: action)
        if !keepStreamOpen { await live.replace(with: nil) }
        return result
    }

    /// The added tables' full load changes where their changes start: the stream must be reopened.
    private func tablesAdded() async { await live.replace(with: nil) }

    private func key(_ table: TableDescription) -> String { "\(table.schema).\(table.name)" }

    /// `reload-table` requests: each table is loaded again in a fresh snapshot, its folder's earlier
    /// files removed once the checkpoint names the new set, then its request. A table not in the
    /// publication cannot be loaded: its request is removed with a warning.
    private func reloadTables(_ requested: Set<String>, of tables: [TableDescription]) async throws {
        guard !requested.isEmpty else { return }
        let reload = tables.filter { requested.contains(key($0)) }
        for table in requested.subtracting(reload.map(key)).sorted() {
            logger.warning("reload-table asked for a table that is not in the publication; request removed", metadata: ["table": "\(table)"])
            try await TableReloadRequest.done(table, in: store)
        }
        guard !reload.isEmpty else { return }
        logger.notice("reloading tables (reload-table)", metadata: ["tables": "\(reload.map(key))"])
        await tablesAdded()
        try await FullLoad(settings: settings, store: store, keeper: keeper, logger: logger).run(tables: reload, replace: true)
        CrashPoint.reach(.afterReplacedFilesRemoved)
        for table in reload { try await TableReloadRequest.done(key(table), in: store) }
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
            logger.notice(
                "aborted a multipart upload left open by an earlier process", metadata: ["key": "\(upload.key)", "initiated": "\(upload.initiated ?? "?")"])
        }
        orphansSwept.withLock { $0 = true }
    }

    /// The `cdc` migration type's first run: no full load; the changes start where the slot does
    /// (an existing slot of this database named in the configuration, or one made now).
    private func startChangesOnly(tables: [TableDescription], systemID: String) async throws {
        let settings = self.settings
        let start = try await DedicatedThread.run(name: "replicatord-slot") {
            try ReplicationSlot(name: settings.slot).startForChangesOnly(conninfo: settings.conninfo)
        }
        var state = Checkpoint(slot: settings.slot, publication: settings.publication, systemID: systemID, phase: .cdc, confirmedLSN: start)
        state.migrationType = settings.migrationType.rawValue
        for table in tables {
            state.tables["\(table.schema).\(table.name)"] = .init(status: .replicating, oid: table.oid, cdcStartLSN: start)
        }
        try await keeper.save(state)
        logger.info("changes only: no full load", metadata: ["slot.name": "\(settings.slot)", "lsn.start": "\(start)"])
    }
}

/// The stream an engine keeps open between cycles.
private actor LiveStreamHolder {
    private(set) var current: ChangeFeed?

    /// Stops the current stream (its last confirmation is sent first) and keeps `stream` instead.
    func replace(with stream: ChangeFeed?) async {
        if let old = current, old !== stream {
            current = nil
            _ = try? await DedicatedThread.run(name: "replicatord-stream-stop") { () throws -> Bool in
                old.stop()
                return true
            }
        }
        current = stream
    }
}
