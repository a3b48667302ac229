import Foundation
import Logging
import PGClient
import PGOutput
import Synchronization

/// The replication connection of a slot with a thread of its own that reads it. A CDC cycle asks
/// it for a ``Cut``: every change up to a transaction boundary at or past a target position, as
/// per-table segments. Only after the cycle has stored the files and the checkpoint does it tell
/// the feed to ``confirm(_:)`` that position to the server.
///
/// In service mode (`continuous`) the feed stays open between cycles and keeps reading into its
/// accumulator (large segments spill to the spool directory), so a cycle only has to cut what has
/// already arrived. With `--once` it reads only while a cut is asked for.
///
/// Any failure (the connection lost, the spool full, a protocol error) ends the feed: the cut
/// asked for fails, nothing is confirmed, and the engine opens a new feed from the checkpoint.
public final class ChangeFeed: Sendable {
    /// What a cycle takes from the feed.
    public struct Cut: Sendable {
        /// One segment per table (and per layout, after DDL), in the order they were opened.
        public var segments: [ChangeSegment]
        /// Everything before this position is in `segments` or was stored by earlier cycles.
        public var end: LSN
        /// The position the cycle asked for.
        public var target: LSN
        /// The cut ends before `target`: the spool ran low (``SpoolSpace``), and the changes after
        /// `end` wait for the next cut.
        public var stoppedEarly = false
        /// Transactions with rows in `segments`.
        public var transactions: Int
        /// Commit time of the last transaction read, microseconds since 1970.
        public var lastCommitTime: Int64
        /// End of the last commit read (with or without rows for us).
        public var lastCommitEnd: LSN
        /// Tables whose changes could not be decoded (by OID, with the reason): no segment of
        /// theirs is in `segments`; the cycle puts them in state `error`.
        public var failedTables: [UInt32: FailedTable] = [:]
    }

    /// What the feed was opened for; a cycle that needs something else opens a new feed.
    public struct Identity: Equatable, Sendable {
        public var slot: String
        public var publication: String
        public var binary: Bool
        public var tableStart: [UInt32: LSN]
        /// The schema and table name each table's changes land under, by OID.
        public var tableNames: [UInt32: [String]]
        /// Whether changes of tables missing from `tableNames` are left out (to their own full load).
        public var skipUnknownTables: Bool
        /// Tables in state `error`, whose changes are left out until `reload-table`.
        public var excludedTables: Set<UInt32> = []

        public init(
            slot: String, publication: String, binary: Bool, tableStart: [UInt32: LSN], tableNames: [UInt32: [String]],
            skipUnknownTables: Bool, excludedTables: Set<UInt32> = []
        ) {
            self.slot = slot; self.publication = publication; self.binary = binary; self.tableStart = tableStart
            self.tableNames = tableNames; self.skipUnknownTables = skipUnknownTables; self.excludedTables = excludedTables
        }
    }

    /// Where the feed reads from and spills to.
    public struct Options: Sendable {
        public var conninfo: String
        /// Local scratch space; the feed uses its own folder in it, named after the slot.
        public var spoolDirectory: String
        /// A table's changes in a cycle move from memory to a spool file past this many rows.
        public var spillRows: Int
        /// How spilled segments are written.
        public var parquet: ParquetFileOptions
        /// The checkpoint's object key, named when the slot is gone.
        public var checkpointKey: String
        /// Service mode: keep reading between cuts.
        public var continuous: Bool
        /// Which changes go into the files (`[output] cdc_inserts_only`, `cdc_inserts_and_updates`).
        public var writtenChanges: WrittenChanges = .all

        public init(conninfo: String, spoolDirectory: String, spillRows: Int, parquet: ParquetFileOptions, checkpointKey: String, continuous: Bool) {
            self.conninfo = conninfo; self.spoolDirectory = spoolDirectory; self.spillRows = spillRows
            self.parquet = parquet; self.checkpointKey = checkpointKey; self.continuous = continuous
        }
    }

    /// The feed's state, shared by its thread and the cycle.
    private struct State {
        var cutRequest: (target: LSN, continuation: CheckedContinuation<Cut, any Error>)?
        var confirmRequest: LSN?
        var stopRequested = false
        var failure: (any Error)?
        var stopped = false
        /// The position the checkpoint holds (what was last confirmed, or the start).
        var checkpointed: LSN
    }

