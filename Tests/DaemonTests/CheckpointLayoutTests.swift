import Replication
import Foundation
import Logging
import ObjectStore
import Testing
@testable import Daemon

/// A directory store that counts what is asked of it: puts (and their bytes) by key prefix, lists.
final class CountingStore: ObjectStore, @unchecked Sendable {
    let inner: LocalDirectoryStore
    private let lock = NSLock()
    private var _puts: [(key: String, bytes: Int)] = []
    private var _lists: [String] = []
    private var _deletes = 0

    init(root: String) throws { inner = try LocalDirectoryStore(root: root, logger: Logger(label: "test")) }

    private func locked<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }
    var puts: [(key: String, bytes: Int)] { locked { _puts } }
    var lists: [String] { locked { _lists } }
    var deletes: Int { locked { _deletes } }
    /// Puts of checkpoint objects (head and shards) and their bytes.
    var checkpointPuts: Int { puts.filter { $0.key.hasPrefix("_replicatord/") }.count }
    var checkpointBytes: Int { puts.filter { $0.key.hasPrefix("_replicatord/") }.reduce(0) { $0 + $1.bytes } }
    func reset() {
        locked {
            _puts = []; _lists = []; _deletes = 0
        }
    }

    func makeUpload(key: String, contentType: String?) async throws -> any ObjectUpload { try await inner.makeUpload(key: key, contentType: contentType) }
    func put(key: String, bytes: [UInt8], contentType: String?) async throws -> StoredObject {
        locked { _puts.append((key, bytes.count)) }
        return try await inner.put(key: key, bytes: bytes, contentType: contentType)
    }
    func get(key: String) async throws -> [UInt8] { try await inner.get(key: key) }
    func head(key: String) async throws -> ObjectInfo? { try await inner.head(key: key) }
    func list(prefix: String) async throws -> [ObjectInfo] {
        locked { _lists.append(prefix) }
        return try await inner.list(prefix: prefix)
    }
    func delete(key: String) async throws {
        locked { _deletes += 1 }
        try await inner.delete(key: key)
    }
    func listOpenMultipartUploads(prefix: String) async throws -> [OpenMultipartUpload] { try await inner.listOpenMultipartUploads(prefix: prefix) }
    func abortMultipartUpload(_ upload: OpenMultipartUpload) async throws { try await inner.abortMultipartUpload(upload) }
}

@Suite struct CheckpointLayoutTests {
    static func tables(_ n: Int) -> [String: Checkpoint.TableState] {
        var out: [String: Checkpoint.TableState] = [:]
        for i in 0..<n { out["public.t\(i)"] = .init(status: .loading, oid: UInt32(i), cdcStartLSN: LSN(0x10)) }
        return out
    }

    @Test func theFirstSaveWritesBaseShardsOfAllTables() {
        let plan = CheckpointLayout.plan(next: Self.tables(300), stored: [:], refs: nil, generation: 1) { _ in nil }
        #expect(plan.refs.count == 3 && plan.refs.allSatisfy { !$0.delta })
        #expect(plan.refs.map(\.tables) == [128, 128, 44])
        #expect(Set(plan.writes.flatMap { $0.tables.keys }).count == 300)
    }

    @Test func anUnchangedStateWritesNoShardAndAChangeWritesADeltaOfItAlone() {
        let all = Self.tables(300)
        let first = CheckpointLayout.plan(next: all, stored: [:], refs: nil, generation: 1) { _ in nil }
        let idle = CheckpointLayout.plan(next: all, stored: all, refs: first.refs, generation: 2) { _ in nil }
        #expect(idle.writes.isEmpty && idle.refs == first.refs)
        var next = all
        next["public.t7"]?.status = .replicating
        next["public.t8"]?.inserts = 3
        let one = CheckpointLayout.plan(next: next, stored: all, refs: first.refs, generation: 2) { _ in nil }
        #expect(one.writes.count == 1 && one.writes[0].tables.keys.sorted() == ["public.t7", "public.t8"])
        #expect(one.refs.count == 4 && one.refs.last?.delta == true && one.refs.last?.tables == 2)
    }

    @Test func deltasPastTheTableCountBecomeNewBaseShards() {
        let all = Self.tables(300)
        var refs = CheckpointLayout.plan(next: all, stored: [:], refs: nil, generation: 1) { _ in nil }.refs
        var stored = all
        var written = 0
        // 300 tables changed 10 at a time: deltas until they would hold more than 300 entries.
        for round in 0..<40 {
            var next = stored
            for i in 0..<10 { next["public.t\((round * 10 + i) % 300)"]?.inserts += 1 }
            let plan = CheckpointLayout.plan(next: next, stored: stored, refs: refs, generation: round + 2) { _ in nil }
            written += plan.writes.reduce(0) { $0 + $1.tables.count }
            refs = plan.refs
            stored = next
            #expect(refs.filter(\.delta).reduce(0) { $0 + $1.tables } <= 300)
        }
        // 400 changes: written as deltas (400) plus one compaction (300), not 40 x 300.
        #expect(written <= 400 + 300, "\(written)")
    }

    @Test func manyDeltasAreMergedIntoOne() {
        let all = Self.tables(10_000)
        var refs = CheckpointLayout.plan(next: all, stored: [:], refs: nil, generation: 1) { _ in nil }.refs
        var stored = all
        var contents: [String: [String]] = [:]
        for round in 0..<(CheckpointLayout.maxDeltas + 1) {
            var next = stored
            next["public.t\(round)"]?.inserts += 1
            let plan = CheckpointLayout.plan(next: next, stored: stored, refs: refs, generation: round + 2) { contents[$0] }
            for write in plan.writes { contents[write.key] = Array(write.tables.keys) }
            refs = plan.refs
            stored = next
        }
        let deltas = refs.filter(\.delta)
        #expect(deltas.count == 1 && deltas[0].tables == CheckpointLayout.maxDeltas + 1)
    }

