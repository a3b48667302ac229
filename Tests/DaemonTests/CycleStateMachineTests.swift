@testable import Daemon
import PGOutput
import Testing

/// The cycle's exactly-once order, with no server: a small in-memory world (the WAL, the store's
/// files, the checkpoint, the Iceberg tables, what PostgreSQL was told) does what the machine
/// answers. A test kills the run at a crash point of ``CrashPoint`` (the machine is dropped, the
/// world stays, like `kill -9`), starts a new process on the same world and checks that nothing
/// is lost, nothing doubled and nothing confirmed before it was stored.
@Suite struct CycleStateMachineTests {
    typealias Machine = CycleStateMachine
    typealias Action = CycleStateMachine.Action

    /// One committed transaction's rows of one table.
    struct Change: Equatable, Hashable, CustomStringConvertible {
        var table: String
        var commitEnd: LSN
        var description: String { "\(table)@\(commitEnd)" }
    }

    /// What was killed where.
    struct Killed: Error { var point: CrashPoint }

    /// The stand-in for PostgreSQL, the store and the checkpoint.
    struct World {
        var migrationType: MigrationType = .fullLoadAndCDC
        var iceberg = false
        /// `[catalog] glue_database`: the Glue tables are declared before a cycle's files are stored
        /// and, with Iceberg, pointed at each table's newest snapshot after its commit (as CDCCycle
        /// does around the machine's `storeFiles` and `commitIceberg`).
        var glue = false
        /// Glue: the tables declared, and for Iceberg the snapshot each Glue table points at.
        var glueTables: Set<String> = []
        var glueMetadata: [String: LSN] = [:]
        /// Committed transactions, in WAL order.
        var wal: [Change] = []
        /// `pg_current_wal_flush_lsn()`.
        var flush: LSN = LSN(0x100)
        /// A keepalive carries the stream this far past its target (no commit in between).
        var keepalivePast: UInt64 = 0
        /// Tables the stream leaves out (gone to state `error`, or not decodable on a redo).
        var excluded: Set<String> = []
        /// Stored objects: key -> the changes in the file.
        var objects: [String: [Change]] = [:]
        /// Multipart uploads left open (a file written, not stored).
        var openUploads: Set<String> = []
        var checkpoint: Machine.CheckpointSummary?
        /// Iceberg table per folder: the end LSNs of its visible cycle snapshots, in order.
        var icebergSnapshots: [String: [LSN]] = [:]
        /// What PostgreSQL was told is stored.
        var serverConfirmed: LSN = .zero
        /// `reload-table` requests not yet done.
        var reloadRequests: Set<String> = []
        var fullLoads: [Bool] = []
        var reloads = 0
        var nameClock = 0
        /// Every action the runs were given, in order.
        var trail: [Action] = []

        mutating func commit(_ table: String, at lsn: UInt64) {
            wal.append(Change(table: table, commitEnd: LSN(lsn)))
            if LSN(lsn) > flush { flush = LSN(lsn) }
        }

        mutating func newName(_ table: String) -> String {
            nameClock += 1
            return "public/\(table)/CDC-\(nameClock).parquet"
        }
    }