    public let identity: Identity
    private let options: Options
    private let logger: Logger
    private let spoolDirectory: String
    private let state: Mutex<State>
    /// Signalled for every request: the feed's thread waits on it between cuts.
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled once when the feed's thread ends (stopped or failed).
    private let ended = DispatchSemaphore(value: 0)
    /// Called on the feed's thread when it fails, with the error.
    private let onFailure: @Sendable (any Error) -> Void

    /// Opens the feed from `start` (the checkpoint's LSN) on a thread of its own. `onFailure` hears
    /// of an error that ended it (also given to the cut asked for, if any).
    public init(options: Options, start: LSN, identity: Identity, logger: Logger, onFailure: @escaping @Sendable (any Error) -> Void = { _ in }) {
        self.options = options
        self.identity = identity
        self.logger = logger
        self.onFailure = onFailure
        self.state = Mutex(State(checkpointed: start))
        // One folder per slot: daemons (or template instances) sharing a spool_dir never touch
        // each other's files.
        spoolDirectory = (options.spoolDirectory as NSString).appendingPathComponent(identity.slot)
        DedicatedThread.detach(name: "replicatord-stream") { [self] in self.main(start: start) }
    }

    /// The position the feed started from or last confirmed; a checkpoint at another position
    /// means the feed no longer matches it.
    public var position: LSN { state.withLock { $0.checkpointed } }

    /// Whether the feed has ended (failed or stopped); a new one is needed.
    public var isFinished: Bool { state.withLock { $0.stopped || $0.failure != nil } }

    /// Every change up to the first transaction boundary at or past `target` (changes already
    /// read count, so the cut may end later). One cut at a time.
    public func cut(at target: LSN) async throws -> Cut {
        try await withCheckedThrowingContinuation { continuation in
            let refusal: (any Error)? = state.withLock { state in
                if let failure = state.failure { return failure }
                if state.stopped { return PGError(.connectionClosed, "the replication stream was closed") }
                precondition(state.cutRequest == nil, "one cut at a time")
                state.cutRequest = (target, continuation)
                return nil
            }
            if let refusal { continuation.resume(throwing: refusal) } else { wake.signal() }
        }
    }

    /// Tells the server everything before `lsn` is stored. Call only after the checkpoint that
    /// covers `lsn` is stored. Sent by the feed's thread within a fraction of a second.
    public func confirm(_ lsn: LSN) {
        state.withLock {
            if lsn > $0.checkpointed { $0.checkpointed = lsn }
            $0.confirmRequest = lsn
        }
        wake.signal()
    }

    /// Sends the last confirmation and ends the feed (CopyDone), waiting up to `timeout`.
    public func stop(timeout: Duration = .seconds(10)) {
        let over = state.withLock { state -> Bool in
            state.stopRequested = true
            return state.stopped || state.failure != nil
        }
        wake.signal()
        guard !over else { return }
        if ended.wait(timeout: .now() + .seconds(Int(timeout.components.seconds))) == .success {
            ended.signal()  // for any other caller waiting
        }
    }

    // MARK: The feed's thread

    private func main(start: LSN) {
        do {
            try stream(from: start)
        } catch {
            let request = state.withLock { state in
                state.failure = error
                defer { state.cutRequest = nil }
                return state.cutRequest
            }
            ended.signal()
            request?.continuation.resume(throwing: error)
            if options.continuous { onFailure(error) }
            return
        }
        state.withLock { $0.stopped = true }
        ended.signal()
    }

