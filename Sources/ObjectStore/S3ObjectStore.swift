import AWSRequests
import Logging

/// An `ObjectStore` in one S3 bucket under a key prefix.
public struct S3ObjectStore: ObjectStore {
    /// The client for the bucket.
    public let client: S3Client
    /// Prepended to every key (empty, or ending with `/`).
    public let prefix: String
    let logger: Logger

    /// A store over `client` whose keys live under `prefix` (a `/` is added when missing).
    public init(client: S3Client, prefix: String, logger: Logger) {
        var p = prefix
        while p.hasPrefix("/") { p.removeFirst() }
        if !p.isEmpty && !p.hasSuffix("/") { p += "/" }
        self.client = client
        self.prefix = p
        self.logger = logger
    }

    func fullKey(_ key: String) -> String { prefix + key }

    func relativeKey(_ full: String) -> String {
        full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : full
    }

    public func makeUpload(key: String, contentType: String?) async throws -> any ObjectUpload {
        S3MultipartUpload(client: client, key: key, fullKey: fullKey(key), contentType: contentType, logger: logger)
    }

    @discardableResult
    public func put(key: String, bytes: [UInt8], contentType: String?) async throws -> StoredObject {
        var stored = try await client.putObject(key: fullKey(key), bytes: bytes, contentType: contentType)
        stored.key = key
        return stored
    }

    public func get(key: String) async throws -> [UInt8] {
        try await client.getObject(key: fullKey(key))
    }

    public func head(key: String) async throws -> ObjectInfo? {
        guard var info = try await client.headObject(key: fullKey(key)) else { return nil }
        info.key = key
        return info
    }

    public func list(prefix: String) async throws -> [ObjectInfo] {
        try await client.listAllObjects(prefix: fullKey(prefix)).map {
            var info = $0
            info.key = relativeKey($0.key)
            return info
        }
    }

    public func delete(key: String) async throws {
        try await client.deleteObject(key: fullKey(key))
    }

    public func listOpenMultipartUploads(prefix: String) async throws -> [OpenMultipartUpload] {
        try await client.listMultipartUploads(prefix: fullKey(prefix)).map {
            var u = $0
            u.key = relativeKey($0.key)
            return u
        }
    }

    public func abortMultipartUpload(_ upload: OpenMultipartUpload) async throws {
        try await client.abortMultipartUpload(key: fullKey(upload.key), uploadId: upload.uploadId)
    }
}

