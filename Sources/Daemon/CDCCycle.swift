import Foundation
import Logging
import ObjectStore
import Replication
import Synchronization

/// What one CDC cycle did.
public struct CycleReport: Sendable {
    public var files: [String] = []
    public var rows = 0
    public var transactions = 0
    public var confirmedLSN: String = ""
    public var targetLSN: String = ""
    /// WAL the slot keeps on the server after the cycle (`pg_current_wal_lsn() - restart_lsn`).
    public var retainedWALBytes: Int64 = 0
    /// Tables put in state `error` by this cycle (`schema.table`).
    public var failedTables: [String] = []
    /// Table folders whose changes this cycle held (``CDCBatching``): read again by the next cycle.
    public var heldTables: [String] = []
    /// The cycle stored less than its target: the spool ran low (``SpoolSpace``); `--once` runs
    /// another cycle at once, the service at its next interval.
    public var stoppedEarly = false
}

/// One CDC cycle: drain the slot up to the server's WAL position at the start of the cycle, write
/// one Parquet file per table (and per layout, after DDL), store them, checkpoint, then confirm
/// the LSN to PostgreSQL. A cycle interrupted after its intent was stored is redone to the same
/// end LSN with the same file names, so a crash never loses nor doubles a change.
struct CDCCycle {
    let settings: EngineSettings
    let store: any ObjectStore
    let keeper: CheckpointStore
    let logger: Logger

    /// What a stream must be opened with for `state` and `tables`.
    static func streamIdentity(settings: EngineSettings, state: Checkpoint, tables: [TableDescription]) -> ChangeFeed.Identity {
        let confirmed = state.confirmedLSN
        // Tables whose LOAD snapshot is later than the slot's start skip what their snapshot holds.
        var tableStart: [UInt32: LSN] = [:]
        // So do tables whose own stored position is past the checkpoint's (another table's held
        // changes keep the checkpoint behind).
        for table in state.tables.values {
            let start = CDCBatching.storedBefore(table, confirmed: confirmed)
            if start > confirmed { tableStart[table.oid] = start }
        }
        let binary = tables.allSatisfy { $0.columns.allSatisfy { !ColumnKind($0).needsTextCast } }
        // Changes land under the names the stream started with; tables it does not know get their
        // own full load first (see ChangeAccumulator.tableNames).
        let names = ChangeAccumulator.tableNames(current: tables, stored: state.tables.map { ($0.key, $0.value.oid) })
        let excluded = Set(state.tables.values.filter { $0.status == .error }.map(\.oid))
        return .init(
            slot: settings.slot, publication: settings.publication, binary: binary, tableStart: tableStart,
            tableNames: names.mapValues { [$0.schema, $0.name] }, skipUnknownTables: settings.migrationType == .fullLoadAndCDC,
            excludedTables: excluded)
    }

    /// Runs the cycle on `stream` (opened at the checkpoint's LSN, or left there by the last cycle)
    /// as `machine` orders it, from `action` (reading the server's WAL position now, or cutting at
    /// the interrupted cycle's end when redoing one): cuts the stream, stores the intent, the files,
    /// the checkpoint, then confirms. Returns the report and the machine's next action.
    func run(
        state: Checkpoint, stream: ChangeFeed, machine: inout CycleStateMachine, from action: CycleStateMachine.Action,
        now: @escaping @Sendable () -> Int64 = CDCCycle.unixMilliseconds
    ) async throws -> (CycleReport, CycleStateMachine.Action) {
        let settings = self.settings
        var action = action
        if case .readServerPosition = action {
            let position = try await DedicatedThread.run(name: "replicatord-wal") {
                try SourceDatabase(conninfo: settings.conninfo).currentFlushLSN()
            }
            action = try machine.serverPositionRead(position)
        }
        guard case .cut(_, let target, _) = action else {
            throw EngineError(.cycleOrder, "a CDC cycle starts with its cut, not with \(action)")
        }
        let cut = try await stream.cut(at: target)
        let before = machine
        let (report, after, next) = try await DedicatedThread.run(name: "replicatord-cdc") {
            () throws -> (CycleReport, CycleStateMachine, CycleStateMachine.Action) in
            var machine = before
            let (report, next) = try store(cut, state: state, machine: &machine, now: now)
            return (report, machine, next)
        }
        machine = after
        guard case .confirm(let lsn) = next else {
            throw EngineError(.cycleOrder, "a CDC cycle ends with its confirmation, not with \(next)")
        }
        // Only now, with the files and the checkpoint stored, may the server forget the WAL.
        stream.confirm(lsn)
        let following = try machine.lsnConfirmed()
        if !report.heldTables.isEmpty {
            // The held changes were read past: the next cycle reads them again from the checkpoint.
            try await DedicatedThread.run(name: "replicatord-stream-stop") { () throws -> Void in stream.stop() }
        }
        var final = report
        final.retainedWALBytes =
            (try? await DedicatedThread.run(name: "replicatord-wal") {
                try SourceDatabase(conninfo: settings.conninfo).retainedWALBytes(of: ReplicationSlot(name: settings.slot)) ?? 0
            }) ?? 0
        if final.retainedWALBytes > settings.retainedWALWarnBytes {
            logger.warning(
                "the replication slot holds back much WAL on the server",
                metadata: [
                    "slot.name": "\(settings.slot)", "slot.retained_wal_bytes": "\(final.retainedWALBytes)",
                    "threshold_bytes": "\(settings.retainedWALWarnBytes)",
                ])
        }
        return (final, following)
    }

