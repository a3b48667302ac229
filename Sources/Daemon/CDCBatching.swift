import Replication

/// DMS's `CdcMinFileSize` and `CdcMaxBatchInterval` (`[output] cdc_min_file_size_kib`,
/// `cdc_max_batch_interval_seconds`): fewer, larger CDC files. At each cycle a table's changes are
/// written when they reach the minimum size or their oldest change is older than the interval
/// (whichever comes first, as DMS); otherwise they are held, for later cycles.
///
/// Held changes are never stored anywhere: the checkpoint's LSN (and so the slot's confirmed
/// position) stays at the oldest held table's stored position, and each table's own stored
/// position (``Checkpoint/TableState/storedThroughLSN``) makes a stream that starts there
/// skip what the table already stored. So after a cycle that holds, the stream is read again from
/// the checkpoint; after a crash the same happens. Nothing held is confirmed, nothing stored is
/// read twice into a file (see docs/exactly-once.md, "Held changes").
public struct CDCBatching: Sendable, Equatable {
    /// `CdcMinFileSize` in bytes; 0 (the default) writes every table's changes every cycle.
    public var minFileBytes: Int64
    /// `CdcMaxBatchInterval` in seconds: the longest a change is held (checked at each cycle).
    public var maxBatchIntervalSeconds: Int

    public init(minFileBytes: Int64 = 0, maxBatchIntervalSeconds: Int = 60) {
        self.minFileBytes = minFileBytes
        self.maxBatchIntervalSeconds = maxBatchIntervalSeconds
    }

    /// Whether changes may be held at all.
    public var holdsChanges: Bool { minFileBytes > 0 }

    /// A table's changes in a cut (all its segments: one per layout after DDL).
    struct TableChanges: Equatable {
        /// The table folder (`schema/table/`): a redo matches its intent's files by it.
        var folder: String
        var bytes: Int64
        /// Commit time of its oldest change, microseconds since 1970.
        var oldestCommitTime: Int64
        /// Everything of the table committed before this is stored (its stream start).
        var storedBefore: LSN
    }

    /// What a cycle does with its cut.
    struct Plan: Equatable {
        /// Table folders whose changes are written now.
        var written: Set<String>
        /// Table folders whose changes are held.
        var held: Set<String>
        /// The checkpoint's LSN after the cycle: the cut's end, or the oldest held table's stored position.
        var confirmed: LSN
    }

    /// Decides per table. A redo of an interrupted cycle (`redoFolders`: the folders of its intent's
    /// files) writes exactly the tables the interrupted run wrote, so it writes the same files.
    func plan(_ tables: [TableChanges], end: LSN, nowMicros: Int64, redoFolders: Set<String>?) -> Plan {
        var plan = Plan(written: [], held: [], confirmed: end)
        for table in tables {
            let write: Bool
            if let redoFolders {
                write = redoFolders.contains(table.folder)
            } else {
                write =
                    !holdsChanges || table.bytes >= minFileBytes
                    || nowMicros - table.oldestCommitTime >= Int64(maxBatchIntervalSeconds) * 1_000_000
            }
            if write {
                plan.written.insert(table.folder)
            } else {
                plan.held.insert(table.folder)
                plan.confirmed = min(plan.confirmed, table.storedBefore)
            }
        }
        return plan
    }

    /// The position before which every change of `table` is stored: the checkpoint's LSN, its LOAD
    /// snapshot's, or its own last written cycle's end, whichever is latest.
    static func storedBefore(_ table: Checkpoint.TableState?, confirmed: LSN) -> LSN {
        var start = confirmed
        if let load = table?.cdcStartLSN, load > start { start = load }
        if let stored = table?.storedThroughLSN, stored > start { start = stored }
        return start
    }
}

extension CDCBatching {
    /// Splits a cut's segments into those written now (in their order) and the held ones, whose
    /// spool files are removed (their rows are read again from the slot). `nowMilliseconds` is the
    /// cycle's clock.
    func split(
        _ segments: [ChangeSegment], state: Checkpoint, confirmed: LSN, end: LSN,
        nowMilliseconds: Int64
    ) -> (written: [ChangeSegment], plan: Plan) {
        var tables: [String: TableChanges] = [:]
        var order: [String] = []
        for segment in segments {
            let folder = FileNaming.tableFolder(schema: segment.relation.schema, table: segment.relation.name)
            if var known = tables[folder] {
                known.bytes += segment.heldBytes
                known.oldestCommitTime = min(known.oldestCommitTime, segment.firstCommitTime)
                tables[folder] = known
            } else {
                order.append(folder)
                let stored = state.tables["\(segment.relation.schema).\(segment.relation.name)"]
                tables[folder] = TableChanges(
                    folder: folder, bytes: segment.heldBytes, oldestCommitTime: segment.firstCommitTime,
                    storedBefore: Self.storedBefore(stored, confirmed: confirmed))
            }
        }
        let redo = state.pending.map { Set($0.files.map(FileNaming.tableFolder(ofKey:))) }
        let plan = plan(order.map { tables[$0]! }, end: end, nowMicros: nowMilliseconds * 1000, redoFolders: redo)
        var written: [ChangeSegment] = []
        for segment in segments {
            if plan.held.contains(FileNaming.tableFolder(schema: segment.relation.schema, table: segment.relation.name)) {
                segment.spool?.remove()
            } else {
                written.append(segment)
            }
        }
        return (written, plan)
    }
}
