import Foundation
import Logging
import ObjectStore
import Replication
import Synchronization

/// The full load: creates the slot with an exported snapshot and copies every table of the
/// publication, in that snapshot, into `schema/table/LOAD0000000N.parquet`, several tables at once.
///
/// Resumable: a table whose load did not finish is loaded again in a new consistent snapshot (a
/// temporary slot's), its old LOAD files removed first, and its change stream starts exactly at
/// that snapshot (``Checkpoint/TableState/cdcStartLSN``), so nothing is lost or doubled.
struct FullLoad {
    let settings: EngineSettings
    let store: any ObjectStore
    let keeper: CheckpointStore
    let logger: Logger
    /// Counts rows as they are read, for `/health`, the status page and the progress log.
    var progress: FullLoadProgress? = nil

    /// Decoded bytes above which a batch is encoded before the reader goes on (batches this large
    /// come from rows with large values, read in pieces after the COPY: see SnapshotReader).
    static let largeBatchBytes = 64 << 20

    /// Rows per batch from the reader: 8,192, fewer for a wide table (a batch holds at most about
    /// 1,000,000 values, and the pipe three batches: 8,192 rows of 1,000 columns were 300 MB).
    static func batchRows(columns: Int) -> Int { max(64, min(8_192, 1_000_000 / max(1, columns))) }