    /// Does what `machine` orders for `cut`, up to the confirmation (returned, not done): removes a
    /// differing intent's files, stores the intent, the files, the Iceberg commits and the
    /// checkpoint. Blocking.
    private func store(
        _ cut: ChangeFeed.Cut, state: Checkpoint, machine: inout CycleStateMachine,
        now: @escaping @Sendable () -> Int64
    ) throws -> (CycleReport, CycleStateMachine.Action) {
        let store = self.store, keeper = self.keeper
        var report = CycleReport()
        report.targetLSN = cut.target.description
        report.stoppedEarly = cut.stoppedEarly
        // The end the cycle will have (the machine keeps a redo's intent end when a keepalive
        // carried the stream past it with no commit after it).
        let end = state.pending.map(\.endLSN).flatMap { cut.end > $0 && cut.lastCommitEnd <= $0 ? $0 : nil } ?? cut.end
        // Tables whose changes are held (CdcMinFileSize) leave the cut here; the checkpoint stays
        // at the oldest held table's stored position.
        let (segments, plan) = settings.batching.split(cut.segments, state: state, confirmed: state.confirmedLSN, end: end, nowMilliseconds: now())
        report.heldTables = plan.held.sorted()
        var intentEnd = end
        do {
            // New names, one per segment; the machine keeps the interrupted cycle's when redoing it.
            var newKeys: [String] = []
            var lastNames: [String: String] = [:]
            for segment in segments {
                let table = "\(segment.relation.schema).\(segment.relation.name)"
                let name = FileNaming.nextCDCName(now: now(), after: lastNames[table] ?? state.tables[table]?.lastFileName)
                lastNames[table] = name
                newKeys.append(FileNaming.cdcKey(schema: segment.relation.schema, table: segment.relation.name, name: name, partition: settings.datePartition))
            }
            // Tables whose changes could not be decoded or written go to state `error`; the others go on.
            var failed: [String: String] = [:]
            for table in cut.failedTables.values { failed["\(table.schema).\(table.name)"] = table.reason }
            var keys = newKeys
            var stored: [(ChangeSegment, String, Int64)] = []
            // Counted before the writes: finishing a spool file moves the rows held in memory into it.
            var fileRows: [String: Int64] = [:]
            var failuresLogged = false
            let writtenStatistics = WrittenFileStatistics()
            var action = try machine.changesCut(
                .init(
                    end: cut.end, lastCommitEnd: cut.lastCommitEnd, newKeys: newKeys, failedTables: !failed.isEmpty,
                    heldThrough: plan.held.isEmpty ? nil : plan.confirmed))
            while true {
                switch action {
                case .removeOrphanFiles(let orphans, let folders):
                    logger.warning("redone cycle differs from its intent; removing the intent's files", metadata: ["files": "\(orphans.count)"])
                    // Snapshots of the interrupted run name those files: they go first, so a
                    // reader never plans a removed file.
                    let iceberg = IcebergSync(store: store, settings: settings)
                    for folder in folders { try iceberg.rollBackUncheckpointed(folder: folder, checkpointed: machine.checkpointed) }
                    for key in orphans { try BlockingCall.wait { try await store.delete(key: key) } }
                    action = try machine.orphanFilesRemoved()
                case .writeIntent(let intent):
                    keys = intent.files
                    intentEnd = intent.end
                    let pending = Checkpoint.PendingCycle(endLSN: intent.end, files: intent.files)
                    try BlockingCall.wait { try await keeper.update { $0.pending = pending } }
                    action = try machine.intentWritten()
                case .storeFiles(let names):
                    for (segment, key) in zip(segments, names) { fileRows[key] = Int64(segment.totalRows) }
                    try GlueCatalogSync.beforeCycleFiles(segments, keys: names, settings: settings, logger: logger)
                    let writeFailures = TableWriteFailures()
                    let sizes = try SegmentUploads.writeAll(
                        count: segments.count, isSmall: { segments[$0].spool == nil && segments[$0].totalRows <= SegmentUploads.smallRows }
                    ) { i in
                        let table = "\(segments[i].relation.schema).\(segments[i].relation.name)"
                        do {
                            return try TableFailure.scoped(table) { try self.write(segments[i], to: names[i], statistics: writtenStatistics) }
                        } catch let failure as TableFailure {
                            writeFailures.record(table, failure.description)
                            return -1
                        }
                    }
                    failed.merge(writeFailures.all) { first, _ in first }
                    for (i, segment) in segments.enumerated() {
                        if failed["\(segment.relation.schema).\(segment.relation.name)"] != nil { segment.spool?.remove(); continue }
                        stored.append((segment, names[i], sizes[i]))
                        report.rows += segment.totalRows
                    }
                    logFailures(failed)
                    failuresLogged = true
                    if !segments.isEmpty { CrashPoint.reach(.afterFilesStored) }
                    action = try machine.filesStored(stored.map(\.1), failedTables: !failed.isEmpty)
                case .commitIceberg(let end, let checkpointed, let rollBack):
                    if !failuresLogged { logFailures(failed); failuresLogged = true }
                    try commitIceberg(
                        stored, rows: fileRows, statistics: writtenStatistics, state: state, end: end, checkpointed: checkpointed, rollBack: rollBack)
                    try GlueCatalogSync.afterIcebergCycleCommits(stored.map(\.0), settings: settings, store: store, logger: logger)
                    action = try machine.icebergCommitted()
                case .writeCheckpoint(let end):
                    if !failuresLogged { logFailures(failed); failuresLogged = true }
                    try writeCheckpoint(
                        end: end, storedThrough: intentEnd, written: stored, failures: failed, lastCommitTime: cut.lastCommitTime,
                        checkpointed: machine.checkpointed)
                    if !segments.isEmpty { CrashPoint.reach(.afterStateCommitted) }
                    action = try machine.checkpointWritten()
                case .confirm(let end):
                    if !failuresLogged { logFailures(failed) }
                    report.files = stored.map(\.1)
                    report.failedTables = failed.keys.sorted()
                    report.transactions = cut.transactions
                    report.confirmedLSN = end.description
                    logger.info(
                        "cdc cycle stored",
                        metadata: [
                            "files": "\(keys.count)", "rows": "\(report.rows)", "transactions": "\(report.transactions)",
                            "lsn.confirmed": "\(end)", "lsn.target": "\(cut.target)", "tables.held": "\(plan.held.count)",
                        ])
                    return (report, action)
                default:
                    throw EngineError(.cycleOrder, "a CDC cycle's store step cannot do \(action)")
                }
            }
        } catch {
            // Spool files of segments not written are of no use: the changes are read again.
            for segment in segments { segment.spool?.remove() }
            _ = machine.failed()
            throw error
        }
    }

