import Replication
import Replication

/// The order of a replication cycle's effects, as a value type that does no I/O (like
/// `MultipartUploadStateMachine`): the engine and ``CDCCycle`` tell it what happened and do what it
/// answers. Exactly once rests on this order:
///
/// 1. at start-up, what the checkpoint holds decides the next step: a full load (or its resume),
///    the first position of a changes-only task, or a CDC cycle; an intent left by a killed
///    cycle makes that cycle be redone first, to the intent's end, from the checkpoint's LSN;
/// 2. a cycle's intent (end LSN and file names) is stored before any of its files;
/// 3. its files are stored (and, with `[catalog] iceberg`, committed to the Iceberg tables)
///    before the checkpoint that names them;
/// 4. the LSN is confirmed to PostgreSQL only after that checkpoint is stored.
///
/// An event that does not fit the current state is refused with an ``EngineError`` of code
/// `.cycleOrder`, naming the event and the state.
struct CycleStateMachine: Sendable {
    /// A cycle's intent: where it ends and the files it writes, stored before any of them.
    struct Intent: Equatable, Sendable {
        var end: LSN
        var files: [String]
    }

    /// What the checkpoint holds at the start of a cycle.
    struct CheckpointSummary: Equatable, Sendable {
        var phase: Checkpoint.Phase
        /// Everything before this position is stored.
        var confirmed: LSN
        /// The intent of a cycle that was killed before its checkpoint.
        var pending: Intent?
    }

    /// What the last cut read: the position it is complete to, and the last commit in it.
    struct CutSummary: Equatable, Sendable {
        var end: LSN
        var lastCommitEnd: LSN
        /// Keys for the cut's files, named afresh (one per segment, in order).
        var newKeys: [String]
        /// Whether the stream could not decode some tables' changes (they go to state `error`).
        var failedTables: Bool = false
        /// With tables' changes held (`[output] cdc_min_file_size_kib`, ``CDCBatching``): the
        /// position the checkpoint and the confirmation may reach (the oldest held table's stored
        /// position, at most the cut's end); nil when nothing is held.
        var heldThrough: LSN? = nil
    }

    /// How a run of the engine ended.
    enum Outcome: Equatable, Sendable {
        case fullLoad
        case cdc
    }

    /// What the driver must do next.
    enum Action: Equatable, Sendable {
        /// Abort the multipart uploads a killed predecessor left open, then report ``uploadsAborted()``.
        case abortOrphanedUploads
        /// Load the checkpoint and check the source, then report ``checkpointLoaded(_:)``.
        case loadCheckpoint
        /// Run the full load (`resume`: one was interrupted; its stored tables stay), then report ``fullLoadDone()``.
        case runFullLoad(resume: Bool)
        /// `cdc` migration type, first run: record where the slot starts, then report ``changesOnlyStarted(_:)``.
        case startChangesOnly
        /// Look for tables added to the publication and `reload-table` requests and load them, then
        /// report ``newTablesLoaded(_:)``.
        case loadNewTables
        /// Read the server's WAL position now (the new cycle's target), then report ``serverPositionRead(_:)``.
        case readServerPosition
        /// Cut the changes from `from` (the checkpoint's LSN) to the first transaction boundary at or
        /// past `target`, then report ``changesCut(_:)``. `redo`: the cycle of a stored intent, on a
        /// new stream so that it ends where the intent says.
        case cut(from: LSN, target: LSN, redo: Bool)
        /// A redo that read other changes than its intent: remove the intent's files (and first the
        /// Iceberg snapshots naming them), then report ``orphanFilesRemoved()``.
        case removeOrphanFiles(keys: [String], icebergFolders: [String])
        /// Store the intent, then report ``intentWritten()``.
        case writeIntent(Intent)
        /// Write and store one file per key, then report ``filesStored(failedTables:)``.
        case storeFiles([String])
        /// Commit the stored files to their Iceberg tables as of `end`, first rolling back what an
        /// interrupted run committed in `rollBackFolders`; then report ``icebergCommitted()``.
        case commitIceberg(end: LSN, checkpointed: LSN, rollBackFolders: [String])
        /// Store the checkpoint at `end` (the intent cleared, the files recorded), then report ``checkpointWritten()``.
        case writeCheckpoint(end: LSN)
        /// Confirm `lsn` to PostgreSQL, then report ``lsnConfirmed()``.
        case confirm(LSN)
        /// The run is over.
        case finish(Outcome)
        /// The run failed: close the stream (what it holds beyond the checkpoint is read again) and
        /// report the failure as it was thrown.
        case reportFailure
    }