    private func stream(from start: LSN) throws {
        let catalog = try PGConnection(conninfo: options.conninfo)
        try ReplicationSlot(name: identity.slot).checkStreamable(from: start, checkpointKey: options.checkpointKey, on: catalog)
        try Self.prepareSpool(spoolDirectory)
        let stream = try ChangeStream(conninfo: options.conninfo, confirmed: start)
        stream.largeValueDirectory = spoolDirectory
        try stream.start(slot: identity.slot, publication: identity.publication, from: start, binary: identity.binary)
        var accumulator = ChangeAccumulator(globalStart: start) { text, vector in
            try TextValueParser.append(text, to: &vector)
        }
        accumulator.tableStart = identity.tableStart
        accumulator.tableNames = identity.tableNames.mapValues { (schema: $0[0], name: $0[1]) }
        accumulator.skipUnknownTables = identity.skipUnknownTables
        accumulator.excludedTables = identity.excludedTables
        accumulator.spillRows = options.spillRows
        accumulator.writtenChanges = options.writtenChanges
        let resolver = TypeResolver(connection: catalog, publication: identity.publication)
        let spoolDirectory = self.spoolDirectory, parquetOptions = options.parquet
        let spill: (inout ChangeSegment) throws -> Void = { segment in
            if segment.spool == nil {
                segment.spool = try SegmentSpool(directory: spoolDirectory, relation: segment.relation, options: parquetOptions)
            }
            try segment.spool!.spill(&segment)
        }
        let continuous = options.continuous
        var transactionsBefore = 0
        var cuts = 0
        // A cut ends early, at a transaction boundary, once the spool's file system runs low
        // (SpoolSpace); a cut always holds at least one transaction. The free space is looked at
        // once per transaction read.
        let space = SpoolSpace(directory: spoolDirectory)
        var lookedAt = 0
        var low = false
        let stopAtBoundary: (ChangeAccumulator) -> Bool = { [logger] accumulator in
            guard let space, accumulator.transactions > transactionsBefore else { return false }
            if accumulator.transactions != lookedAt {
                lookedAt = accumulator.transactions
                let wasLow = low
                low = space.isLow(pending: accumulator.heldBytes)
                if low && !wasLow {
                    logger.warning(
                        "the spool is running out of room: this cycle stores what it has read and the next goes on",
                        metadata: ["spool.directory": "\(spoolDirectory)", "spool.reserve_bytes": "\(space.reserveBytes)"])
                }
            }
            return low
        }
        while true {
            let idle = state.withLock { $0.cutRequest == nil && $0.confirmRequest == nil && !$0.stopRequested }
            if idle && !(continuous && cuts > 0) {
                // Not reading between cuts (--once, or before the first cut so that a redone
                // cycle ends where its intent says): wait for work, waking to keep the connection alive.
                _ = wake.wait(timeout: .now() + .seconds(5))
            }
            let (request, confirm, stop) = state.withLock { state in
                defer { state.confirmRequest = nil }
                return (state.cutRequest, state.confirmRequest, state.stopRequested)
            }

            if let confirm { try stream.confirm(confirm) }
            if stop {
                try stream.finish()
                return
            }
            if let request {
                // On failure the segments in hand may have spool files; they are removed with the
                // folder by the next feed's prepareSpool.
                try stream.drain(until: request.target, into: &accumulator, resolver: resolver, spill: spill, stopAtBoundary: stopAtBoundary)
                let segments = accumulator.takeSegments()
                var cut = Cut(
                    segments: segments, end: max(stream.safePosition, start), target: request.target,
                    transactions: accumulator.transactions - transactionsBefore, lastCommitTime: accumulator.lastCommitTime,
                    lastCommitEnd: accumulator.lastCommitEnd, failedTables: accumulator.takeFailedTables())
                cut.stoppedEarly = cut.end < request.target
                transactionsBefore = accumulator.transactions
                cuts += 1
                state.withLock { $0.cutRequest = nil }
                request.continuation.resume(returning: cut)
            } else if continuous && cuts > 0 && !(low && !accumulator.inTransaction) {
                try stream.read(for: .milliseconds(200), into: &accumulator, resolver: resolver, spill: spill, stopAtBoundary: stopAtBoundary)
            } else if continuous && cuts > 0 {
                // The spool is low: wait for the cut that stores (and frees) what was read.
                try stream.sendStatus()
                _ = wake.wait(timeout: .now() + .milliseconds(200))
            } else {
                try stream.sendStatus()
            }
        }
    }

    /// Creates the spool directory if needed and removes spool files a crashed run left behind.
    public static func prepareSpool(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory)
            where name.hasPrefix("replicatord-cdc-") && (name.hasSuffix(".parquet") || name.hasSuffix(".value")) {
                try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
            }
        } catch {
            throw SpoolError(directory: directory, reason: error.localizedDescription)
        }
    }
}

/// The spool directory cannot be used (not creatable, not listable).
public struct SpoolError: Error, Sendable, CustomStringConvertible {
    /// The folder that was refused.
    public var directory: String
    /// What the file system said.
    public var reason: String
    public var description: String { "writing Parquet failed: spool directory \(directory) ([task] spool_dir) is not usable: \(reason)" }
}