    /// Logs the tables put in state `error` by this cycle.
    private func logFailures(_ failed: [String: String]) {
        for (table, reason) in failed.sorted(by: { $0.key < $1.key }) {
            logger.error(
                "table cannot be replicated: it is in state error, the other tables go on",
                metadata: [
                    "table": "\(table)", "error": "\(SecretScrubber.scrub(reason))",
                    "hint": "replicatord reload-table --config FILE \(table)",
                ])
        }
    }

    /// Stores the checkpoint at `end`: the intent cleared, the written files and the failed tables recorded.
    /// `end` is where the checkpoint moves to; `storedThrough` the cycle's own end, past `end` when
    /// other tables' changes are held (the written tables record it, so they are not read twice).
    private func writeCheckpoint(
        end: LSN, storedThrough: LSN, written: [(ChangeSegment, String, Int64)], failures: [String: String],
        lastCommitTime: Int64, checkpointed confirmed: LSN
    ) throws {
        let keeper = self.keeper
        try BlockingCall.wait {
            try await keeper.update { state in
                state.pending = nil
                if end > state.confirmedLSN { state.confirmedLSN = end }
                for (segment, key, size) in written {
                    let table = "\(segment.relation.schema).\(segment.relation.name)"
                    var t = state.tables[table] ?? .init(status: .replicating, oid: segment.relation.oid, cdcStartLSN: confirmed)
                    t.inserts += Int64(segment.inserts); t.updates += Int64(segment.updates)
                    t.deletes += Int64(segment.deletes); t.truncates += Int64(segment.truncates)
                    t.filesWritten += 1; t.bytesWritten += size
                    t.lastFileName = FileNaming.cdcName(ofKey: key)
                    // Past the checkpoint's LSN when another table's changes are held.
                    t.storedThroughLSN = storedThrough > end ? storedThrough : nil
                    t.lastChangeLSN = segment.lastCommitEnd
                    t.lastChangeTime = lastCommitTime
                    state.tables[table] = t
                }
                for (table, reason) in failures {
                    var t = state.tables[table] ?? .init(status: .error, oid: 0, cdcStartLSN: confirmed)
                    t.status = .error
                    t.errorMessage = SecretScrubber.scrub(reason)
                    state.tables[table] = t
                }
            }
        }
    }