    /// Where the run is.
    enum State: Equatable, Sendable {
        case idle
        case abortingUploads
        case loadingCheckpoint
        case fullLoading
        case startingChangesOnly
        case loadingNewTables(CheckpointSummary)
        case readingServerPosition(CheckpointSummary)
        case cutting(CheckpointSummary, redo: Bool)
        case removingOrphans(CheckpointSummary, Intent, CutSummary)
        case writingIntent(CheckpointSummary, Intent, CutSummary)
        case storingFiles(CheckpointSummary, Intent, CutSummary)
        case committingIceberg(CheckpointSummary, end: LSN, changed: Bool)
        case writingCheckpoint(CheckpointSummary, end: LSN)
        case confirming(CheckpointSummary, end: LSN)
        case finished
        case failed
    }

    let migrationType: MigrationType
    let iceberg: Bool
    private(set) var state: State = .idle
    /// Whether the cycle being run is the redo of an intent (another cycle follows it).
    private(set) var redoing = false

    /// `uploadsSwept`: this process already aborted its predecessor's open uploads.
    init(migrationType: MigrationType, iceberg: Bool, uploadsSwept: Bool = false) {
        self.migrationType = migrationType
        self.iceberg = iceberg
        self.uploadsSwept = uploadsSwept
    }

    private let uploadsSwept: Bool

    /// The LSN of the checkpoint the current cycle started from (zero outside a CDC cycle).
    var checkpointed: LSN {
        switch state {
        case .loadingNewTables(let c), .readingServerPosition(let c), .cutting(let c, _), .removingOrphans(let c, _, _),
            .writingIntent(let c, _, _), .storingFiles(let c, _, _), .committingIceberg(let c, _, _),
            .writingCheckpoint(let c, _), .confirming(let c, _):
            c.confirmed
        case .idle, .abortingUploads, .loadingCheckpoint, .fullLoading, .startingChangesOnly, .finished, .failed:
            .zero
        }
    }

    // MARK: Start-up

    /// A cycle is due.
    mutating func cycleDue() throws(EngineError) -> Action {
        guard state == .idle else { throw refused("cycleDue") }
        if !uploadsSwept {
            state = .abortingUploads
            return .abortOrphanedUploads
        }
        state = .loadingCheckpoint
        return .loadCheckpoint
    }

    /// The open uploads of a killed predecessor are aborted.
    mutating func uploadsAborted() throws(EngineError) -> Action {
        guard state == .abortingUploads else { throw refused("uploadsAborted") }
        state = .loadingCheckpoint
        return .loadCheckpoint
    }

    /// The store holds `checkpoint` (nil: none) and the source passed its checks.
    mutating func checkpointLoaded(_ checkpoint: CheckpointSummary?) throws(EngineError) -> Action {
        guard state == .loadingCheckpoint else { throw refused("checkpointLoaded") }
        switch migrationType {
        case .fullLoad:
            // Every cycle copies everything again in a fresh snapshot; no slot is kept.
            state = .fullLoading
            return .runFullLoad(resume: false)
        case .cdc:
            guard let checkpoint else {
                state = .startingChangesOnly
                return .startChangesOnly
            }
            return beginCDC(checkpoint)
        case .fullLoadAndCDC:
            guard let checkpoint, checkpoint.phase != .fullLoad else {
                // A checkpoint still in the full load phase is a full load that was interrupted:
                // the tables it recorded stay, the others are loaded again (their leftovers replaced).
                state = .fullLoading
                return .runFullLoad(resume: checkpoint != nil)
            }
            if checkpoint.pending == nil {
                // Tables added to the publication and `reload-table` requests are loaded between
                // cycles, never while an interrupted cycle waits for its redo.
                state = .loadingNewTables(checkpoint)
                return .loadNewTables
            }
            return beginCDC(checkpoint)
        }
    }

    /// The full load is done and its checkpoint stored.
    mutating func fullLoadDone() throws(EngineError) -> Action {
        guard state == .fullLoading else { throw refused("fullLoadDone") }
        state = .finished
        return .finish(.fullLoad)
    }

