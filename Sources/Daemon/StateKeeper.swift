import Logging
import ObjectStore

/// Owns the checkpoint: reads it from the store and writes each change atomically (a small
/// PutObject on S3, write-fsync-rename on a directory), one writer at a time.
public actor StateKeeper {
    private let store: any ObjectStore
    private let logger: Logger
    /// The last state stored; nil before the first run.
    public private(set) var state: ReplicationState?
    /// Whether an ``update(_:)`` is between reading the state and storing it; later ones wait here.
    private var updating = false
    private var waitingUpdates: [CheckedContinuation<Void, Never>] = []

    public init(store: any ObjectStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Reads the stored state (nil when none was stored yet).
    @discardableResult
    public func load() async throws -> ReplicationState? {
        do {
            state = try ReplicationState.decode(try await store.get(key: ReplicationState.key))
        } catch let error as ObjectStoreError where error.code == .notFound {
            state = nil
        }
        return state
    }

    /// Applies `change` to the state and stores it; returns the stored state. Updates run one after
    /// another: an actor method gives way at its `await`, and two updates that both started from the
    /// same state would each store it without the other's change (parallel table loads did).
    @discardableResult
    public func update(_ change: (inout ReplicationState) throws -> Void) async throws -> ReplicationState {
        if updating { await withCheckedContinuation { waitingUpdates.append($0) } }
        updating = true
        defer { if waitingUpdates.isEmpty { updating = false } else { waitingUpdates.removeFirst().resume() } }
        guard var next = state else { preconditionFailure("StateKeeper.update before the state was created") }
        try change(&next)
        try await save(next)
        return next
    }

    /// Stores `next` as the whole state.
    public func save(_ next: ReplicationState) async throws {
        try await store.put(key: ReplicationState.key, bytes: try next.encoded(), contentType: "application/json")
        state = next
        logger.debug("checkpoint stored", metadata: ["lsn.confirmed": "\(next.confirmedLSN)", "phase": "\(next.phase.rawValue)"])
    }

    /// Removes the stored state (a full-load migration keeps none between cycles).
    public func remove() async throws {
        try await store.delete(key: ReplicationState.key)
        state = nil
    }
}
