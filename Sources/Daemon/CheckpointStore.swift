import Foundation
import Logging
import ObjectStore

/// Owns the checkpoint: reads it from the store and writes each change atomically (a small
/// PutObject on S3, write-fsync-rename on a directory), one writer at a time.
///
/// The checkpoint is stored as a head and table shards (see ``CheckpointLayout``): a save writes
/// the head and the states of the tables that changed, so an idle cycle writes the head alone
/// whatever the number of tables. The full load's per-table records are batched
/// (``deferUpdate(_:)``): a table whose LOAD files are stored but not yet checkpointed is loaded
/// again after a crash, as it always was.
public actor CheckpointStore {
    private let store: any ObjectStore
    private let logger: Logger
    /// The current state: the last one stored plus any deferred changes; nil before the first run.
    public private(set) var state: Checkpoint?
    /// Whether an ``update(_:)`` is between reading the state and storing it; later ones wait here.
    private var updating = false
    private var waitingUpdates: [CheckedContinuation<Void, Never>] = []

    /// The tables as last stored or loaded, with the shard objects that hold them.
    private var stored: [String: Checkpoint.TableState] = [:]
    private var storedShards: [CheckpointLayout.ShardRef]?
    private var generation = 0
    /// Shard objects read by this keeper, by key (a key is never rewritten, so a cached shard is current).
    private var shardCache: [String: [String: Checkpoint.TableState]] = [:]
    /// Whether shard objects no head names may lie in the store (a crash or failure mid-save).
    private var sweepNeeded = true

    /// Changes applied by ``deferUpdate(_:)`` and not stored yet, and when the state was last stored.
    private var deferredChanges = 0
    private var lastStored = ContinuousClock.now
    /// A deferred batch is stored once it holds this fraction of the tables (1/16: a full load
    /// writes its checkpoint about 16 times, so the bytes written grow with the tables, not their square) ...
    static let deferredFraction = 16
    /// ... or this many changes, whichever is more ...
    static let deferredMinimum = 16
    /// ... or when the last store is this old.
    static let deferredMaxAge = Duration.seconds(5)

    /// Checkpoint objects (heads and shards) this keeper has stored, and their bytes.
    public private(set) var objectsWritten = 0
    public private(set) var bytesWritten: Int64 = 0
    /// Heads stored (one per checkpoint write).
    public private(set) var checkpointWrites = 0

    public init(store: any ObjectStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Reads the stored state (nil when none was stored yet). Shards already read are not read again.
    @discardableResult
    public func load() async throws -> Checkpoint? {
        let bytes: [UInt8]
        do {
            bytes = try await store.get(key: Checkpoint.key)
        } catch let error as ObjectStoreError where error.code == .notFound {
            state = nil; stored = [:]; storedShards = nil; deferredChanges = 0
            return nil
        }
        let head = try CheckpointLayout.Head.decode(bytes)
        var next = head.state
        if let shards = head.tableShards {
            if shards == storedShards, state != nil {
                // The shards this keeper last stored or read: the tables are those.
                next.tables = stored
            } else {
                let keys = shards.map(\.key)
                let missing = keys.filter { shardCache[$0] == nil }
                for (key, tables) in try await readShards(missing) { shardCache[key] = tables }
                var tables: [String: Checkpoint.TableState] = [:]
                tables.reserveCapacity(shards.filter { !$0.delta }.reduce(0) { $0 + $1.tables })
                // Base shards, then deltas oldest first: a later entry of a table wins.
                for key in keys { tables.merge(shardCache[key]!) { _, later in later } }
                let listed = Set(keys)
                shardCache = shardCache.filter { listed.contains($0.key) }
                next.tables = tables
            }
        }
        state = next
        stored = next.tables
        storedShards = head.tableShards
        generation = head.generation
        deferredChanges = 0
        return state
    }

    /// Applies `change` to the state and stores it; returns the stored state. Updates run one after
    /// another: an actor method gives way at its `await`, and two updates that both started from the
    /// same state would each store it without the other's change (parallel table loads did).
    /// Deferred changes are stored with it.
    @discardableResult
    public func update(_ change: (inout Checkpoint) throws -> Void) async throws -> Checkpoint {
        try await exclusively {
            guard var next = state else { preconditionFailure("CheckpointStore.update before the state was created") }
            try change(&next)
            try await write(next)
            return next
        }
    }

    /// Applies `change` to the state at once and stores it with a later batch: when the batch
    /// holds 1/``deferredFraction`` of the tables (at least ``deferredMinimum`` changes), when the
    /// last store is ``deferredMaxAge`` old, at the next ``update(_:)`` or at ``flushDeferred()``.
    /// For changes that may be lost in a crash because the work they record is redone (the full
    /// load's "table loaded": its files are removed and loaded again).
    public func deferUpdate(_ change: (inout Checkpoint) throws -> Void) async throws {
        try await exclusively {
            guard state != nil else { preconditionFailure("CheckpointStore.deferUpdate before the state was created") }
            // In place: a copy of the state per change would copy every table's entry each time.
            try change(&state!)
            deferredChanges += 1
            let batch = max(Self.deferredMinimum, state!.tables.count / Self.deferredFraction)
            if deferredChanges >= batch || ContinuousClock.now - lastStored >= Self.deferredMaxAge {
                try await write(state!)
            }
        }
    }

    /// Stores the deferred changes, if any.
    public func flushDeferred() async throws {
        try await exclusively {
            guard deferredChanges > 0, let current = state else { return }
            try await write(current)
        }
    }

    /// Stores `next` as the whole state.
    public func save(_ next: Checkpoint) async throws {
        try await exclusively { try await write(next) }
    }

    /// Removes the stored state (a full-load migration keeps none between cycles).
    public func remove() async throws {
        try await exclusively {
            try await store.delete(key: Checkpoint.key)
            for object in try await store.list(prefix: CheckpointLayout.shardFolder) { try await store.delete(key: object.key) }
            state = nil; stored = [:]; storedShards = nil; shardCache = [:]; deferredChanges = 0
        }
    }

    // MARK: -

    /// Runs `body` with no other update, deferred update or save in between.
    private func exclusively<T>(_ body: () async throws -> T) async throws -> T {
        if updating { await withCheckedContinuation { waitingUpdates.append($0) } }
        updating = true
        defer { if waitingUpdates.isEmpty { updating = false } else { waitingUpdates.removeFirst().resume() } }
        return try await body()
    }

    /// Stores `next`: the changed shards under new keys, then the head (the commit), then removes
    /// the shards it replaced.
    private func write(_ proposed: Checkpoint) async throws {
        var next = proposed
        next.version = CheckpointLayout.version
        let previous = storedShards
        let gen = generation + 1
        let cache = shardCache
        let plan = CheckpointLayout.plan(next: next.tables, stored: stored, refs: previous, generation: gen) { key in
            cache[key].map { Array($0.keys) }
        }
        let writes = try plan.writes.map { ($0.key, try CheckpointLayout.Shard(tables: $0.tables).encoded()) }
        let shards = plan.refs
        var headState = next
        headState.tables = [:]
        let head = try CheckpointLayout.Head(state: headState, generation: gen, tableShards: shards).encoded()
        do {
            try await putAll(writes)
            try await store.put(key: Checkpoint.key, bytes: head, contentType: "application/json")
        } catch {
            sweepNeeded = true
            throw error
        }
        objectsWritten += writes.count + 1
        checkpointWrites += 1
        bytesWritten += Int64(head.count + writes.reduce(0) { $0 + $1.1.count })
        state = next
        stored = next.tables
        storedShards = shards
        generation = gen
        deferredChanges = 0
        lastStored = .now
        for (key, tables) in plan.writes { shardCache[key] = tables }
        // The head no longer names these: remove them (a failure leaves them to the next sweep).
        let named = Set(shards.map(\.key))
        let replaced = (previous ?? []).map(\.key).filter { !named.contains($0) }
        for key in replaced { shardCache[key] = nil }
        do {
            if sweepNeeded {
                for object in try await store.list(prefix: CheckpointLayout.shardFolder) where !named.contains(object.key) {
                    try await store.delete(key: object.key)
                }
                sweepNeeded = false
            } else {
                for key in replaced { try await store.delete(key: key) }
            }
        } catch {
            sweepNeeded = true
            logger.warning("cannot remove checkpoint shards no longer named; the next save tries again", metadata: ["error": "\(error)"])
        }
        logger.debug(
            "checkpoint stored",
            metadata: [
                "lsn.confirmed": "\(next.confirmedLSN)", "phase": "\(next.phase.rawValue)",
                "checkpoint.generation": "\(gen)", "checkpoint.shards_written": "\(writes.count)",
            ])
    }

    /// Puts the objects, several at a time (on S3 each is a request's latency).
    private func putAll(_ objects: [(String, [UInt8])]) async throws {
        let store = self.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for (key, bytes) in objects {
                if running == Self.parallelRequests { try await group.next(); running -= 1 }
                group.addTask { try await store.put(key: key, bytes: bytes, contentType: "application/json") }
                running += 1
            }
            try await group.waitForAll()
        }
    }

    /// Reads shard objects, several at a time.
    private func readShards(_ keys: [String]) async throws -> [(String, [String: Checkpoint.TableState])] {
        let store = self.store
        return try await withThrowingTaskGroup(of: (String, [String: Checkpoint.TableState]).self) { group in
            var out: [(String, [String: Checkpoint.TableState])] = []
            var running = 0
            for key in keys {
                if running == Self.parallelRequests, let done = try await group.next() { out.append(done); running -= 1 }
                group.addTask {
                    do {
                        return (key, try CheckpointLayout.Shard.decode(try await store.get(key: key), key: key).tables)
                    } catch let error as ObjectStoreError where error.code == .notFound {
                        throw EngineError(.stateCorrupt, "\(key), named by \(Checkpoint.key), is missing", underlying: error, context: .init(key: key))
                    }
                }
                running += 1
            }
            for try await done in group { out.append(done) }
            return out
        }
    }

    /// Shard requests in flight at once.
    static let parallelRequests = 16
}
