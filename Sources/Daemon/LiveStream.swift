import Foundation
import Logging
import PGClient
import PGOutput
import Replication

/// The replication connection of a slot with a thread of its own that reads it. A CDC cycle asks
/// it for a ``Cut``: every change up to a transaction boundary at or past a target position, as
/// per-table segments. Only after the cycle has stored the files and the checkpoint does it tell
/// the stream to ``confirm(_:)`` that position to the server.
///
/// In service mode (`continuous`) the stream stays open between cycles and keeps reading into its
/// accumulator (large segments spill to the spool directory), so a cycle only has to cut what has
/// already arrived. With `--once` it reads only while a cut is asked for.
///
/// Any failure (the connection lost, the spool full, a protocol error) ends the stream: the cut
/// asked for fails, nothing is confirmed, and the engine opens a new stream from the checkpoint.
final class LiveStream: @unchecked Sendable {
    /// What a cycle takes from the stream.
    struct Cut: @unchecked Sendable {
        /// One segment per table (and per layout, after DDL), in the order they were opened.
        var segments: [ChangeSegment]
        /// Everything before this position is in `segments` or was stored by earlier cycles.
        var end: LSN
        /// The position the cycle asked for.
        var target: LSN
        /// Transactions with rows in `segments`.
        var transactions: Int
        /// Commit time of the last transaction read, microseconds since 1970.
        var lastCommitTime: Int64
        /// End of the last commit read (with or without rows for us).
        var lastCommitEnd: LSN
        /// Tables whose changes could not be decoded (by OID, with the reason): no segment of
        /// theirs is in `segments`; the cycle puts them in state `error`.
        var failedTables: [UInt32: FailedTable] = [:]
    }

    /// What the stream was opened for; a cycle that needs something else opens a new stream.
    struct Identity: Equatable, Sendable {
        var slot: String
        var publication: String
        var binary: Bool
        var tableStart: [UInt32: LSN]
        /// The schema and table name each table's changes land under, by OID.
        var tableNames: [UInt32: [String]]
        /// Whether changes of tables missing from `tableNames` are left out (to their own full load).
        var skipUnknownTables: Bool
        /// Tables in state `error`, whose changes are left out until `reload-table`.
        var excludedTables: Set<UInt32> = []
    }

    let identity: Identity
    private let settings: EngineSettings
    private let continuous: Bool
    private let logger: Logger
    private let spoolDirectory: String

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var cutRequest: (target: LSN, continuation: CheckedContinuation<Cut, any Error>)?
    private var confirmRequest: LSN?
    private var stopRequested = false
    private var failure: (any Error)?
    private var stopped = false
    /// The position the checkpoint holds (what was last confirmed, or the start).
    private var checkpointed: LSN

    /// Opens the stream from `start` (the checkpoint's LSN) on a thread of its own.
    init(settings: EngineSettings, start: LSN, identity: Identity, continuous: Bool, logger: Logger) {
        self.settings = settings
        self.identity = identity
        self.continuous = continuous
        self.logger = logger
        self.checkpointed = start
        // One folder per slot: daemons (or template instances) sharing a spool_dir never touch
        // each other's files.
        spoolDirectory = (settings.spoolDirectory as NSString).appendingPathComponent(settings.slot)
        let thread = Thread { [self] in self.main(start: start) }
        thread.name = "replicatord-stream"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// The position the stream started from or last confirmed; a checkpoint at another position
    /// means the stream no longer matches it.
    var position: LSN { condition.withLock { checkpointed } }

    /// Whether the stream has ended (failed or stopped); a new one is needed.
    var isFinished: Bool { condition.withLock { stopped || failure != nil } }

    /// Every change up to the first transaction boundary at or past `target` (changes already
    /// read count, so the cut may end later). One cut at a time.
    func cut(at target: LSN) async throws -> Cut {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if let failure { continuation.resume(throwing: failure); return }
            if stopped { continuation.resume(throwing: PGError(.connectionClosed, "the replication stream was closed")); return }
            precondition(cutRequest == nil, "one cut at a time")
            cutRequest = (target, continuation)
            condition.signal()
        }
    }

    /// Tells the server everything before `lsn` is stored. Call only after the checkpoint that
    /// covers `lsn` is stored. Sent by the stream's thread within a fraction of a second.
    func confirm(_ lsn: LSN) {
        condition.withLock {
            if lsn > checkpointed { checkpointed = lsn }
            confirmRequest = lsn
            condition.signal()
        }
    }

    /// Sends the last confirmation and ends the stream (CopyDone), waiting up to `timeout`.
    func stop(timeout: Duration = .seconds(10)) {
        condition.lock()
        defer { condition.unlock() }
        stopRequested = true
        condition.signal()
        let until = Date().addingTimeInterval(Double(timeout.components.seconds))
        while !stopped, failure == nil, condition.wait(until: until) {}
    }