    /// The changes-only task's first checkpoint is stored.
    mutating func changesOnlyStarted(_ checkpoint: CheckpointSummary) throws(EngineError) -> Action {
        guard state == .startingChangesOnly else { throw refused("changesOnlyStarted") }
        return beginCDC(checkpoint)
    }

    /// The added and reloaded tables are loaded; `checkpoint` is the checkpoint now.
    mutating func newTablesLoaded(_ checkpoint: CheckpointSummary) throws(EngineError) -> Action {
        guard case .loadingNewTables = state else { throw refused("newTablesLoaded") }
        return beginCDC(checkpoint)
    }

    private mutating func beginCDC(_ checkpoint: CheckpointSummary) -> Action {
        if let pending = checkpoint.pending {
            // A cycle was killed after its intent: redo it to the intent's end, from the checkpoint.
            redoing = true
            state = .cutting(checkpoint, redo: true)
            return .cut(from: checkpoint.confirmed, target: pending.end, redo: true)
        }
        state = .readingServerPosition(checkpoint)
        return .readServerPosition
    }

    // MARK: The CDC cycle

    /// The server's WAL position now: the cycle's target.
    mutating func serverPositionRead(_ position: LSN) throws(EngineError) -> Action {
        guard case .readingServerPosition(let checkpoint) = state else { throw refused("serverPositionRead") }
        state = .cutting(checkpoint, redo: false)
        return .cut(from: checkpoint.confirmed, target: position, redo: false)
    }

    /// The changes are cut.
    mutating func changesCut(_ cut: CutSummary) throws(EngineError) -> Action {
        guard case .cutting(let checkpoint, _) = state else { throw refused("changesCut") }
        var end = cut.end
        var keys = cut.newKeys
        if let pending = checkpoint.pending {
            // A keepalive can carry a redo past its intent's end; with no commit after that end it
            // read the same transactions, so it keeps the intent's end (and names).
            if cut.end > pending.end, cut.lastCommitEnd <= pending.end { end = pending.end }
            if pending.files.count == keys.count, pending.end == end {
                keys = pending.files
            } else {
                // Another set of files than the intent's: those go first (their Iceberg snapshots
                // before them, so that a reader never plans a removed file).
                let intent = Intent(end: end, files: keys)
                state = .removingOrphans(checkpoint, intent, cut)
                let folders = iceberg ? Set(pending.files.map(IcebergSync.folder(of:))).sorted() : []
                return .removeOrphanFiles(keys: pending.files, icebergFolders: folders)
            }
        }
        return afterOrphans(checkpoint, Intent(end: end, files: keys), cut)
    }

    /// The files of a differing intent are removed.
    mutating func orphanFilesRemoved() throws(EngineError) -> Action {
        guard case .removingOrphans(let checkpoint, let intent, let cut) = state else { throw refused("orphanFilesRemoved") }
        return afterOrphans(checkpoint, intent, cut)
    }

    private mutating func afterOrphans(_ checkpoint: CheckpointSummary, _ intent: Intent, _ cut: CutSummary) -> Action {
        if intent.files.isEmpty {
            // Nothing to write: no intent is needed.
            return afterFiles(checkpoint, end: Self.confirmable(intent.end, cut), stored: [], changed: cut.failedTables)
        }
        state = .writingIntent(checkpoint, intent, cut)
        return .writeIntent(intent)
    }

    /// The intent is stored.
    mutating func intentWritten() throws(EngineError) -> Action {
        guard case .writingIntent(let checkpoint, let intent, let cut) = state else { throw refused("intentWritten") }
        state = .storingFiles(checkpoint, intent, cut)
        return .storeFiles(intent.files)
    }

    /// The cycle's files are stored, except those of tables that went to state `error`
    /// (`failedTables`: some did, in the cut or in writing).
    mutating func filesStored(_ stored: [String], failedTables: Bool) throws(EngineError) -> Action {
        guard case .storingFiles(let checkpoint, let intent, let cut) = state else { throw refused("filesStored") }
        guard Set(stored).isSubset(of: intent.files) else {
            throw EngineError(.cycleOrder, "files stored that the intent does not name: \(Set(stored).subtracting(intent.files).sorted())")
        }
        return afterFiles(
            checkpoint, end: Self.confirmable(intent.end, cut), stored: stored,
            changed: !intent.files.isEmpty || failedTables || cut.failedTables)
    }

