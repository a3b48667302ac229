/// Where replicatord's files go: S3 (or any S3-compatible store) or a local directory.
///
/// Keys are relative to the store's prefix (`s3://bucket/prefix` or `file:///dir`); a store applies it.
public protocol ObjectStore: Sendable {
    /// Starts a streaming upload of one object whose size is not known up front. Nothing is visible under
    /// `key` until `complete()` returns; `abort()` leaves nothing behind.
    func makeUpload(key: String, contentType: String?) async throws -> any ObjectUpload

    /// Stores a small object in one request. Atomic: a reader sees the old or the new object, never half.
    @discardableResult
    func put(key: String, bytes: [UInt8], contentType: String?) async throws -> StoredObject

    /// The whole object; throws `ObjectStoreError` with code `.notFound` when there is none.
    func get(key: String) async throws -> [UInt8]

    /// Size and ETag of the object, or nil when there is none.
    func head(key: String) async throws -> ObjectInfo?

    /// Every object whose key starts with `prefix` (all pages), sorted by key.
    func list(prefix: String) async throws -> [ObjectInfo]

    /// Deletes the object; deleting a missing object is not an error.
    func delete(key: String) async throws

    /// Uploads begun under `prefix` and never completed or aborted (orphans after a crash).
    func listOpenMultipartUploads(prefix: String) async throws -> [OpenMultipartUpload]

    /// Aborts an orphaned upload so its parts stop being stored (and billed).
    func abortMultipartUpload(_ upload: OpenMultipartUpload) async throws
}

extension ObjectStore {
    /// `makeUpload` without a content type.
    public func makeUpload(key: String) async throws -> any ObjectUpload {
        try await makeUpload(key: key, contentType: nil)
    }

    /// `put` without a content type.
    @discardableResult
    public func put(key: String, bytes: [UInt8]) async throws -> StoredObject {
        try await put(key: key, bytes: bytes, contentType: nil)
    }
}

/// One object being written in chunks; memory stays bounded whatever the object's size.
///
/// Calls must not overlap: `write` chunks in order, then exactly one `complete()` or `abort()`.
public protocol ObjectUpload: AnyObject, Sendable {
    /// The key the object will have (relative to the store's prefix).
    var key: String { get }
    /// Appends bytes; may wait while earlier parts are still being sent (back-pressure).
    func write(_ bytes: [UInt8]) async throws
    /// Makes the object visible under its key and returns what was stored. On failure the upload is aborted.
    func complete() async throws -> StoredObject
    /// Drops everything written so far; never throws (failures are logged).
    func abort() async
}

/// What `complete()` or `put` stored.
public struct StoredObject: Sendable, Equatable {
    /// The key, relative to the store's prefix.
    public var key: String
    /// The ETag without quotes: the MD5 hex for single-request objects, `md5-of-md5s-N` for multipart ones.
    public var etag: String
    /// Size in bytes.
    public var size: Int

    /// A stored object.
    public init(key: String, etag: String, size: Int) {
        self.key = key
        self.etag = etag
        self.size = size
    }
}

/// An object as listed or headed.
public struct ObjectInfo: Sendable, Equatable {
    /// The key, relative to the store's prefix.
    public var key: String
    /// Size in bytes.
    public var size: Int
    /// The ETag without quotes (empty from the local store, which does not read files to list them).
    public var etag: String
    /// Last modification, as the store reports it (ISO 8601 for S3 listings, HTTP date for HEAD), if any.
    public var lastModified: String?

    /// An object description.
    public init(key: String, size: Int, etag: String, lastModified: String? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// A multipart upload that was started and neither completed nor aborted.
public struct OpenMultipartUpload: Sendable, Equatable {
    /// The key, relative to the store's prefix.
    public var key: String
    /// The store's id for it (S3 `UploadId`, or the temporary file name of the local store).
    public var uploadId: String
    /// When it was started, as the store reports it, if known.
    public var initiated: String?

    /// An open upload.
    public init(key: String, uploadId: String, initiated: String? = nil) {
        self.key = key
        self.uploadId = uploadId
        self.initiated = initiated
    }
}
