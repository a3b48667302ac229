import Foundation
import Logging
import ObjectStore
import PGClient
import PGOutput
import Parquet
import Replication

/// The full load: creates the slot with an exported snapshot and copies every table of the
/// publication, in that snapshot, into `schema/table/LOAD0000000N.parquet`, several tables at once.
///
/// Resumable: a table whose load did not finish is loaded again in a new consistent snapshot (a
/// temporary slot's), its old LOAD files removed first, and its change stream starts exactly at
/// that snapshot (``ReplicationState/TableState/cdcStartLSN``), so nothing is lost or doubled.
struct FullLoad {
    let settings: EngineSettings
    let store: any ObjectStore
    let keeper: StateKeeper
    let logger: Logger

    /// What was prepared on the slot's connection: the snapshot, imported by every reader.
    private struct Prepared: Sendable {
        var replication: HandOff<PGConnection>
        var readers: [HandOff<PGConnection>]
        var consistentPoint: String
        var systemID: String
    }

    /// Loads the tables not loaded yet; on return the state's phase is `cdc`.
    /// `reload` is the `full-load` migration type: every table is copied again in a fresh snapshot
    /// taken without a replication slot, its new LOAD files stored before the old ones are removed.
    /// `added` loads tables that joined the publication after the full load, during CDC: in a new
    /// snapshot (a temporary slot's), their changes starting exactly there.
    func run(tables: [TableDescription], reload: Bool = false, added: Bool = false) async throws {
        let previous = await keeper.state
        let resuming = !reload && (previous?.phase == .fullLoad || added)
        let pending = reload || added ? tables : tables.filter { previous?.tables[key($0)]?.status != .replicating || !resuming }
        let settings = self.settings
        let readerCount = max(1, min(settings.parallelTables, pending.count))
        let logger = self.logger

        let prepared = try await DedicatedThread.run(name: "replicatord-slot") { () throws -> Prepared in
            if reload {
                // A plain exported snapshot: no slot is created, none is left behind.
                let exporter = try PGConnection(conninfo: settings.conninfo)
                try exporter.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                guard let snapshot = try exporter.query("SELECT pg_export_snapshot()").rows.first?[0] ?? nil else {
                    throw PGError(.protocolViolation, "pg_export_snapshot() returned nothing")
                }
                let lsn = try exporter.query("SELECT pg_current_wal_lsn()::text").rows.first?[0] ?? nil
                var readers: [HandOff<PGConnection>] = []
                for _ in 0..<readerCount {
                    let reader = try PGConnection(conninfo: settings.conninfo)
                    try SnapshotReader.enterSnapshot(snapshot, on: reader)
                    readers.append(HandOff(reader))
                }
                let identity = try PGConnection(conninfo: settings.conninfo, replication: true).identifySystem()
                return Prepared(replication: HandOff(exporter), readers: readers, consistentPoint: lsn ?? "0/0", systemID: identity.systemID)
            }
            let replication = try PGConnection(conninfo: settings.conninfo, replication: true)
            let identity = try replication.identifySystem()
            let slot: PGConnection.CreatedSlot
            if resuming {
                // The main slot stays; a temporary slot gives a fresh snapshot for what is left.
                slot = try replication.createLogicalSlot("\(settings.slot)_resume_\(getpid())", exportSnapshot: true, temporary: true)
            } else {
                let admin = try PGConnection(conninfo: settings.conninfo)
                let existing = try admin.query("SELECT active, database, database = current_database(), plugin FROM pg_replication_slots WHERE slot_name = $1", [settings.slot])
                if let row = existing.rows.first {
                    guard row[2] == "t" else {
                        throw EngineError(.sourceCheckFailed, "replication slot \(settings.slot) belongs to database \(row[1] ?? "?"); choose another [source] slot name")
                    }
                    guard row[0] != "t" else {
                        throw EngineError(.sourceCheckFailed, "replication slot \(settings.slot) is in use by another process")
                    }
                    // Another plugin's slot is someone else's consumer (test_decoding, wal2json, ...): never drop it.
                    guard row[3] == "pgoutput" else {
                        throw EngineError(.sourceCheckFailed, "replication slot \(settings.slot) uses the \(row[3] ?? "?") plugin, not pgoutput: it belongs to another consumer; choose another [source] slot name")
                    }
                    // No checkpoint names it: nothing stored depends on it.
                    logger.notice("dropping a replication slot no checkpoint knows", metadata: ["slot.name": "\(settings.slot)"])
                    try replication.dropSlot(settings.slot)
                }
                slot = try replication.createLogicalSlot(settings.slot, exportSnapshot: true)
            }
            guard let snapshot = slot.snapshotName else {
                throw PGError(.protocolViolation, "CREATE_REPLICATION_SLOT exported no snapshot")
            }
            var readers: [HandOff<PGConnection>] = []
            for _ in 0..<readerCount {
                let reader = try PGConnection(conninfo: settings.conninfo)
                try SnapshotReader.enterSnapshot(snapshot, on: reader)
                readers.append(HandOff(reader))
            }
            return Prepared(replication: HandOff(replication), readers: readers,
                            consistentPoint: slot.consistentPoint, systemID: identity.systemID)
        }
        logger.info("full load starting", metadata: [
            "slot.name": "\(settings.slot)", "lsn.consistent_point": "\(prepared.consistentPoint)",
            "tables": "\(pending.count)", "resume": "\(resuming)",
        ])

        // The checkpoint names the slot before any file is written.
        var state = previous.flatMap { resuming || reload ? $0 : nil } ?? ReplicationState(
            slot: settings.slot, publication: settings.publication, systemID: prepared.systemID,
            phase: .fullLoad, confirmedLSN: prepared.consistentPoint)
        for table in pending {
            var t = state.tables[key(table)] ?? .init(status: .loading, oid: table.oid, cdcStartLSN: prepared.consistentPoint)
            t.status = .loading
            t.oid = table.oid
            t.cdcStartLSN = prepared.consistentPoint
            if !reload { t.loadFiles = 0 }
            state.tables[key(table)] = t
        }
        if reload { state.phase = .fullLoad; state.confirmedLSN = prepared.consistentPoint }
        state.migrationType = settings.migrationType.rawValue
        try await keeper.save(state)

        let queue = TableQueue(pending.sorted { $0.estimatedRows > $1.estimatedRows })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for reader in prepared.readers {
                group.addTask {
                    try await DedicatedThread.run(name: "replicatord-load") {
                        while let table = try BlockingBridge.wait({ await queue.next() }) {
                            try loadTable(table, on: reader.value, reload: reload)
                        }
                        try reader.value.query("COMMIT")
                    }
                }
            }
            try await group.waitForAll()
        }
        _ = prepared.replication   // the slot's connection (and a temporary slot) lives until here
        if !reload && !added { try await keeper.update { $0.phase = .cdc } }
        logger.info("full load done", metadata: ["tables": "\(pending.count)"])
    }

    /// Copies one table into its LOAD files; runs on a reader's dedicated thread.
    private func loadTable(_ table: TableDescription, on connection: PGConnection, reload: Bool) throws {
        let folder = FileNaming.tableFolder(schema: table.schema, table: table.name)
        let store = self.store
        let existing = try BlockingBridge.wait { try await store.list(prefix: folder + "LOAD") }
        // With reload the new set is numbered after the old one and stored before the old one is removed.
        let firstIndex = reload ? (existing.compactMap { FileNaming.loadIndex($0.key) }.max() ?? 0) + 1 : 1
        if !reload {
            // Leftovers of an interrupted load of this table go first: a LOAD set is one snapshot.
            for object in existing { try BlockingBridge.wait { try await store.delete(key: object.key) } }
        }

        let columns = ParquetTableWriter.columns(for: table)
        let started = ContinuousClock.now
        // The reader (COPY + decode, this thread) and the encoder (Parquet + upload, its own thread)
        // overlap through a pipe of two batches.
        let pipe = BatchPipe<ColumnBatch>(capacity: 2)
        let encoder = EncoderThread { () throws -> [StoredObject] in
            try self.encodeLoadFiles(from: pipe, folder: folder, columns: columns, firstIndex: firstIndex)
        }
        var rows: Int64 = 0
        do {
            var lastLog = started
            var seen: Int64 = 0
            rows = try SnapshotReader(connection: connection, batchRows: 8_192).read(table) { batch in
                try pipe.push(batch)
                seen += Int64(batch.rowCount)
                if ContinuousClock.now - lastLog > .seconds(5) {
                    lastLog = .now
                    logProgress(table, rows: seen, started: started)
                }
            }
            pipe.close()
        } catch {
            pipe.fail(error)
            _ = try? encoder.join()
            throw error
        }
        let files = try encoder.join()
        CrashPoint.reach(.afterLoadFilesStored)
        let bytes = files.reduce(0) { $0 + Int64($1.size) }
        let count = files.count
        let loadedRows = rows
        try BlockingBridge.wait { [keeper, key = key(table)] in
            try await keeper.update {
                $0.tables[key]?.status = .replicating
                $0.tables[key]?.loadFiles = count
                $0.tables[key]?.firstLoadFile = firstIndex
                $0.tables[key]?.fullLoadRows = loadedRows
                $0.tables[key]?.filesWritten += Int64(count)
                $0.tables[key]?.bytesWritten += bytes
            }
        }
        if reload {
            // The checkpoint names the new set: now the old one goes.
            for object in existing { try BlockingBridge.wait { try await store.delete(key: object.key) } }
        }
        let seconds = max(0.001, (ContinuousClock.now - started).inSeconds)
        logger.info("table loaded", metadata: [
            "table": "\(key(table))", "rows": "\(rows)", "files": "\(count)", "bytes": "\(bytes)",
            "rows_per_s": "\(Int(Double(rows) / seconds))",
        ])
    }

    /// Encodes the batches of `pipe` into LOAD files, cutting a new file at the maximum size;
    /// runs on the encoder thread. An upload that fails or is interrupted is aborted.
    private func encodeLoadFiles(from pipe: BatchPipe<ColumnBatch>, folder: String, columns: [ParquetTableWriter.Column],
                                 firstIndex: Int) throws -> [StoredObject] {
        var fileIndex = firstIndex
        var files: [StoredObject] = []
        var current = try openFile(folder + FileNaming.loadFile(fileIndex), columns: columns)
        do {
            let opColumn = settings.includeOpForFullLoad
            var ops: [UInt8] = []
            while let batch = try pipe.pop() {
                if opColumn, ops.count != batch.rowCount { ops = Array(repeating: UInt8(ascii: "I"), count: batch.rowCount) }
                try current.writer.append(batch, ops: opColumn ? ops : nil, unchangedToast: nil)
                if current.writer.estimatedFileBytes >= settings.maxFileBytes {
                    files.append(try current.finish())
                    fileIndex += 1
                    current = try openFile(folder + FileNaming.loadFile(fileIndex), columns: columns)
                }
            }
            files.append(try current.finish())
            return files
        } catch {
            current.sink.abort()
            pipe.fail(error)
            throw error
        }
    }

    private func logProgress(_ table: TableDescription, rows: Int64, started: ContinuousClock.Instant) {
        let seconds = (ContinuousClock.now - started).inSeconds
        var metadata: Logger.Metadata = ["table": "\(key(table))", "rows": "\(rows)", "rows_per_s": "\(Int(Double(rows) / max(seconds, 0.001)))"]
        if table.estimatedRows > 0 {
            let fraction = Double(rows) / Double(table.estimatedRows)
            metadata["percent"] = "\(Int(fraction * 100))"
            if fraction > 0 && fraction < 1 { metadata["eta_s"] = "\(Int(seconds / fraction - seconds))" }
        }
        logger.info("full load progress", metadata: metadata)
    }

    /// One LOAD file being written straight into an upload.
    private struct OpenFile {
        var writer: ParquetTableWriter
        var sink: UploadSink
        func finish() throws -> StoredObject {
            do {
                try writer.finish()
                return try sink.complete()
            } catch {
                sink.abort()
                throw error
            }
        }
    }

    private func openFile(_ key: String, columns: [ParquetTableWriter.Column]) throws -> OpenFile {
        let store = self.store
        let upload = try BlockingBridge.wait { try await store.makeUpload(key: key, contentType: "application/vnd.apache.parquet") }
        let sink = UploadSink(upload: upload, chunkSize: settings.uploadChunkBytes)
        do {
            let writer = try ParquetTableWriter(columns: columns, opColumn: settings.includeOpForFullLoad, unchangedToastColumn: false,
                                                options: settings.parquet, sink: sink)
            return OpenFile(writer: writer, sink: sink)
        } catch {
            sink.abort()
            throw error
        }
    }

    private func key(_ table: TableDescription) -> String { "\(table.schema).\(table.name)" }
}

/// A thread that runs one throwing job; ``join()`` waits for its result.
final class EncoderThread<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    init(_ body: @escaping @Sendable () throws -> T) {
        let thread = Thread { [self] in
            do { result = .success(try body()) } catch { result = .failure(error) }
            done.signal()
        }
        thread.name = "replicatord-encode"
        thread.stackSize = 8 << 20
        thread.start()
    }

    func join() throws -> T {
        done.wait()
        return try result!.get()
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number (for rates in logs).
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Hands the next table to whichever reader is free.
actor TableQueue {
    private var tables: [TableDescription]
    init(_ tables: [TableDescription]) { self.tables = tables }
    func next() -> TableDescription? { tables.isEmpty ? nil : tables.removeFirst() }
}
