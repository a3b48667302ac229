import ObjectStore
import Replication

/// A Parquet sink that streams the file into an object-store upload from a blocking reader thread:
/// bytes are gathered into chunks of `chunkSize` and handed to the upload, which sends parts (a
/// multipart upload on S3). Nothing is visible in the store until ``complete()``; ``abort()``
/// leaves nothing behind.
final class UploadSink: ParquetSink {
    private let upload: any ObjectUpload
    private let chunkSize: Int
    private var buffer: [UInt8] = []
    /// Bytes accepted so far.
    private(set) var bytesWritten: Int64 = 0

    init(upload: any ObjectUpload, chunkSize: Int) {
        self.upload = upload
        self.chunkSize = chunkSize
        buffer.reserveCapacity(chunkSize)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        bytesWritten += Int64(bytes.count)
        var rest = bytes[...]
        while !rest.isEmpty {
            let take = min(chunkSize - buffer.count, rest.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest.prefix(take)))
            rest = rest.dropFirst(take)
            if buffer.count == chunkSize { try flush() }
        }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        do {
            let chunk = buffer
            let upload = self.upload
            try BlockingCall.wait { try await upload.write(chunk) }
        }
        // The upload copied or wrote the chunk and let it go: the buffer is ours alone again, so it
        // is emptied in place instead of a new one being allocated for every chunk.
        buffer.removeAll(keepingCapacity: true)
    }

    /// Sends the rest and makes the object visible.
    func complete() throws -> StoredObject {
        try flush()
        let upload = self.upload
        return try BlockingCall.wait { try await upload.complete() }
    }

    /// ``complete()`` for an async caller (a small table's upload completed in the background:
    /// see SmallTableUploads); the sink's buffer is let go first.
    func completeInBackground() async throws -> StoredObject {
        if !buffer.isEmpty {
            let chunk = buffer
            buffer = []
            try await upload.write(chunk)
        } else {
            buffer = []
        }
        return try await upload.complete()
    }

    /// ``abort()`` for an async caller.
    func abortInBackground() async {
        buffer = []
        await upload.abort()
    }

    /// Drops the upload (no part stays billed, nothing becomes visible).
    func abort() {
        let upload = self.upload
        _ = try? BlockingCall.wait { await upload.abort() }
    }
}
