import Foundation
import Logging
import ObjectStore
import PGClient
import PGOutput
import Parquet
import Replication

/// What one CDC cycle did.
public struct CycleReport: Sendable {
    public var files: [String] = []
    public var rows = 0
    public var transactions = 0
    public var confirmedLSN: String = ""
    public var targetLSN: String = ""
    /// WAL the slot keeps on the server after the cycle (`pg_current_wal_lsn() - restart_lsn`).
    public var retainedWALBytes: Int64 = 0
}

/// One CDC cycle: drain the slot up to the server's WAL position at the start of the cycle, write
/// one Parquet file per table (and per layout, after DDL), store them, checkpoint, then confirm
/// the LSN to PostgreSQL. A cycle interrupted after its intent was stored is redone to the same
/// end LSN with the same file names, so a crash never loses nor doubles a change.
struct CDCCycle {
    let settings: EngineSettings
    let store: any ObjectStore
    let keeper: StateKeeper
    let logger: Logger

    func run(state: ReplicationState, tables: [TableDescription], now: @escaping @Sendable () -> Int64 = CDCCycle.unixMilliseconds) async throws -> CycleReport {
        let settings = self.settings, store = self.store, keeper = self.keeper, logger = self.logger
        guard let confirmed = LSN(state.confirmedLSN) else {
            throw EngineError(.stateCorrupt, "confirmedLSN \(state.confirmedLSN) is not an LSN")
        }
        // Tables whose LOAD snapshot is later than the slot's start skip what their snapshot holds.
        var tableStart: [UInt32: LSN] = [:]
        for table in state.tables.values { if let start = LSN(table.cdcStartLSN), start > confirmed { tableStart[table.oid] = start } }
        let startPerTable = tableStart
        let binary = tables.allSatisfy { $0.columns.allSatisfy { !ColumnKind($0).needsTextCast } }

        return try await DedicatedThread.run(name: "replicatord-cdc") { () throws -> CycleReport in
            let catalog = try PGConnection(conninfo: settings.conninfo)
            let slot = try catalog.query("SELECT plugin, database = current_database() FROM pg_replication_slots WHERE slot_name = $1", [settings.slot])
            guard let row = slot.rows.first else {
                throw EngineError(.slotLost, "replication slot \(settings.slot) no longer exists: changes since \(confirmed) cannot be read; drop the checkpoint (\(ReplicationState.key)) to start over with a full load")
            }
            guard row[0] == "pgoutput", row[1] == "t" else {
                throw EngineError(.slotLost, "replication slot \(settings.slot) is not a pgoutput slot of this database")
            }
            let stream = try ChangeStream(conninfo: settings.conninfo, confirmed: confirmed)
            let target = try state.pending.flatMap { LSN($0.endLSN) } ?? stream.currentWalPosition()
            var report = CycleReport()
            report.targetLSN = target.description
            try stream.start(slot: settings.slot, publication: settings.publication, from: confirmed, binary: binary)
            var accumulator = ChangeAccumulator(globalStart: confirmed) { text, vector in
                try TextValueParser.append(text, to: &vector)
            }
            accumulator.tableStart = startPerTable
            accumulator.spillRows = settings.cdcSpillRows
            // Changes land under the names the cycle started with; tables it does not know get their own full load first.
            accumulator.tableNames = ChangeAccumulator.tableNames(current: tables, stored: state.tables.map { ($0.key, $0.value.oid) })
            accumulator.skipUnknownTables = settings.migrationType == .fullLoadAndCDC
            // One folder per slot: daemons (or template instances) sharing a spool_dir never touch
            // each other's files.
            let spoolDirectory = (settings.spoolDirectory as NSString).appendingPathComponent(settings.slot)
            try Self.prepareSpool(spoolDirectory)
            let parquetOptions = settings.parquet
            try stream.drain(until: target, into: &accumulator, resolver: TypeResolver(connection: catalog)) { segment in
                if segment.spool == nil {
                    segment.spool = try SegmentSpool(directory: spoolDirectory, relation: segment.relation, options: parquetOptions)
                }
                try segment.spool!.spill(&segment)
            }
            let segments = accumulator.takeSegments()
            let drained = max(stream.safePosition, confirmed)
            // A keepalive can carry a redo past its intent's end; with no commit after that end it read the same transactions.
            let end = state.pending.flatMap { LSN($0.endLSN) }.flatMap { drained > $0 && accumulator.lastCommitEnd <= $0 ? $0 : nil } ?? drained

            // Names: the same as the interrupted cycle's when redoing it, else new ones.
            var keys: [String] = []
            var lastNames: [String: String] = [:]
            for segment in segments {
                let table = "\(segment.relation.schema).\(segment.relation.name)"
                let name = FileNaming.nextCDCName(now: now(), after: lastNames[table] ?? state.tables[table]?.lastFileName)
                lastNames[table] = name
                keys.append(FileNaming.tableFolder(schema: segment.relation.schema, table: segment.relation.name) + name + ".parquet")
            }
            if let pending = state.pending {
                if pending.files.count == keys.count, LSN(pending.endLSN) == end {
                    keys = pending.files
                } else {
                    logger.warning("redone cycle differs from its intent; removing the intent's files", metadata: ["files": "\(pending.files.count)"])
                    for key in pending.files { try BlockingBridge.wait { try await store.delete(key: key) } }
                }
            }
            if !segments.isEmpty {
                let intent = ReplicationState.PendingCycle(endLSN: end.description, files: keys)
                try BlockingBridge.wait { try await keeper.update { $0.pending = intent } }
            }
            var sizes: [Int64] = []
            for (segment, key) in zip(segments, keys) {
                report.rows += segment.totalRows
                sizes.append(try write(segment, to: key))
            }
            if !segments.isEmpty { CrashPoint.reach(.afterFilesStored) }
            let stored = zip(segments, zip(keys, sizes)).map { ($0, $1.0, $1.1) }
            let lastCommitTime = accumulator.lastCommitTime
            try BlockingBridge.wait {
                try await keeper.update { state in
                    state.pending = nil
                    if end > (LSN(state.confirmedLSN) ?? .zero) { state.confirmedLSN = end.description }
                    for (segment, key, size) in stored {
                        let table = "\(segment.relation.schema).\(segment.relation.name)"
                        var t = state.tables[table] ?? .init(status: .replicating, oid: segment.relation.oid, cdcStartLSN: confirmed.description)
                        t.inserts += Int64(segment.inserts); t.updates += Int64(segment.updates)
                        t.deletes += Int64(segment.deletes); t.truncates += Int64(segment.truncates)
                        t.filesWritten += 1; t.bytesWritten += size
                        t.lastFileName = String(key.split(separator: "/").last!.dropLast(".parquet".count))
                        t.lastChangeLSN = segment.lastCommitEnd.description
                        t.lastChangeTime = lastCommitTime
                        state.tables[table] = t
                    }
                }
            }
            if !segments.isEmpty { CrashPoint.reach(.afterStateCommitted) }
            // Only now, with the files and the checkpoint stored, may the server forget the WAL.
            try stream.confirm(end)
            try stream.finish()
            let retained = try catalog.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1", [settings.slot])
            if let bytes = retained.rows.first?[0].flatMap({ Int64($0) }) {
                report.retainedWALBytes = bytes
                if bytes > settings.retainedWALWarnBytes {
                    logger.warning("the replication slot holds back much WAL on the server", metadata: [
                        "slot.name": "\(settings.slot)", "slot.retained_wal_bytes": "\(bytes)",
                        "threshold_bytes": "\(settings.retainedWALWarnBytes)",
                    ])
                }
            }
            report.files = keys
            report.transactions = accumulator.transactions
            report.confirmedLSN = end.description
            logger.info("cdc cycle stored", metadata: [
                "files": "\(keys.count)", "rows": "\(report.rows)", "transactions": "\(report.transactions)",
                "lsn.confirmed": "\(end)", "lsn.target": "\(target)",
            ])
            return report
        }
    }

