import Foundation
import Logging
import Synchronization
import Testing
import AWSRequests
@testable import ObjectStore

/// Helpers for the tests against moto_server (endpoint and IAM key from `scripts/test`).
enum S3TestSupport {
    static var enabled: Bool { TestEnvironment.available("REPLICATORD_TEST_S3_ENDPOINT") }

    /// A bucket name of its own for each test.
    static func bucketName(_ test: String) -> String {
        "t-" + test.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }

    static func credentials() -> AWSCredentials {
        let env = ProcessInfo.processInfo.environment
        return AWSCredentials(accessKeyId: env["AWS_ACCESS_KEY_ID"] ?? "", secretAccessKey: env["AWS_SECRET_ACCESS_KEY"] ?? "")
    }

    /// A client for a fresh bucket (created) on moto, path-style.
    static func client(
        test: String, endpoint: String? = nil, credentials: AWSCredentials? = nil, partSize: Int = 5 * 1024 * 1024,
        parallelism: Int = 4, retry: RetryPolicy = RetryPolicy(), logger: Logger = Logger(label: "s3-test"),
        create: Bool = true
    ) async throws -> S3Client {
        let endpoint = try endpoint ?? TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let config = S3Configuration(
            bucket: bucketName(test), region: ProcessInfo.processInfo.environment["AWS_REGION"] ?? "us-east-1",
            endpoint: endpoint, pathStyle: true, partSize: partSize, parallelism: parallelism, retry: retry,
            narrowListPrefixes: true)
        let client = try S3Client(
            configuration: config, credentials: StaticCredentialsProvider(credentials ?? Self.credentials()),
            logger: logger)
        if create { try await client.createBucket() }
        return client
    }

    /// Deterministic pseudo-random bytes.
    static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var x = seed | 1
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            let words = raw.count / 8
            let p = raw.baseAddress!
            for i in 0..<words {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17
                p.storeBytes(of: x, toByteOffset: i * 8, as: UInt64.self)
            }
            for i in (words * 8)..<raw.count { raw[i] = UInt8(truncatingIfNeeded: i) }
        }
        return out
    }

    /// The multipart ETag S3 computes: MD5 of the parts' MD5s, dash, part count.
    static func multipartETag(_ data: [UInt8], partSize: Int) -> String {
        var md5s: [UInt8] = []
        var n = 0
        var i = 0
        while i < data.count {
            let end = min(i + partSize, data.count)
            md5s += data[i..<end].withUnsafeBytes { Digest.md5($0) }
            n += 1
            i = end
        }
        return Digest.hex(Digest.md5(md5s)) + "-\(n)"
    }
}

/// A log handler that keeps records, to check what was logged and at which level.
struct RecordingLogHandler: LogHandler {
    struct Record: Sendable { var level: Logger.Level; var message: String; var metadata: [String: String] }
    let box: RecordingBox
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let md = (event.metadata ?? [:]).mapValues { "\($0)" }
        box.records.withLock { $0.append(Record(level: event.level, message: "\(event.message)", metadata: md)) }
    }

    /// A debug-level logger whose records land in the returned box.
    static func logger() -> (Logger, RecordingBox) {
        let box = RecordingBox()
        let logger = Logger(label: "recording") { _ in RecordingLogHandler(box: box) }
        return (logger, box)
    }
}

/// Shared storage of `RecordingLogHandler` records.
final class RecordingBox: Sendable {
    let records = Mutex<[RecordingLogHandler.Record]>([])
    var all: [RecordingLogHandler.Record] { records.withLock { $0 } }
}