    // MARK: The stream's thread

    private func main(start: LSN) {
        do {
            try stream(from: start)
        } catch {
            condition.lock()
            failure = error
            let request = cutRequest
            cutRequest = nil
            condition.unlock()
            request?.continuation.resume(throwing: error)
            if continuous {
                logger.warning("replication stream ended; the next cycle opens a new one from the checkpoint",
                               metadata: ["error": "\(SecretScrubber.scrub("\(error)"))", "slot.name": "\(settings.slot)"])
            }
            return
        }
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }

    private func stream(from start: LSN) throws {
        let catalog = try PGConnection(conninfo: settings.conninfo)
        let slot = try catalog.query("SELECT plugin, database = current_database() FROM pg_replication_slots WHERE slot_name = $1", [settings.slot])
        guard let row = slot.rows.first else {
            throw EngineError(.slotLost, "replication slot \(settings.slot) no longer exists: changes since \(start) cannot be read; drop the checkpoint (\(ReplicationState.key)) to start over with a full load")
        }
        guard row[0] == "pgoutput", row[1] == "t" else {
            throw EngineError(.slotLost, "replication slot \(settings.slot) is not a pgoutput slot of this database")
        }
        try Self.prepareSpool(spoolDirectory)
        let stream = try ChangeStream(conninfo: settings.conninfo, confirmed: start)
        stream.liftDirectory = spoolDirectory
        try stream.start(slot: settings.slot, publication: settings.publication, from: start, binary: identity.binary)
        var accumulator = ChangeAccumulator(globalStart: start) { text, vector in
            try TextValueParser.append(text, to: &vector)
        }
        accumulator.tableStart = identity.tableStart
        accumulator.tableNames = identity.tableNames.mapValues { (schema: $0[0], name: $0[1]) }
        accumulator.skipUnknownTables = identity.skipUnknownTables
        accumulator.excludedTables = identity.excludedTables
        accumulator.writtenChanges = settings.writtenChanges
        accumulator.spillRows = settings.cdcSpillRows
        let resolver = TypeResolver(connection: catalog, publication: settings.publication)
        let spoolDirectory = self.spoolDirectory, parquetOptions = settings.parquet
        let spill: (inout ChangeSegment) throws -> Void = { segment in
            if segment.spool == nil {
                segment.spool = try SegmentSpool(directory: spoolDirectory, relation: segment.relation, options: parquetOptions)
            }
            try segment.spool!.spill(&segment)
        }
        var transactionsBefore = 0
        var cuts = 0
        while true {
            condition.lock()
            if cutRequest == nil, confirmRequest == nil, !stopRequested, !(continuous && cuts > 0) {
                // Not reading between cuts (--once, or before the first cut so that a redone
                // cycle ends where its intent says): wait for work, waking to keep the connection alive.
                _ = condition.wait(until: Date().addingTimeInterval(5))
            }
            let request = cutRequest
            let confirm = confirmRequest
            let stop = stopRequested
            confirmRequest = nil
            condition.unlock()

            if let confirm { try stream.confirm(confirm) }
            if stop {
                try stream.finish()
                return
            }
            if let request {
                do {
                    try stream.drain(until: request.target, into: &accumulator, resolver: resolver, spill: spill)
                } catch {
                    // The segments in hand may have spool files; they are removed with the folder
                    // by the next stream's prepareSpool.
                    throw error
                }
                let segments = accumulator.takeSegments()
                let cut = Cut(segments: segments, end: max(stream.safePosition, start), target: request.target,
                              transactions: accumulator.transactions - transactionsBefore, lastCommitTime: accumulator.lastCommitTime,
                              lastCommitEnd: accumulator.lastCommitEnd, failedTables: accumulator.takeFailedTables())
                transactionsBefore = accumulator.transactions
                cuts += 1
                condition.withLock { cutRequest = nil }
                request.continuation.resume(returning: cut)
            } else if continuous && cuts > 0 {
                try stream.read(for: .milliseconds(200), into: &accumulator, resolver: resolver, spill: spill)
            } else {
                try stream.sendStatus()
            }
        }
    }

    /// Creates the spool directory if needed and removes spool files a crashed run left behind.
    static func prepareSpool(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory)
            where name.hasPrefix("replicatord-cdc-") && (name.hasSuffix(".parquet") || name.hasSuffix(".value")) {
                try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
            }
        } catch {
            throw EngineError(.writeFailed, "spool directory \(directory) ([task] spool_dir) is not usable: \(error.localizedDescription)")
        }
    }
}
