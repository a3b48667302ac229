import Replication
import Foundation
import Logging
import ObjectStore
import Testing
@testable import Daemon

/// A directory store whose puts give way to other tasks first, as a network store's do.
private struct YieldingStore: ObjectStore {
    let inner: LocalDirectoryStore
    func makeUpload(key: String, contentType: String?) async throws -> any ObjectUpload { try await inner.makeUpload(key: key, contentType: contentType) }
    func put(key: String, bytes: [UInt8], contentType: String?) async throws -> StoredObject {
        try await Task.sleep(for: .milliseconds(Int.random(in: 1...5)))
        return try await inner.put(key: key, bytes: bytes, contentType: contentType)
    }
    func get(key: String) async throws -> [UInt8] { try await inner.get(key: key) }
    func head(key: String) async throws -> ObjectInfo? { try await inner.head(key: key) }
    func list(prefix: String) async throws -> [ObjectInfo] { try await inner.list(prefix: prefix) }
    func delete(key: String) async throws { try await inner.delete(key: key) }
    func listOpenMultipartUploads(prefix: String) async throws -> [OpenMultipartUpload] { try await inner.listOpenMultipartUploads(prefix: prefix) }
    func abortMultipartUpload(_ upload: OpenMultipartUpload) async throws { try await inner.abortMultipartUpload(upload) }
}

@Suite struct CheckpointStoreTests {
    @Test func concurrentUpdatesLoseNoChange() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("statekeeper-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = YieldingStore(inner: try LocalDirectoryStore(root: dir, logger: Logger(label: "test")))
        let keeper = CheckpointStore(store: store, logger: Logger(label: "test"))
        try await keeper.save(Checkpoint(slot: "s", publication: "p", systemID: nil, phase: .fullLoad, confirmedLSN: LSN(0x0)))
        // Parallel table loads each record their table when done.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<24 {
                group.addTask {
                    try await keeper.update { $0.tables["public.t\(i)"] = .init(status: .replicating, oid: UInt32(i), cdcStartLSN: LSN(0x0)) }
                }
            }
            try await group.waitForAll()
        }
        #expect(await keeper.state?.tables.count == 24)
        let stored = try await CheckpointStore(store: store, logger: Logger(label: "test")).load()
        #expect(stored?.tables.count == 24)
    }
}