    /// Loads the tables not loaded yet; on return the state's phase is `cdc`.
    /// `reload` is the `full-load` migration type: every table is copied again in a fresh snapshot
    /// taken without a replication slot, its new LOAD files stored before the old ones are removed.
    /// `added` loads tables that joined the publication after the full load, during CDC: in a new
    /// snapshot (a temporary slot's), their changes starting exactly there. `replace` (with `added`)
    /// is `reload-table`: the table's new LOAD set is numbered after its files, and every file the
    /// folder held before (LOAD and CDC) is removed once the checkpoint names the new set.
    ///
    /// A table whose rows cannot be read, encoded or stored (a ``TableFailure``) goes to state
    /// `error`; the others are loaded and the load goes on.
    func run(tables: [TableDescription], reload: Bool = false, added: Bool = false, replace: Bool = false) async throws {
        let previous = await keeper.state
        let added = added || replace
        // Whether the new LOAD sets replace what the folders hold, removed once the checkpoint names them.
        let replacing = reload || replace
        let resuming = !reload && (previous?.phase == .fullLoad || added)
        let pending = reload || added ? tables : tables.filter { previous?.tables[key($0)]?.status != .replicating || !resuming }
        let settings = self.settings
        let logger = self.logger

        let mode: SnapshotSession.Mode = reload ? .plainSnapshot : resuming ? .temporarySlot : .newSlot
        let options = SnapshotSession.Options(
            conninfo: settings.conninfo, slot: ReplicationSlot(name: settings.slot), mode: mode,
            parallelTables: settings.parallelTables, minRangePages: settings.minRangePages)
        let prepared = try await DedicatedThread.run(name: "replicatord-slot") {
            try SnapshotSession.open(options, tables: pending, logger: logger)
        }
        let units = Self.units(of: prepared, order: Self.snapshotOrder(prepared.consistentPoint), settings: settings)
        logger.info(
            "full load starting",
            metadata: [
                "slot.name": "\(settings.slot)", "lsn.consistent_point": "\(prepared.consistentPoint)",
                "tables": "\(pending.count)", "resume": "\(resuming)", "readers": "\(prepared.readers.count)",
                "page_ranges": "\(units.count)",
            ])

        try await GlueCatalogSync.beforeLoadFiles(pending, settings: settings, logger: logger)
        // The checkpoint names the slot before any file is written.
        var state =
            previous.flatMap { resuming || reload ? $0 : nil }
            ?? Checkpoint(
                slot: settings.slot, publication: settings.publication, systemID: prepared.systemID,
                phase: .fullLoad, confirmedLSN: prepared.consistentPoint)
        for table in pending {
            var t = state.tables[key(table)] ?? .init(status: .loading, oid: table.oid, cdcStartLSN: prepared.consistentPoint)
            t.status = .loading
            t.oid = table.oid
            t.cdcStartLSN = prepared.consistentPoint
            t.errorMessage = nil
            if !replacing { t.loadFiles = 0 }
            state.tables[key(table)] = t
        }
        if reload { state.phase = .fullLoad; state.confirmedLSN = prepared.consistentPoint }
        state.migrationType = settings.migrationType.rawValue
        try await keeper.save(state)
        progress?.begin(tables: pending.map { (key($0), $0.estimatedRows) })
        defer { progress?.end() }

        // What the store holds already, listed once for all the tables rather than once per table.
        let leftovers = try await LoadLeftovers.list(in: store, tables: pending.count, added: added)
        let queue = TableQueue(units)
        let background = SmallTableUploads()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for reader in prepared.readers {
                    group.addTask {
                        try await DedicatedThread.run(name: "replicatord-load") {
                            let connection = reader.value
                            while let unit = try BlockingCall.wait({ await queue.next() }) {
                                try connection.beginPiece()
                                do {
                                    try loadRange(unit, on: connection, replace: replacing, leftovers: leftovers, background: background)
                                } catch let failure as TableFailure {
                                    try tableFailed(unit.load, failure)
                                    // The COPY was cancelled, which ends the reader's transaction: a new
                                    // connection enters the same snapshot for the units left.
                                    try connection.reopen()
                                }
                            }
                            try connection.finish()
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await DedicatedThread.run(name: "replicatord-drain") { try background.drain() }
        } catch {
            // The tables loaded so far are recorded (their files are all stored); the others are loaded again.
            _ = try? await DedicatedThread.run(name: "replicatord-drain") { try background.drain() }
            try? await keeper.flushDeferred()
            if replacing { try? await removeReplaced(leftovers) }
            throw error
        }
        _ = prepared.holder  // the slot's connection (and a temporary slot) lives until here
        if !reload && !added { try await keeper.update { $0.phase = .cdc } } else { try await keeper.flushDeferred() }
        // The checkpoint names the new LOAD sets: now what the folders held before goes.
        if replacing {
            CrashPoint.reach(.afterReplacingSetCommitted)
            try await removeReplaced(leftovers)
        }
        let (writes, objects, bytes) = (await keeper.checkpointWrites, await keeper.objectsWritten, await keeper.bytesWritten)
        logger.notice(
            "full load done",
            metadata: [
                "tables": "\(pending.count)", "checkpoint.writes": "\(writes)", "checkpoint.objects": "\(objects)", "checkpoint.bytes": "\(bytes)",
            ])
    }

    /// The order of the rows of a LOAD set (`_seq`, `_commit_ts`): the snapshot's LSN and the time it was taken.
    static func snapshotOrder(_ lsn: LSN) -> RowOrder {
        .snapshot(lsn: lsn.value, unixMicros: Int64(Date().timeIntervalSince1970 * 1_000_000))
    }

    /// The session's plan as units the readers share, each table's units sharing one ``TableLoad``.
    /// Every reader has a file open, each buffering a row group: they share one memory budget.
    private static func units(of session: SnapshotSession, order: RowOrder, settings: EngineSettings) -> [LoadUnit] {
        let rowGroupBytes = min(settings.parquet.rowGroupBytes, max(1 << 20, settings.fullLoadRowGroupBudget / session.readers.count))
        var units: [LoadUnit] = []
        for planned in session.plan {
            let load = TableLoad(table: planned.table, ranges: planned.ranges.count, order: order)
            for range in planned.ranges { units.append(LoadUnit(load: load, pages: range, rowGroupBytes: rowGroupBytes)) }
        }
        return units
    }

    /// Copies one unit (a whole table or one page range of it) into LOAD files; the unit that ends
    /// its table last records the table as loaded. Runs on a reader's dedicated thread.
    /// Puts a table whose rows could not be read, encoded or stored in state `error` (once, whichever
    /// of its units failed first); its other units are skipped.
    private func tableFailed(_ load: TableLoad, _ failure: TableFailure) throws {
        guard load.markFailed() else { return }
        logger.error(
            "table cannot be loaded: it is in state error, the other tables go on",
            metadata: [
                "table": "\(failure.table)", "error": "\(SecretScrubber.scrub(failure.description))",
                "hint": "replicatord reload-table --config FILE \(failure.table)",
            ])
        let message = SecretScrubber.scrub(failure.description)
        try BlockingCall.wait { [keeper, key = key(load.table)] in
            try await keeper.update {
                $0.tables[key]?.status = .error
                $0.tables[key]?.errorMessage = message
            }
        }
    }

    /// Copies one unit (a whole table or one page range of it) into LOAD files; the unit that ends
    /// its table last records the table as loaded. Runs on a reader's dedicated thread. A failure
    /// of the table's own comes out as a ``TableFailure``.
    private func loadRange(
        _ unit: LoadUnit, on connection: SnapshotSession.Reader, replace: Bool, leftovers: LoadLeftovers,
        background: SmallTableUploads
    ) throws {
        let load = unit.load
        guard !load.failed else { return }
        let folder = FileNaming.tableFolder(schema: load.table.schema, table: load.table.name)
        let firstIndex = try load.prepareOnce { try clearLeftovers(folder: folder, replace: replace, leftovers: leftovers) }
        try TableFailure.scoped(key(load.table)) {
            try copyRange(unit, on: connection, folder: folder, firstIndex: firstIndex, replace: replace, leftovers: leftovers, background: background)
        }
    }

    /// Reads one unit into LOAD files and records the table when this was its last unit.
    private func copyRange(
        _ unit: LoadUnit, on connection: SnapshotSession.Reader, folder: String, firstIndex: Int, replace: Bool,
        leftovers: LoadLeftovers, background: SmallTableUploads
    ) throws {
        let load = unit.load
        let table = load.table
        let columns = ParquetTableWriter.columns(for: table)
        let started = ContinuousClock.now
        // The reader (COPY + decode, this thread) and the encoder (Parquet + upload, its own thread)
        // overlap through a pipe of two batches.
        let pipe = BoundedBlockingQueue<ColumnBatch>(capacity: 2)
        // A whole table (not a page range of one) whose one file is small completes its upload in
        // the background while this reader goes on.
        let wholeTable = unit.pages == nil && load.rangeCount == 1
        let encoder = DedicatedThread.start(name: "replicatord-encode") { () throws -> EncodedFiles in
            try self.encodeLoadFiles(
                from: pipe, folder: folder, columns: columns, load: load, rowGroupBytes: unit.rowGroupBytes,
                holdSmallFile: wholeTable)
        }
        var rows: Int64 = 0
        do {
            var lastLog = started
            var seen: Int64 = 0
            rows = try connection.read(table, pages: unit.pages, batchRows: Self.batchRows(columns: table.columns.count)) { batch in
                try pipe.push(batch)
                // A row with large values: the encoder reads them in pieces on this reader's
                // connection as it writes them, so the reader waits until it is done (a batch this
                // large otherwise is encoded before the next is read).
                if !batch.largeValueStreams.isEmpty || batch.byteCount > Self.largeBatchBytes { try pipe.waitUntilConsumed() }
                seen += Int64(batch.rowCount)
                progress?.add(table: key(table), rows: Int64(batch.rowCount))
                if ContinuousClock.now - lastLog > .seconds(5) {
                    lastLog = .now
                    logProgress(table, rows: load.rowsSoFar(plus: seen), started: started)
                }
            }
            pipe.close()
        } catch {
            pipe.fail(error)
            _ = try? encoder.join()
            throw error
        }
        let encoded = try encoder.join()
        if let held = encoded.held {
            _ = load.rangeDone(rows: rows, files: [])
            let sink = TransferredValue(held.sink)
            let heldRows = held.writer.rowCount, heldStatistics = held.writer.written?.columns ?? []
            try background.submit(bytes: Int(held.sink.bytesWritten)) {
                let stored: StoredObject
                do { stored = try await sink.value.completeInBackground() } catch {
                    await sink.value.abortInBackground()
                    throw error
                }
                load.recordRows(heldRows, of: stored.key, statistics: heldStatistics)
                try await self.tableLoaded(load, files: [stored], firstIndex: firstIndex, replace: replace, leftovers: leftovers)
            }
            return
        }
        var files = encoded.stored
        guard load.rangeDone(rows: rows, files: files), !load.failed else {
            logger.debug("page range loaded", metadata: ["table": "\(key(table))", "range": "\(unit.pages.map { "\($0)" } ?? "all")", "rows": "\(rows)"])
            return
        }
        // The last unit of the table: the table is loaded once the checkpoint says so.
        files = load.files
        if files.isEmpty {
            // An empty table still has its (empty) LOAD file.
            let file = try openFile(folder + FileNaming.loadFile(firstIndex + load.nextFileOffset()), columns: columns)
            files = [try file.finish()]
            load.recordRows(0, of: files[0].key, statistics: file.writer.written?.columns ?? [])
        }
        try BlockingCall.wait { [files] in try await self.tableLoaded(load, files: files, firstIndex: firstIndex, replace: replace, leftovers: leftovers) }
    }

    /// Records a table whose LOAD files are all stored.
    private func tableLoaded(_ load: TableLoad, files: [StoredObject], firstIndex: Int, replace: Bool, leftovers: LoadLeftovers) async throws {
        let table = load.table
        CrashPoint.reach(.afterLoadFilesStored)
        if settings.iceberg {
            // The LOAD set as one snapshot of the table's Iceberg table, before the checkpoint names it.
            let lsn: String = if case .snapshot(let value, _) = load.order { LSN(value).description } else { "0/0" }
            let folder = FileNaming.tableFolder(schema: table.schema, table: table.name)
            let iceberg = IcebergSync(store: store, settings: settings)
            let columns = ParquetTableWriter.columns(for: table)
            let newFiles = files.map {
                IcebergSync.NewFile(
                    key: $0.key, rows: load.rows(of: $0.key), bytes: Int64($0.size),
                    statistics: load.statistics(of: $0.key))
            }
            _ = try await DedicatedThread.run(name: "replicatord-iceberg") { () throws -> Bool in
                try iceberg.commitLoad(folder: folder, columns: columns, files: newFiles, snapshotLSN: lsn)
                return true
            }
            try await GlueCatalogSync.afterIcebergLoadCommit(table, settings: settings, store: store, logger: logger)
        }
        let bytes = files.reduce(0) { $0 + Int64($1.size) }
        let count = files.count
        let loadedRows = load.rows
        // Recorded with a later batch of tables: until that is stored, a crash loads this table again.
        let name = key(table)
        try await keeper.deferUpdate {
            $0.tables[name]?.status = .replicating
            $0.tables[name]?.loadFiles = count
            $0.tables[name]?.firstLoadFile = firstIndex
            $0.tables[name]?.fullLoadRows = loadedRows
            $0.tables[name]?.filesWritten += Int64(count)
            $0.tables[name]?.bytesWritten += bytes
        }
        progress?.finish(table: name, rows: loadedRows)
        if replace { leftovers.replaced(load.existing) }
        let seconds = max(0.001, (ContinuousClock.now - load.started).inSeconds)
        logger.info(
            "table loaded",
            metadata: [
                "table": "\(key(table))", "rows": "\(loadedRows)", "files": "\(count)", "bytes": "\(bytes)",
                "page_ranges": "\(load.rangeCount)", "rows_per_s": "\(Int(Double(loadedRows) / seconds))",
            ])
    }

    /// Lists the table's LOAD files; without `replace` removes them (leftovers of an interrupted load:
    /// a LOAD set is one snapshot). With `replace` lists every file of the folder (`reload-table`
    /// removes the CDC files too; a `full-load` folder holds LOAD files only), to be removed after
    /// the new set is checkpointed. Returns the first number of the new set and the old files.
    private func clearLeftovers(folder: String, replace: Bool, leftovers: LoadLeftovers) throws -> (Int, [ObjectInfo]) {
        let store = self.store
        var existing = try leftovers.loadFiles(in: folder) ?? BlockingCall.wait { try await store.list(prefix: folder + (replace ? "" : "LOAD")) }
        // The folder's Iceberg metadata stays: the new LOAD set is a snapshot of the same table.
        if settings.iceberg { existing.removeAll { $0.key.hasPrefix(folder + "metadata/") } }
        if replace {
            // The new set is numbered after the old one and stored before the old one is removed.
            return ((existing.compactMap { FileNaming.loadIndex($0.key) }.max() ?? 0) + 1, existing)
        }
        for object in existing { try BlockingCall.wait { try await store.delete(key: object.key) } }
        return (1, existing)
    }

    /// Encodes the batches of `pipe` into LOAD files numbered by `load` (the table's ranges share
    /// one sequence), the first opened with the first batch, a new one cut at the maximum size;
    /// runs on the encoder thread. An upload that fails or is interrupted is aborted.
    private func encodeLoadFiles(
        from pipe: BoundedBlockingQueue<ColumnBatch>, folder: String, columns: [ParquetTableWriter.Column],
        load: TableLoad, rowGroupBytes: Int, holdSmallFile: Bool
    ) throws -> EncodedFiles {
        var files: [StoredObject] = []
        var current: OpenFile?
        do {
            let opColumn = settings.includeOpForFullLoad
            var ops: [UInt8] = []
            while let batch = try pipe.pop() {
                if current == nil {
                    current = try openFile(
                        folder + FileNaming.loadFile(load.firstIndex + load.nextFileOffset()), columns: columns,
                        rowGroupBytes: rowGroupBytes)
                }
                if opColumn, ops.count != batch.rowCount { ops = Array(repeating: UInt8(ascii: "I"), count: batch.rowCount) }
                try current!.writer.append(batch, ops: opColumn ? ops : nil, unchangedToast: nil, order: load.order)
                if current!.writer.estimatedFileBytes >= settings.maxFileBytes {
                    let full = current!
                    current = nil
                    files.append(try full.finish())
                    load.recordRows(full.writer.rowCount, of: files[files.count - 1].key, statistics: full.writer.written?.columns ?? [])
                }
            }
            if let last = current {
                if holdSmallFile && files.isEmpty && last.sink.bytesWritten <= SmallTableUploads.smallTableBytes {
                    // Written whole; its upload is completed by the caller (in the background).
                    try last.writer.finish()
                    return EncodedFiles(stored: [], held: last)
                }
                current = nil
                files.append(try last.finish())
                load.recordRows(last.writer.rowCount, of: files[files.count - 1].key, statistics: last.writer.written?.columns ?? [])
            }
            return EncodedFiles(stored: files, held: nil)
        } catch {
            current?.sink.abort()
            pipe.fail(error)
            throw error
        }
    }

    /// Removes the LOAD sets that the stored checkpoint no longer names (`full-load` reloads).
    private func removeReplaced(_ leftovers: LoadLeftovers) async throws {
        for object in leftovers.takeReplaced() { try await store.delete(key: object.key) }
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

    /// What the encoder stored, or the one small file it wrote whole and left for the caller to complete.
    private struct EncodedFiles: @unchecked Sendable {
        var stored: [StoredObject]
        var held: OpenFile?
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

    private func openFile(_ key: String, columns: [ParquetTableWriter.Column], rowGroupBytes: Int = 0) throws -> OpenFile {
        let store = self.store
        let upload = try BlockingCall.wait { try await store.makeUpload(key: key, contentType: "application/vnd.apache.parquet") }
        // The upload buffers its parts itself: 1 MiB hand-offs keep a second part-sized buffer per
        // open file out of the full load's memory.
        let sink = UploadSink(upload: upload, chunkSize: min(settings.uploadChunkBytes, 1 << 20))
        do {
            var options = settings.parquet
            if rowGroupBytes > 0 { options.rowGroupBytes = rowGroupBytes }
            let writer = try ParquetTableWriter(
                columns: columns, opColumn: settings.includeOpForFullLoad, unchangedToastColumn: false,
                options: options, sink: sink)
            return OpenFile(writer: writer, sink: sink)
        } catch {
            sink.abort()
            throw error
        }
    }

    private func key(_ table: TableDescription) -> String { "\(table.schema).\(table.name)" }
}