    @Test func aRemovedTableWritesNewBaseShards() {
        let all = Self.tables(300)
        let first = CheckpointLayout.plan(next: all, stored: [:], refs: nil, generation: 1) { _ in nil }
        var next = all
        next["public.t5"] = nil
        let plan = CheckpointLayout.plan(next: next, stored: all, refs: first.refs, generation: 2) { _ in nil }
        #expect(plan.refs.allSatisfy { !$0.delta } && plan.writes.reduce(0) { $0 + $1.tables.count } == 299)
    }
}

@Suite struct ShardedCheckpointStoreTests {
    func withStore(_ body: (CountingStore) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keeper-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(try CountingStore(root: dir))
    }

    static func state(_ n: Int) -> Checkpoint {
        Checkpoint(slot: "s", publication: "p", systemID: "1", phase: .fullLoad, confirmedLSN: LSN(0x10), tables: CheckpointLayoutTests.tables(n))
    }

    @Test func aSavedStateReadsBackEqualInANewKeeper() async throws {
        try await withStore { store in
            let keeper = CheckpointStore(store: store, logger: Logger(label: "test"))
            try await keeper.save(Self.state(1000))
            try await keeper.update {
                $0.tables["public.t3"]?.status = .replicating; $0.confirmedLSN = LSN(0x20)
            }
            let expected = await keeper.state
            let read = try await CheckpointStore(store: store, logger: Logger(label: "test")).load()
            #expect(read == expected)
            #expect(read?.tables["public.t3"]?.status == .replicating)
        }
    }

    @Test func anUpdateThatChangesNoTableWritesTheHeadAlone() async throws {
        try await withStore { store in
            let keeper = CheckpointStore(store: store, logger: Logger(label: "test"))
            try await keeper.save(Self.state(2000))
            store.reset()
            try await keeper.update { $0.confirmedLSN = LSN(0x99) }
            #expect(store.puts.map(\.key) == [Checkpoint.key])
            #expect(store.puts[0].bytes < 4_000)
            // One changed table: the head and a delta of one entry.
            store.reset()
            try await keeper.update { $0.tables["public.t1"]?.inserts = 5 }
            #expect(store.puts.count == 2 && store.checkpointBytes < 6_000)
            // A reload (as each cycle does) reads the head and nothing it already holds.
            let reloaded = try await keeper.load()
            #expect(reloaded?.tables["public.t1"]?.inserts == 5 && reloaded?.confirmedLSN == LSN(0x99))
        }
    }

    @Test func deferredUpdatesAreStoredInBatchesProportionalToTheTables() async throws {
        try await withStore { store in
            let n = 1600
            let keeper = CheckpointStore(store: store, logger: Logger(label: "test"))
            try await keeper.save(Self.state(n))
            store.reset()
            for i in 0..<n { try await keeper.deferUpdate { $0.tables["public.t\(i)"]?.status = .replicating } }
            try await keeper.flushDeferred()
            let heads = store.puts.filter { $0.key == Checkpoint.key }.count
            // One write per 1/16 of the tables (100), not one per table.
            #expect(heads >= 16 && heads <= 17, "\(heads)")
            // Each entry is written about twice at most (its delta, one compaction), not once per write.
            let full = try CheckpointLayout.Shard(tables: CheckpointLayoutTests.tables(n)).encoded().count
            #expect(store.checkpointBytes < 4 * full, "\(store.checkpointBytes) bytes for a state of \(full)")
            let read = try await CheckpointStore(store: store, logger: Logger(label: "test")).load()
            #expect(read?.tables.values.allSatisfy { $0.status == .replicating } == true)
        }
    }

    @Test func aVersion1CheckpointIsReadAndRewrittenInShards() async throws {
        try await withStore { store in
            let old = Self.state(300)
            try await store.put(key: Checkpoint.key, bytes: try old.encoded())
            let keeper = CheckpointStore(store: store, logger: Logger(label: "test"))
            #expect(try await keeper.load() == old)
            try await keeper.update { $0.confirmedLSN = LSN(0x30) }
            let head = try CheckpointLayout.Head.decode(try await store.get(key: Checkpoint.key))
            #expect(head.state.tables.isEmpty && head.tableShards?.count == 3)
            let read = try await CheckpointStore(store: store, logger: Logger(label: "test")).load()
            #expect(read?.tables == old.tables && read?.confirmedLSN == LSN(0x30))
        }
    }

    @Test func shardsNoHeadNamesAreRemovedByTheNextWriter() async throws {
        try await withStore { store in
            let keeper = CheckpointStore(store: store, logger: Logger(label: "test"))
            try await keeper.save(Self.state(300))
            // A writer that died between its shards and its head.
            try await store.put(key: CheckpointLayout.shardKey(generation: 99, index: 0), bytes: Array("{\"tables\":{}}".utf8))
            let next = CheckpointStore(store: store, logger: Logger(label: "test"))
            _ = try await next.load()
            try await next.update { $0.tables["public.t1"]?.inserts = 1 }
            let left = try await store.list(prefix: CheckpointLayout.shardFolder).map(\.key)
            let head = try CheckpointLayout.Head.decode(try await store.get(key: Checkpoint.key))
            #expect(Set(left) == Set(head.tableShards!.map(\.key)))
        }
    }
}