    /// How far a cycle to `end` may move the checkpoint: to `end`, or with held changes to the
    /// oldest held table's stored position (the held changes are read again by the next cycle).
    static func confirmable(_ end: LSN, _ cut: CutSummary) -> LSN {
        guard let held = cut.heldThrough else { return end }
        return min(end, held)
    }

    private mutating func afterFiles(_ checkpoint: CheckpointSummary, end: LSN, stored: [String], changed: Bool) -> Action {
        // An idle cycle that did not move the position stores nothing.
        let changed = changed || checkpoint.pending != nil || end > checkpoint.confirmed
        if iceberg {
            // A redo first rolls back what its interrupted run committed for tables it writes nothing for.
            let written = Set(stored.map(IcebergSync.folder(of:)))
            let rollBack = Set((checkpoint.pending?.files ?? []).map(IcebergSync.folder(of:))).subtracting(written).sorted()
            state = .committingIceberg(checkpoint, end: end, changed: changed)
            return .commitIceberg(end: end, checkpointed: checkpoint.confirmed, rollBackFolders: rollBack)
        }
        return afterIceberg(checkpoint, end: end, changed: changed)
    }

    /// The stored files are committed to their Iceberg tables.
    mutating func icebergCommitted() throws(EngineError) -> Action {
        guard case .committingIceberg(let checkpoint, let end, let changed) = state else { throw refused("icebergCommitted") }
        return afterIceberg(checkpoint, end: end, changed: changed)
    }

    private mutating func afterIceberg(_ checkpoint: CheckpointSummary, end: LSN, changed: Bool) -> Action {
        guard changed else {
            state = .confirming(checkpoint, end: end)
            return .confirm(end)
        }
        state = .writingCheckpoint(checkpoint, end: end)
        return .writeCheckpoint(end: end)
    }

    /// The checkpoint at the cycle's end is stored.
    mutating func checkpointWritten() throws(EngineError) -> Action {
        guard case .writingCheckpoint(let checkpoint, let end) = state else { throw refused("checkpointWritten") }
        // Only now, with the files and the checkpoint stored, may the server forget the WAL.
        state = .confirming(checkpoint, end: end)
        return .confirm(end)
    }

    /// The LSN is confirmed to the stream. After the redo of an intent, the cycle itself follows.
    mutating func lsnConfirmed() throws(EngineError) -> Action {
        guard case .confirming(let checkpoint, let end) = state else { throw refused("lsnConfirmed") }
        if redoing {
            redoing = false
            let confirmed = end > checkpoint.confirmed ? end : checkpoint.confirmed
            return beginCDC(CheckpointSummary(phase: checkpoint.phase, confirmed: confirmed, pending: nil))
        }
        state = .finished
        return .finish(.cdc)
    }

    /// A step failed. Nothing after it happens: nothing unstored is confirmed, and what the
    /// checkpoint does not cover is read again by the next run.
    mutating func failed() -> Action {
        state = .failed
        redoing = false
        return .reportFailure
    }

    private func refused(_ event: String) -> EngineError {
        EngineError(.cycleOrder, "\(event) cannot happen in state \(state.name)")
    }
}

extension CycleStateMachine.CheckpointSummary {
    /// The stored checkpoint's part the machine needs (its LSNs were read strictly when it was
    /// decoded: ``Checkpoint/decode(_:)`` refuses a value that is not an LSN).
    init(_ state: Checkpoint) throws(EngineError) {
        phase = state.phase
        confirmed = state.confirmedLSN
        pending = state.pending.map { .init(end: $0.endLSN, files: $0.files) }
    }
}

extension CycleStateMachine.State {
    /// The state's name, for errors.
    var name: String {
        switch self {
        case .idle: "idle"
        case .abortingUploads: "abortingUploads"
        case .loadingCheckpoint: "loadingCheckpoint"
        case .fullLoading: "fullLoading"
        case .startingChangesOnly: "startingChangesOnly"
        case .loadingNewTables: "loadingNewTables"
        case .readingServerPosition: "readingServerPosition"
        case .cutting: "cutting"
        case .removingOrphans: "removingOrphans"
        case .writingIntent: "writingIntent"
        case .storingFiles: "storingFiles"
        case .committingIceberg: "committingIceberg"
        case .writingCheckpoint: "writingCheckpoint"
        case .confirming: "confirming"
        case .finished: "finished"
        case .failed: "failed"
        }
    }
}