/// A streaming upload to S3: bytes are cut into parts of `partSize`; at most `parallelism` parts are in
/// flight, so memory stays within part size x (parallelism + 1). An object smaller than one part goes in
/// one PutObject. A failure aborts the multipart upload.
actor S3MultipartUpload: ObjectUpload {
    nonisolated let key: String
    let fullKey: String
    let client: S3Client
    let contentType: String?
    let logger: Logger
    let partSize: Int
    var machine: MultipartUploadStateMachine
    var buffer: [UInt8] = []
    var uploadId: String?
    var tasks: [Int: Task<S3Client.CompletedPart, any Error>] = [:]
    /// The buffers of parts in flight (shared with their tasks, not copied) and spare ones to reuse:
    /// at most parallelism + 1 buffers are ever allocated, so memory stays flat however long the object.
    var inFlightBuffers: [Int: [UInt8]] = [:]
    var spareBuffers: [[UInt8]] = []
    var completedParts: [Int: S3Client.CompletedPart] = [:]
    var size = 0
    var failure: (any Error & Sendable)?

    init(client: S3Client, key: String, fullKey: String, contentType: String?, logger: Logger) {
        self.client = client
        self.key = key
        self.fullKey = fullKey
        self.contentType = contentType
        self.logger = logger
        partSize = client.configuration.partSize
        machine = MultipartUploadStateMachine(parallelism: client.configuration.parallelism)
    }

    func write(_ bytes: [UInt8]) async throws {
        try checkWritable()
        var offset = 0
        while offset < bytes.count {
            if buffer.capacity < partSize { buffer.reserveCapacity(partSize) }
            let take = min(partSize - buffer.count, bytes.count - offset)
            buffer.append(contentsOf: bytes[offset..<(offset + take)])
            offset += take
            size += take
            if buffer.count == partSize {
                try await run { try await self.sendBufferedPart() }
            }
        }
    }

    func complete() async throws -> StoredObject {
        try checkWritable()
        return try await run {
            while true {
                switch self.machine.finish(remainingBytes: self.buffer.count) {
                case .putObject:
                    let stored = try await self.client.putObject(key: self.fullKey, bytes: self.buffer, contentType: self.contentType)
                    self.buffer = []
                    self.machine.completed()
                    return StoredObject(key: self.key, etag: stored.etag, size: self.size)
                case .uploadPart(let number):
                    self.startPart(number)
                case .waitForPart:
                    try await self.awaitOnePart()
                case .complete(let uploadId, let parts):
                    let list = parts.map { self.completedParts[$0]! }
                    let etag = try await self.client.completeMultipartUpload(key: self.fullKey, uploadId: uploadId, parts: list)
                    try self.checkFinalETag(etag, parts: parts)
                    self.machine.completed()
                    self.logger.debug(
                        "multipart upload completed",
                        metadata: [
                            "s3.key": "\(self.fullKey)", "s3.upload_id": "\(uploadId)", "s3.parts": "\(parts.count)",
                            "object.size": "\(self.size)",
                        ])
                    return StoredObject(key: self.key, etag: etag, size: self.size)
                default:
                    preconditionFailure("finish never asks to create or abort")
                }
            }
        }
    }

    func abort() async {
        await abortNow()
    }

    deinit {
        if case .open(let id) = machine.state {
            logger.warning(
                "multipart upload dropped without complete or abort; its parts stay until listOpenMultipartUploads finds it",
                metadata: ["s3.key": "\(fullKey)", "s3.upload_id": "\(id)"])
        }
    }

    // MARK: -

    private func checkWritable() throws {
        if let failure { throw ObjectStoreError(.uploadClosed, "upload failed earlier", key: fullKey, underlying: failure) }
        guard machine.isWritable else { throw ObjectStoreError(.uploadClosed, "upload already completed or aborted", key: fullKey) }
    }

    /// Runs `body`; on failure aborts the upload and rethrows.
    private func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            failure = error
            await abortNow()
            throw error
        }
    }

    private func sendBufferedPart() async throws {
        while true {
            switch machine.partBuffered() {
            case .createUpload:
                let id = try await client.createMultipartUpload(key: fullKey, contentType: contentType)
                uploadId = id
                machine.uploadCreated(uploadId: id)
                logger.debug("multipart upload created", metadata: ["s3.key": "\(fullKey)", "s3.upload_id": "\(id)"])
            case .uploadPart(let number):
                startPart(number)
                return
            case .waitForPart:
                try await awaitOnePart()
            default:
                preconditionFailure("partBuffered only creates, uploads or waits")
            }
        }
    }

    private func startPart(_ number: Int) {
        let bytes = buffer
        inFlightBuffers[number] = bytes
        buffer = spareBuffers.popLast() ?? []
        buffer.reserveCapacity(partSize)
        let client = self.client, key = fullKey, id = uploadId!
        tasks[number] = Task.detached {
            try await client.uploadPart(key: key, uploadId: id, partNumber: number, bytes: bytes)
        }
    }

    private func awaitOnePart() async throws {
        let part = try await nextPartResult()
        let n = part.number
        if var spare = inFlightBuffers.removeValue(forKey: n) {
            spare.removeAll(keepingCapacity: true)  // the task is done, so this is the only reference: no copy
            spareBuffers.append(spare)
        }
        completedParts[n] = part
        machine.partUploaded(number: n)
    }

    /// Waits for the lowest-numbered part in flight; its task is released when this returns.
    private func nextPartResult() async throws -> S3Client.CompletedPart {
        guard let number = tasks.keys.min(), let task = tasks.removeValue(forKey: number) else {
            preconditionFailure("waitForPart with no part in flight")
        }
        return try await task.value
    }

    /// The object's ETag must be the one its parts make (part ETags were checked against our MD5s when
    /// `checksum` includes MD5; otherwise this checks Complete's answer against UploadPart's).
    private func checkFinalETag(_ etag: String, parts: [Int]) throws {
        guard client.configuration.verifyETags else { return }
        if case .kms = client.configuration.serverSideEncryption { return }
        guard let expected = S3Client.multipartETag(parts: parts.map { completedParts[$0]! }) else { return }
        guard etag == expected else {
            throw ObjectStoreError(
                .integrity, "multipart ETag \(etag) differs from the expected \(expected)",
                bucket: client.configuration.bucket, key: fullKey, operation: "CompleteMultipartUpload")
        }
    }

    private func abortNow() async {
        for task in tasks.values { task.cancel() }
        for task in tasks.values { _ = try? await task.value }
        tasks = [:]
        buffer = []
        inFlightBuffers = [:]
        spareBuffers = []
        if case .abort(let id) = machine.fail() {
            let client = self.client, key = fullKey
            do {
                // Detached so that it still goes out when the failure is the caller's task being cancelled.
                try await Task.detached { try await client.abortMultipartUpload(key: key, uploadId: id) }.value
                logger.debug("multipart upload aborted", metadata: ["s3.key": "\(fullKey)", "s3.upload_id": "\(id)"])
            } catch {
                logger.warning(
                    "cannot abort multipart upload; it stays listed until cleaned up",
                    metadata: [
                        "s3.key": "\(fullKey)", "s3.upload_id": "\(id)", "error": "\(error)",
                    ])
            }
        }
    }
}