    /// Runs one process's cycle on `world`, doing each action, until it finishes or reaches `crash`.
    @discardableResult
    static func run(_ world: inout World, crashAt crash: CrashPoint? = nil, uploadsSwept: Bool = false) throws -> Machine.Outcome {
        var machine = Machine(migrationType: world.migrationType, iceberg: world.iceberg, uploadsSwept: uploadsSwept)
        var segments: [[Change]] = []
        var stored: [String] = []
        var action = try machine.cycleDue()
        while true {
            world.trail.append(action)
            switch action {
            case .abortOrphanedUploads:
                world.openUploads = []
                action = try machine.uploadsAborted()
            case .loadCheckpoint:
                action = try machine.checkpointLoaded(world.checkpoint)
            case .runFullLoad(let resume):
                world.fullLoads.append(resume)
                if crash == .afterLoadFilesStored {
                    // The first table's LOAD files are stored; the checkpoint (phase full_load) does not name them.
                    world.objects["public/a/LOAD00000001.parquet"] = []
                    world.checkpoint = .init(phase: .fullLoad, confirmed: world.flush, pending: nil)
                    throw Killed(point: .afterLoadFilesStored)
                }
                world.checkpoint = .init(phase: .cdc, confirmed: world.flush, pending: nil)
                action = try machine.fullLoadDone()
            case .startChangesOnly:
                world.checkpoint = .init(phase: .cdc, confirmed: world.flush, pending: nil)
                action = try machine.changesOnlyStarted(world.checkpoint!)
            case .loadNewTables:
                if !world.reloadRequests.isEmpty {
                    world.reloads += 1
                    if crash == .afterReplacingSetCommitted { throw Killed(point: .afterReplacingSetCommitted) }
                    if crash == .afterReplacedFilesRemoved { throw Killed(point: .afterReplacedFilesRemoved) }
                    world.reloadRequests = []
                }
                action = try machine.newTablesLoaded(world.checkpoint!)
            case .readServerPosition:
                action = try machine.serverPositionRead(world.flush)
            case .cut(let from, let target, _):
                // The stream starts at the checkpoint: what it stores is never read again.
                #expect(from == world.checkpoint?.confirmed, "the stream must start at the checkpoint")
                let read = world.wal.filter { $0.commitEnd > from && $0.commitEnd <= target && !world.excluded.contains($0.table) }
                var order: [String] = []
                var byTable: [String: [Change]] = [:]
                for change in read {
                    if byTable[change.table] == nil { order.append(change.table) }
                    byTable[change.table, default: []].append(change)
                }
                segments = order.map { byTable[$0]! }
                let keys = order.map { world.newName($0) }
                let lastCommit = world.wal.filter { $0.commitEnd > from && $0.commitEnd <= target }.last?.commitEnd ?? from
                let end = LSN(max(target, from).value + world.keepalivePast)
                action = try machine.changesCut(.init(end: end, lastCommitEnd: lastCommit, newKeys: keys))
            case .removeOrphanFiles(let keys, let folders):
                for folder in folders { rollBack(&world, folder) }
                for key in keys { world.objects[key] = nil }
                action = try machine.orphanFilesRemoved()
            case .writeIntent(let intent):
                #expect(
                    intent.files.allSatisfy { world.objects[$0] == nil || world.checkpoint?.pending?.files.contains($0) == true },
                    "an intent must not name files stored by an earlier cycle")
                world.checkpoint!.pending = intent
                action = try machine.intentWritten()
            case .storeFiles(let keys):
                #expect(world.checkpoint?.pending?.files == keys, "files are stored only under a stored intent")
                if world.glue && !world.iceberg {
                    for key in keys { world.glueTables.insert(IcebergSync.folder(of: key)) }
                    if crash == .afterGlueTablesDeclared { throw Killed(point: .afterGlueTablesDeclared) }
                }
                for (key, changes) in zip(keys, segments) {
                    if crash == .afterFileWritten {
                        world.openUploads.insert(key)
                        throw Killed(point: .afterFileWritten)
                    }
                    world.objects[key] = changes
                }
                stored = keys
                if crash == .afterFilesStored { throw Killed(point: .afterFilesStored) }
                action = try machine.filesStored(keys, failedTables: false)
            case .commitIceberg(let end, let checkpointed, let rollBackFolders):
                for folder in rollBackFolders { rollBack(&world, folder, checkpointed: checkpointed) }
                for folder in Set(stored.map(IcebergSync.folder(of:))).sorted() {
                    if let last = world.icebergSnapshots[folder]?.last, last > checkpointed {
                        if last == end { continue }  // the redo of a committed cycle
                        world.icebergSnapshots[folder]!.removeLast()
                    }
                    if crash == .afterIcebergMetadataStored { throw Killed(point: .afterIcebergMetadataStored) }
                    world.icebergSnapshots[folder, default: []].append(end)
                    if crash == .afterIcebergHintAdvanced { throw Killed(point: .afterIcebergHintAdvanced) }
                }
                if world.glue {
                    for folder in Set(stored.map(IcebergSync.folder(of:))).sorted() {
                        world.glueTables.insert(folder)
                        world.glueMetadata[folder] = world.icebergSnapshots[folder]?.last
                    }
                    if crash == .afterGlueIcebergAdvanced { throw Killed(point: .afterGlueIcebergAdvanced) }
                }
                action = try machine.icebergCommitted()
            case .writeCheckpoint(let end):
                let before = world.checkpoint!.confirmed
                world.checkpoint = .init(phase: .cdc, confirmed: max(end, before), pending: nil)
                if crash == .afterStateCommitted && !segments.isEmpty { throw Killed(point: .afterStateCommitted) }
                action = try machine.checkpointWritten()
            case .confirm(let lsn):
                // Nothing confirmed before it is stored: the checkpoint covers it and every change
                // before it is in a stored file.
                #expect(world.checkpoint!.confirmed >= lsn && world.checkpoint!.pending == nil, "confirmed \(lsn) before the checkpoint covered it")
                let inFiles = Set(world.objects.values.joined())
                let missing = world.wal.filter { $0.commitEnd <= lsn && !world.excluded.contains($0.table) && !inFiles.contains($0) }
                #expect(missing.isEmpty, "confirmed \(lsn) with \(missing) not stored")
                if lsn > world.serverConfirmed { world.serverConfirmed = lsn }
                stored = []
                segments = []
                action = try machine.lsnConfirmed()
            case .finish(let outcome):
                return outcome
            case .reportFailure:
                Issue.record("the run failed")
                return .cdc
            }
        }
    }

    /// Rolls back a folder's cycle snapshot beyond the checkpoint (what `IcebergSync` does).
    static func rollBack(_ world: inout World, _ folder: String, checkpointed: LSN? = nil) {
        let confirmed = checkpointed ?? world.checkpoint?.confirmed ?? .zero
        if let last = world.icebergSnapshots[folder]?.last, last > confirmed { world.icebergSnapshots[folder]!.removeLast() }
    }

    /// Runs until `crash`, which must be reached; the trail then starts afresh for the next process.
    static func kill(_ world: inout World, at crash: CrashPoint) throws {
        do {
            try run(&world, crashAt: crash)
            Issue.record("the run did not reach \(crash.rawValue)")
        } catch let killed as Killed {
            #expect(killed.point == crash)
        }
        world.trail = []
    }

    /// Nothing lost, nothing doubled: every change of the WAL up to what PostgreSQL was told is in
    /// exactly one stored file, no upload stays open, no intent is left.
    static func expectExactlyOnce(_ world: World, sourceLocation: SourceLocation = #_sourceLocation) {
        var count: [Change: Int] = [:]
        for change in world.objects.values.joined() { count[change, default: 0] += 1 }
        for change in world.wal where change.commitEnd <= world.serverConfirmed && !world.excluded.contains(change.table) {
            #expect(count[change] == 1, "\(change) is in \(count[change] ?? 0) files", sourceLocation: sourceLocation)
        }
        #expect(count.values.allSatisfy { $0 == 1 }, "a change is stored twice: \(count.filter { $0.value > 1 })", sourceLocation: sourceLocation)
        #expect(world.openUploads.isEmpty, "uploads left open: \(world.openUploads)", sourceLocation: sourceLocation)
        #expect(world.checkpoint?.pending == nil, sourceLocation: sourceLocation)
        #expect(world.serverConfirmed == world.checkpoint?.confirmed, sourceLocation: sourceLocation)
        for (folder, ends) in world.icebergSnapshots {
            #expect(ends == ends.sorted() && Set(ends).count == ends.count, "\(folder) snapshots \(ends) repeat or go back", sourceLocation: sourceLocation)
        }
    }

    /// A world past its full load, with changes to two tables waiting in the WAL.
    static func replicating(iceberg: Bool = false, glue: Bool = false) throws -> World {
        var world = World()
        world.iceberg = iceberg
        world.glue = glue
        try run(&world)  // the full load
        world.trail = []
        world.commit("a", at: 0x200)
        world.commit("b", at: 0x300)
        world.commit("a", at: 0x400)
        return world
    }

    // MARK: One test per crash point

    @Test func crashAfterFileWrittenRedoesTheCycleUnderItsIntentsNames() throws {
        var world = try Self.replicating()
        try Self.kill(&world, at: .afterFileWritten)
        let intent = try #require(world.checkpoint?.pending)
        #expect(world.serverConfirmed == .zero, "nothing may be confirmed before the checkpoint")
        #expect(!world.openUploads.isEmpty)
        world.commit("b", at: 0x500)  // more changes arrive while the daemon is down
        try Self.run(&world)
        // The new process aborts the open upload, redoes the cycle to the intent's end under its
        // names, then runs the next cycle.
        #expect(world.trail.contains(.abortOrphanedUploads))
        #expect(world.trail.contains(.cut(from: LSN(0x100), target: intent.end, redo: true)))
        #expect(world.trail.contains(.storeFiles(intent.files)))
        #expect(Set(intent.files).isSubset(of: Set(world.objects.keys)))
        #expect(world.serverConfirmed == LSN(0x500))
        Self.expectExactlyOnce(world)
    }

    @Test func crashAfterFilesStoredOverwritesTheSameFilesAndConfirmsOnce() throws {
        var world = try Self.replicating()
        try Self.kill(&world, at: .afterFilesStored)
        let intent = try #require(world.checkpoint?.pending)
        #expect(Set(intent.files).isSubset(of: Set(world.objects.keys)))
        #expect(world.serverConfirmed == .zero)
        let filesBefore = world.objects.count
        try Self.run(&world)
        #expect(world.objects.count == filesBefore, "the redo writes the same names, no second copy")
        #expect(world.serverConfirmed == intent.end)
        Self.expectExactlyOnce(world)
    }

    @Test func crashAfterIcebergMetadataStoredCommitsTheCycleOnceOnRedo() throws {
        var world = try Self.replicating(iceberg: true)
        try Self.kill(&world, at: .afterIcebergMetadataStored)
        #expect(world.icebergSnapshots.values.allSatisfy { $0.isEmpty }, "no snapshot is visible before the hint advances")
        try Self.run(&world)
        #expect(world.icebergSnapshots["public/a/"] == [LSN(0x400)])
        #expect(world.icebergSnapshots["public/b/"] == [LSN(0x400)])
        Self.expectExactlyOnce(world)
    }

    @Test func crashAfterIcebergHintAdvancedKeepsTheCommittedSnapshotOnRedo() throws {
        var world = try Self.replicating(iceberg: true)
        try Self.kill(&world, at: .afterIcebergHintAdvanced)
        #expect(world.icebergSnapshots["public/a/"] == [LSN(0x400)], "the first table's snapshot is committed, the checkpoint is not")
        #expect(world.serverConfirmed == .zero)
        try Self.run(&world)
        #expect(world.icebergSnapshots["public/a/"] == [LSN(0x400)], "the redo does not commit the cycle twice")
        #expect(world.icebergSnapshots["public/b/"] == [LSN(0x400)])
        Self.expectExactlyOnce(world)
    }

    @Test func crashAfterStateCommittedResumesFromTheCheckpointWithoutRedo() throws {
        var world = try Self.replicating()
        try Self.kill(&world, at: .afterStateCommitted)
        #expect(world.checkpoint?.confirmed == LSN(0x400))
        #expect(world.serverConfirmed == .zero, "the kill came before the confirmation")
        world.commit("a", at: 0x600)
        try Self.run(&world)
        // No redo: the stream starts at the checkpoint, so what PostgreSQL sends again is skipped.
        #expect(!world.trail.contains { if case .cut(_, _, redo: true) = $0 { true } else { false } })
        #expect(world.trail.contains(.cut(from: LSN(0x400), target: LSN(0x600), redo: false)))
        #expect(world.serverConfirmed == LSN(0x600))
        Self.expectExactlyOnce(world)
    }

    @Test func crashAfterLoadFilesStoredResumesTheFullLoadBeforeAnyChange() throws {
        var world = World()
        try Self.kill(&world, at: .afterLoadFilesStored)
        #expect(world.checkpoint?.phase == .fullLoad)
        try Self.run(&world)
        #expect(world.fullLoads == [false, true], "the second process resumes the interrupted full load")
        #expect(world.trail.first { if case .cut = $0 { true } else { false } } == nil, "no change is read before the full load is done")
        #expect(world.serverConfirmed == .zero)
        #expect(world.checkpoint?.phase == .cdc)
    }

    @Test func crashAfterReplacingSetCommittedReloadsBeforeTheNextCut() throws {
        var world = try Self.replicating()
        world.reloadRequests = ["public.a"]
        try Self.kill(&world, at: .afterReplacingSetCommitted)
        #expect(world.reloadRequests == ["public.a"], "the request stays until its set is done")
        world.trail = []
        try Self.run(&world)
        #expect(world.reloads == 2)
        #expect(world.reloadRequests.isEmpty)
        let reload = try #require(world.trail.firstIndex(of: .loadNewTables))
        let cut = try #require(world.trail.firstIndex { if case .cut = $0 { true } else { false } })
        #expect(reload < cut)
        Self.expectExactlyOnce(world)
    }

    @Test func crashAfterReplacedFilesRemovedReloadsBeforeTheNextCut() throws {
        var world = try Self.replicating()
        world.reloadRequests = ["public.b"]
        try Self.kill(&world, at: .afterReplacedFilesRemoved)
        world.trail = []
        try Self.run(&world)
        #expect(world.reloads == 2)
        #expect(world.reloadRequests.isEmpty)
        #expect(world.trail.firstIndex(of: .loadNewTables)! < world.trail.firstIndex(of: .readServerPosition)!)
        Self.expectExactlyOnce(world)
    }

    @Test func crashAfterGlueTablesDeclaredLeavesACatalogThatReadsEveryStoredFile() throws {
        var world = try Self.replicating(glue: true)
        try Self.kill(&world, at: .afterGlueTablesDeclared)
        #expect(world.glueTables == ["public/a/", "public/b/"], "declared before any file of the cycle is stored")
        #expect(world.objects.keys.allSatisfy { $0.hasPrefix("public/a/LOAD") || $0.hasPrefix("public/b/LOAD") || !$0.contains("CDC") })
        #expect(world.serverConfirmed == .zero)
        try Self.run(&world)
        // The redo declares again (idempotent) and stores the intent's files once.
        #expect(Set(world.objects.keys.map(IcebergSync.folder(of:))).isSubset(of: world.glueTables))
        Self.expectExactlyOnce(world)
    }

    @Test func crashAfterGlueIcebergAdvancedPointsGlueAtTheNewestSnapshotOnce() throws {
        var world = try Self.replicating(iceberg: true, glue: true)
        try Self.kill(&world, at: .afterGlueIcebergAdvanced)
        #expect(world.glueMetadata["public/a/"] == LSN(0x400) && world.glueMetadata["public/b/"] == LSN(0x400))
        #expect(world.serverConfirmed == .zero, "the kill came before the checkpoint")
        world.commit("b", at: 0x500)
        try Self.run(&world)
        #expect(world.icebergSnapshots["public/a/"] == [LSN(0x400)], "the redo does not commit the cycle twice")
        #expect(world.icebergSnapshots["public/b/"] == [LSN(0x400), LSN(0x500)])
        #expect(world.glueMetadata["public/b/"] == LSN(0x500), "Glue follows the newest snapshot")
        Self.expectExactlyOnce(world)
    }

    /// A new crash point needs a test here.
    @Test func everyCrashPointHasATest() {
        let tested: Set<CrashPoint> = [
            .afterFileWritten, .afterFilesStored, .afterIcebergMetadataStored, .afterIcebergHintAdvanced,
            .afterStateCommitted, .afterLoadFilesStored, .afterReplacingSetCommitted, .afterReplacedFilesRemoved,
            .afterGlueTablesDeclared, .afterGlueIcebergAdvanced,
        ]
        #expect(Set(CrashPoint.allCases) == tested)
    }

    // MARK: Resume paths and ordinary cycles

    @Test func cycleStoresIntentThenFilesThenCheckpointThenConfirms() throws {
        var world = try Self.replicating()
        try Self.run(&world, uploadsSwept: true)
        let steps = world.trail.map { action -> String in
            switch action {
            case .loadCheckpoint: "checkpoint loaded"
            case .loadNewTables: "new tables"
            case .readServerPosition: "position"
            case .cut: "cut"
            case .writeIntent: "intent"
            case .storeFiles: "files"
            case .writeCheckpoint: "checkpoint"
            case .confirm: "confirm"
            case .finish: "finish"
            default: "\(action)"
            }
        }
        #expect(steps == ["checkpoint loaded", "new tables", "position", "cut", "intent", "files", "checkpoint", "confirm", "finish"])
        Self.expectExactlyOnce(world)
    }

    @Test func idleCycleStoresNothingAndConfirmsTheCheckpoint() throws {
        var world = World()
        try Self.run(&world)
        world.trail = []
        try Self.run(&world, uploadsSwept: true)
        #expect(!world.trail.contains { if case .writeIntent = $0 { true } else if case .writeCheckpoint = $0 { true } else { false } })
        #expect(world.trail.contains(.confirm(LSN(0x100))))
    }

    @Test func idleCycleThatMovesThePositionStoresTheCheckpoint() throws {
        var world = World()
        try Self.run(&world)
        world.flush = LSN(0x180)  // WAL without rows for us
        world.trail = []
        try Self.run(&world, uploadsSwept: true)
        #expect(!world.trail.contains { if case .writeIntent = $0 { true } else { false } })
        #expect(world.trail.contains(.writeCheckpoint(end: LSN(0x180))))
        #expect(world.serverConfirmed == LSN(0x180))
    }

    @Test func redoWhoseCutDiffersFromItsIntentRemovesTheIntentsFilesFirst() throws {
        var world = try Self.replicating(iceberg: true)
        try Self.kill(&world, at: .afterIcebergHintAdvanced)
        let intent = try #require(world.checkpoint?.pending)
        world.excluded = ["b"]  // the redo leaves table b out: its segment is gone
        try Self.run(&world)
        let removal = try #require(world.trail.firstIndex { if case .removeOrphanFiles = $0 { true } else { false } })
        let newIntent = try #require(world.trail.lastIndex { if case .writeIntent = $0 { true } else { false } })
        #expect(removal < newIntent, "the intent's files go before a new intent is stored")
        #expect(world.trail[removal] == .removeOrphanFiles(keys: intent.files, icebergFolders: ["public/a/", "public/b/"]))
        #expect(intent.files.allSatisfy { world.objects[$0] == nil }, "the differing intent's files are removed")
        #expect(world.icebergSnapshots["public/b/"] ?? [] == [], "table b's uncommitted snapshot is rolled back")
        Self.expectExactlyOnce(world)
    }

    @Test func redoCarriedPastItsIntentByAKeepaliveKeepsTheIntentsEndAndNames() throws {
        var world = try Self.replicating()
        try Self.kill(&world, at: .afterFilesStored)
        let intent = try #require(world.checkpoint?.pending)
        world.keepalivePast = 0x10  // the redo's stream reports a position past the intent, with no commit in between
        var machine = Machine(migrationType: .fullLoadAndCDC, iceberg: false)
        _ = try machine.cycleDue()
        _ = try machine.uploadsAborted()
        let cut = try machine.checkpointLoaded(world.checkpoint)
        #expect(cut == .cut(from: LSN(0x100), target: intent.end, redo: true))
        let next = try machine.changesCut(
            .init(end: LSN(intent.end.value + 0x10), lastCommitEnd: intent.end, newKeys: ["public/a/new.parquet", "public/b/new.parquet"]))
        #expect(next == .writeIntent(intent), "same end, same names")
    }

    @Test func redoIsFollowedByTheCycleItself() throws {
        var world = try Self.replicating()
        try Self.kill(&world, at: .afterFilesStored)
        world.commit("a", at: 0x700)
        try Self.run(&world)
        let cuts = world.trail.compactMap { action -> Action? in if case .cut = action { action } else { nil } }
        #expect(cuts == [.cut(from: LSN(0x100), target: LSN(0x400), redo: true), .cut(from: LSN(0x400), target: LSN(0x700), redo: false)])
        #expect(!world.trail.contains(.loadNewTables), "no new tables are loaded while a redo is due")
        Self.expectExactlyOnce(world)
    }

    @Test func changesOnlyTaskStartsItsSlotBeforeTheFirstCut() throws {
        var world = World()
        world.migrationType = .cdc
        try Self.run(&world)
        #expect(world.trail.prefix(4) == [.abortOrphanedUploads, .loadCheckpoint, .startChangesOnly, .readServerPosition])
        #expect(world.fullLoads.isEmpty)
        world.commit("a", at: 0x200)
        world.trail = []
        try Self.run(&world, uploadsSwept: true)
        #expect(!world.trail.contains(.loadNewTables), "a changes-only task has no added-table loads")
        Self.expectExactlyOnce(world)
    }

    @Test func fullLoadMigrationLoadsEverythingEveryCycle() throws {
        var world = World()
        world.migrationType = .fullLoad
        try Self.run(&world)
        try Self.run(&world, uploadsSwept: true)
        #expect(world.fullLoads == [false, false])
        #expect(!world.trail.contains(.readServerPosition))
    }

    @Test func uploadsLeftOpenAreAbortedOncePerProcess() throws {
        var world = World()
        try Self.run(&world, uploadsSwept: true)
        #expect(!world.trail.contains(.abortOrphanedUploads))
        #expect(world.trail.first == .loadCheckpoint)
    }

    // MARK: Refusals

    /// `[output] cdc_min_file_size_kib`: a cut whose other tables' changes are held stores the
    /// written tables' files, then moves the checkpoint and the confirmation only to the held
    /// tables' stored position, so the held changes are read again and nothing is confirmed
    /// before it is stored; with nothing held, the cut's end.
    @Test func heldChangesKeepTheCheckpointAndTheConfirmationAtTheHeldPosition() throws {
        let world = try Self.replicating()
        for (held, expected) in [(LSN(0x250) as LSN?, LSN(0x250)), (nil, LSN(0x400))] {
            var machine = Machine(migrationType: .fullLoadAndCDC, iceberg: false, uploadsSwept: true)
            _ = try machine.cycleDue()
            _ = try machine.checkpointLoaded(world.checkpoint)
            _ = try machine.newTablesLoaded(world.checkpoint!)
            _ = try machine.serverPositionRead(LSN(0x400))
            let intent = try machine.changesCut(.init(end: LSN(0x400), lastCommitEnd: LSN(0x400), newKeys: ["public/a/x.parquet"], heldThrough: held))
            #expect(intent == .writeIntent(.init(end: LSN(0x400), files: ["public/a/x.parquet"])), "the intent names the cut's own end")
            _ = try machine.intentWritten()
            #expect(try machine.filesStored(["public/a/x.parquet"], failedTables: false) == .writeCheckpoint(end: expected))
            #expect(try machine.checkpointWritten() == .confirm(expected))
        }
        // Everything held: no file, no intent, and the position does not move past the held one.
        var machine = Machine(migrationType: .fullLoadAndCDC, iceberg: false, uploadsSwept: true)
        _ = try machine.cycleDue()
        _ = try machine.checkpointLoaded(world.checkpoint)
        _ = try machine.newTablesLoaded(world.checkpoint!)
        _ = try machine.serverPositionRead(LSN(0x400))
        let held = try machine.changesCut(.init(end: LSN(0x400), lastCommitEnd: LSN(0x400), newKeys: [], heldThrough: world.checkpoint!.confirmed))
        #expect(held == .confirm(world.checkpoint!.confirmed), "an idle position: nothing stored, nothing new confirmed")
    }

    @Test func illegalEventOrderIsRefusedWithAClearError() throws {
        var machine = Machine(migrationType: .fullLoadAndCDC, iceberg: false, uploadsSwept: true)
        let early = #expect(throws: EngineError.self) { _ = try machine.intentWritten() }
        #expect(early?.code == .cycleOrder)
        #expect(early?.description == "cycle steps out of order: intentWritten cannot happen in state idle")

        // Confirming before the checkpoint is stored is refused.
        var world = try Self.replicating()
        _ = try machine.cycleDue()
        _ = try machine.checkpointLoaded(world.checkpoint)
        _ = try machine.newTablesLoaded(world.checkpoint!)
        _ = try machine.serverPositionRead(LSN(0x400))
        world.trail = []
        let intent = try machine.changesCut(.init(end: LSN(0x400), lastCommitEnd: LSN(0x400), newKeys: ["public/a/x.parquet"]))
        #expect(intent == .writeIntent(.init(end: LSN(0x400), files: ["public/a/x.parquet"])))
        let confirm = #expect(throws: EngineError.self) { _ = try machine.lsnConfirmed() }
        #expect(confirm?.description == "cycle steps out of order: lsnConfirmed cannot happen in state writingIntent")
        _ = try machine.intentWritten()
        let stray = #expect(throws: EngineError.self) { _ = try machine.filesStored(["public/b/y.parquet"], failedTables: false) }
        #expect(stray?.code == .cycleOrder)
        #expect(stray?.description.contains("public/b/y.parquet") == true)
        #expect(machine.failed() == .reportFailure)
        #expect(throws: EngineError.self) { _ = try machine.checkpointWritten() }
    }

    /// The machine never sees an unreadable LSN: the checkpoint's decoding refuses it, naming the field.
    @Test func checkpointWithUnreadableLSNsIsRefused() throws {
        var state = Checkpoint(slot: "s", publication: "p", systemID: nil, phase: .cdc, confirmedLSN: LSN(0x100))
        state.pending = .init(endLSN: LSN(0x200), files: [])
        let text = String(decoding: try state.encoded(), as: UTF8.self)
        #expect(try Machine.CheckpointSummary(Checkpoint.decode(Array(text.utf8))).confirmed == LSN(0x100))
        for (good, field) in [("\"0\\/100\"", "confirmedLSN"), ("\"0\\/200\"", "pending.endLSN")] {
            let bad = #expect(throws: EngineError.self) { _ = try Checkpoint.decode(Array(text.replacingOccurrences(of: good, with: "\"nonsense\"").utf8)) }
            #expect(bad?.code == .stateCorrupt)
            #expect(bad?.description.contains(field) == true, "\(String(describing: bad))")
        }
    }
}
