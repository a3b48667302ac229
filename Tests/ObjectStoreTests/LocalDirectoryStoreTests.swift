import Foundation
import Logging
import Testing
import AWSRequests
@testable import ObjectStore

@Suite struct LocalDirectoryStoreTests {
    let root: String
    let store: LocalDirectoryStore

    init() throws {
        root = NSTemporaryDirectory() + "objectstore-test-" + UUID().uuidString
        store = try LocalDirectoryStore(root: root, logger: Logger(label: "test"))
    }

    @Test func putGetHeadListDelete() async throws {
        let stored = try await store.put(key: "a/b/state.json", bytes: Array("{\"v\":1}".utf8))
        #expect(stored == StoredObject(key: "a/b/state.json", etag: Digest.hex(Digest.md5(Array("{\"v\":1}".utf8))), size: 7))
        #expect(try await store.get(key: "a/b/state.json") == Array("{\"v\":1}".utf8))
        try await store.put(key: "a/b/state.json", bytes: Array("{\"v\":2}".utf8))
        #expect(try await store.get(key: "a/b/state.json") == Array("{\"v\":2}".utf8))
        #expect(try await store.head(key: "a/b/state.json")?.size == 7)
        #expect(try await store.head(key: "a/b") == nil)  // a directory is not an object
        #expect(try await store.head(key: "missing") == nil)
        try await store.put(key: "a/c", bytes: [1])
        try await store.put(key: "z", bytes: [])
        #expect(try await store.list(prefix: "a/").map(\.key) == ["a/b/state.json", "a/c"])
        #expect(try await store.list(prefix: "").map(\.key) == ["a/b/state.json", "a/c", "z"])
        try await store.delete(key: "a/c")
        try await store.delete(key: "a/c")
        #expect(try await store.list(prefix: "a/").map(\.key) == ["a/b/state.json"])
    }

    @Test func getOfAMissingKeyIsNotFound() async throws {
        await #expect { try await store.get(key: "nope") } throws: { ($0 as? ObjectStoreError)?.code == .notFound }
    }

    @Test func keysThatEscapeTheRootAreRefused() async throws {
        for key in ["../x", "/abs", "a//b", "a/./b", ""] {
            await #expect { try await store.put(key: key, bytes: [1]) } throws: { ($0 as? ObjectStoreError)?.code == .invalidRequest }
        }
    }

    @Test func streamingUploadIsInvisibleUntilCompleteAndListedAsOpen() async throws {
        let upload = try await store.makeUpload(key: "t/data.parquet")
        try await upload.write([1, 2, 3])
        try await upload.write([4, 5])
        #expect(try await store.list(prefix: "").isEmpty)
        #expect(try await store.head(key: "t/data.parquet") == nil)
        let open = try await store.listOpenMultipartUploads(prefix: "t/")
        #expect(open.map(\.key) == ["t/data.parquet"])
        let stored = try await upload.complete()
        #expect(stored.size == 5)
        #expect(stored.etag == Digest.hex(Digest.md5([1, 2, 3, 4, 5])))
        #expect(try await store.get(key: "t/data.parquet") == [1, 2, 3, 4, 5])
        #expect(try await store.listOpenMultipartUploads(prefix: "").isEmpty)
    }

    @Test func abortedUploadLeavesNothing() async throws {
        let upload = try await store.makeUpload(key: "t/x")
        try await upload.write(Array(repeating: 7, count: 1000))
        await upload.abort()
        #expect(try await store.list(prefix: "").isEmpty)
        #expect(try await store.listOpenMultipartUploads(prefix: "").isEmpty)
        await #expect { try await upload.write([1]) } throws: { ($0 as? ObjectStoreError)?.code == .uploadClosed }
    }

    @Test func orphanedTemporaryFileIsListedAndAborted() async throws {
        // A crash between write and rename leaves a temporary file behind.
        let upload = try await store.makeUpload(key: "o/file")
        try await upload.write([1])
        let open = try await store.listOpenMultipartUploads(prefix: "o/")
        #expect(open.count == 1)
        try await store.abortMultipartUpload(open[0])
        #expect(try await store.listOpenMultipartUploads(prefix: "").isEmpty)
    }
}