    /// Writes one segment as a CDC file: `Op`, the table's columns, `_unchanged_toast`.
    private func write(_ segment: ChangeSegment, to key: String) throws -> Int64 {
        let store = self.store
        let upload = try BlockingBridge.wait { try await store.makeUpload(key: key, contentType: "application/vnd.apache.parquet") }
        let sink = UploadSink(upload: upload, chunkSize: settings.uploadChunkBytes)
        if let spool = segment.spool {
            // A large segment: finish its spool file, then stream the file into the upload.
            defer { spool.remove() }
            do {
                var rest = segment
                try spool.finish(&rest)
                CrashPoint.reach(.afterFileWritten)
                guard let file = FileHandle(forReadingAtPath: spool.path) else {
                    throw EngineError(.writeFailed, "spool file \(spool.path) cannot be read")
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
            try writer.append(segment.values, ops: segment.ops, unchangedToast: segment.unchangedToast)
            try writer.finish()
            CrashPoint.reach(.afterFileWritten)
            return Int64(try sink.complete().size)
        } catch {
            sink.abort()
            throw error
        }
    }

    /// Creates the spool directory if needed and removes spool files a crashed run left behind.
    static func prepareSpool(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory)
            where name.hasPrefix("replicatord-cdc-") && name.hasSuffix(".parquet") {
                try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
            }
        } catch {
            throw EngineError(.writeFailed, "spool directory \(directory) ([task] spool_dir) is not usable: \(error.localizedDescription)")
        }
    }

    static let unixMilliseconds: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
}