    /// `[catalog] iceberg`: one append snapshot per table that got files, before the checkpoint.
    /// A redo first rolls back what its interrupted run committed for tables it writes nothing for.
    private func commitIceberg(
        _ stored: [(ChangeSegment, String, Int64)], rows: [String: Int64], statistics: WrittenFileStatistics, state: Checkpoint,
        end: LSN, checkpointed confirmed: LSN, rollBack: [String]
    ) throws {
        let iceberg = IcebergSync(store: store, settings: settings)
        var byFolder: [String: (layouts: [[ParquetTableWriter.Column]], files: [IcebergSync.NewFile])] = [:]
        var order: [String] = []
        for (segment, key, size) in stored {
            let folder = IcebergSync.folder(of: key)
            if byFolder[folder] == nil { order.append(folder); byFolder[folder] = ([], []) }
            let columns = ParquetTableWriter.columns(for: segment.relation)
            if byFolder[folder]!.layouts.last != columns { byFolder[folder]!.layouts.append(columns) }
            byFolder[folder]!.files.append(.init(key: key, rows: rows[key] ?? 0, bytes: size, statistics: statistics.statistics(of: key), layout: columns))
        }
        for folder in rollBack { try iceberg.rollBackUncheckpointed(folder: folder, checkpointed: confirmed) }
        for folder in order {
            let table = byFolder[folder]!
            let created = try iceberg.commitCycle(folder: folder, layouts: table.layouts, files: table.files, endLSN: end, checkpointed: confirmed)
            let name = stored.first { IcebergSync.folder(of: $0.1) == folder }.map { "\($0.0.relation.schema).\($0.0.relation.name)" } ?? folder
            if created, let earlier = state.tables[name], earlier.filesWritten > 0 {
                logger.warning(
                    "the table's Iceberg table starts with this cycle: its earlier files are not in it (iceberg was turned on after them)",
                    metadata: [
                        "table": "\(name)", "hint": "replicatord reload-table --config FILE \(name)",
                    ])
            }
        }
    }

    /// Writes one segment as a CDC file: `Op`, the table's columns, `_unchanged_toast`.
    private func write(_ segment: ChangeSegment, to key: String, statistics: WrittenFileStatistics) throws -> Int64 {
        let store = self.store
        let upload = try BlockingCall.wait { try await store.makeUpload(key: key, contentType: "application/vnd.apache.parquet") }
        let sink = UploadSink(upload: upload, chunkSize: settings.uploadChunkBytes)
        if let spool = segment.spool {
            // A large segment: finish its spool file, then stream the file into the upload.
            defer { spool.remove() }
            do {
                var rest = segment
                try spool.finish(&rest)
                statistics.record(spool.written?.columns ?? [], of: key)
                CrashPoint.reach(.afterFileWritten)
                guard let file = FileHandle(forReadingAtPath: spool.path) else {
                    throw EngineError(.writeFailed, "spool file \(spool.path) cannot be read", context: .init(key: spool.path))
                }
                defer { try? file.close() }
                while let chunk = try file.read(upToCount: settings.uploadChunkBytes), !chunk.isEmpty {
                    try chunk.withUnsafeBytes { try sink.write($0) }
                }
                return Int64(try sink.complete().size)
            } catch {
                sink.abort()
                throw error
            }
        }
        do {
            let columns = ParquetTableWriter.columns(for: segment.relation)
            let writer = try ParquetTableWriter(columns: columns, opColumn: true, unchangedToastColumn: true, options: settings.parquet, sink: sink)
            try writer.append(segment.values, ops: segment.ops, unchangedToast: segment.unchangedToast, order: .changes(segment.order))
            try writer.finish()
            statistics.record(writer.written?.columns ?? [], of: key)
            CrashPoint.reach(.afterFileWritten)
            return Int64(try sink.complete().size)
        } catch {
            sink.abort()
            throw error
        }
    }

    static let unixMilliseconds: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// The tables whose file a cycle could not write (`schema.table` -> reason), filled by the writers.
final class TableWriteFailures: Sendable {
    private let failures = Mutex<[String: String]>([:])
    func record(_ table: String, _ reason: String) { failures.withLock { $0[table] = $0[table] ?? reason } }
    var all: [String: String] { failures.withLock { $0 } }
}
