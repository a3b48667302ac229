import Foundation
import Logging
import Testing
import AWSRequests
@testable import ObjectStore

/// Uploads through scripts/s3_fault_proxy.py, which answers 503 SlowDown to a share of requests, resets
/// connections half-way through bodies and adds latency: the bytes must still arrive whole, and the
/// retries must show in the debug log.
@Suite(.enabled(if: S3TestSupport.enabled)) struct S3FaultInjectionTests {
    /// A running proxy; closing its stdin stops it.
    final class FaultProxy {
        let process = Process()
        let stdin = Pipe()
        let stderr = Pipe()
        let endpoint: String

        init(upstream: String, arguments: [String]) throws {
            let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
            let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/s3_fault_proxy.py").path
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script, upstream, "--lifetime", "300"] + arguments
            let stdout = Pipe()
            process.standardOutput = stdout
            process.standardInput = stdin
            process.standardError = stderr
            try process.run()
            var line = [UInt8]()
            while true {
                let byte = stdout.fileHandleForReading.readData(ofLength: 1)
                guard let b = byte.first else { throw TestEnvironment.MissingVariable(name: "fault proxy did not start") }
                if b == UInt8(ascii: "\n") { break }
                line.append(b)
            }
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("PORT ") else { throw TestEnvironment.MissingVariable(name: "fault proxy said \(text)") }
            endpoint = "http://127.0.0.1:" + text.dropFirst(5)
        }

        /// Stops the proxy (once) and returns what it printed on stderr (its counts).
        @discardableResult
        func stop() -> String {
            try? stdin.fileHandleForWriting.close()
            let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return text
        }
    }

    @Test func uploadsCompleteThroughSlowDownsResetsAndLatency() async throws {
        let upstream = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let direct = try await S3TestSupport.client(test: #function)
        let proxy = try FaultProxy(
            upstream: upstream,
            arguments: [
                "--slowdown", "0.2", "--reset", "0.3", "--latency", "0.3", "--max-latency-ms", "150", "--seed", "7",
            ])
        defer { proxy.stop() }
        let (logger, records) = RecordingLogHandler.logger()
        let retry = RetryPolicy(maxAttempts: 25, baseDelay: .milliseconds(20), maxDelay: .milliseconds(500), totalDeadline: .seconds(120))
        let faulty = try S3Client(
            configuration: {
                var c = direct.configuration
                c.endpoint = proxy.endpoint
                c.retry = retry
                c.parallelism = 3
                return c
            }(), credentials: StaticCredentialsProvider(S3TestSupport.credentials()), logger: logger)
        let store = S3ObjectStore(client: faulty, prefix: "faults", logger: logger)

        let data = S3TestSupport.bytes(count: 26 * 1024 * 1024 + 999, seed: 9)
        let upload = try await store.makeUpload(key: "big.parquet")
        var i = 0
        while i < data.count {
            let n = min(3_000_000, data.count - i)
            try await upload.write(Array(data[i..<(i + n)]))
            i += n
        }
        let stored = try await upload.complete()
        #expect(stored.etag == S3TestSupport.multipartETag(data, partSize: direct.configuration.partSize))
        for k in 0..<20 {
            try await store.put(key: "state/\(k).json", bytes: Array("{\"k\":\(k)}".utf8))
        }
        #expect(try await store.get(key: "state/3.json") == Array("{\"k\":3}".utf8))
        #expect(try await store.list(prefix: "state").count == 20)

        // Checked without the proxy.
        #expect(try await direct.getObject(key: "faults/big.parquet") == data)
        #expect(try await direct.listMultipartUploads(prefix: "").isEmpty)

        let retries = records.all.filter { $0.level == .debug && $0.message == "S3 request failed, retrying" }
        #expect(retries.count >= 3, "the proxy should have forced retries")
        #expect(retries.contains { $0.metadata["s3.error"] == "SlowDown" })
        #expect(retries.contains { $0.metadata["s3.error"] == "transport" })
        #expect(records.all.contains { $0.message == "S3 request succeeded after retries" && Int($0.metadata["s3.retries"] ?? "0")! > 0 })
        #expect(!records.all.contains { $0.level > .debug })
    }

    @Test func cancellingTheTaskStopsATransferInFlight() async throws {
        let upstream = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let direct = try await S3TestSupport.client(test: #function)
        let proxy = try FaultProxy(upstream: upstream, arguments: ["--latency", "1.0", "--max-latency-ms", "20000", "--seed", "3"])
        defer { proxy.stop() }
        var config = direct.configuration
        config.endpoint = proxy.endpoint
        let client = try S3Client(
            configuration: config, credentials: StaticCredentialsProvider(S3TestSupport.credentials()),
            logger: Logger(label: "test"))
        let started = ContinuousClock.now
        let task = Task { try await client.putObject(key: "slow", bytes: [1, 2, 3]) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - started < .seconds(18))  // the proxy holds it up to 20 s: returning before proves the cancel
    }

    @Test func cancellingAMultipartUploadAbortsIt() async throws {
        let upstream = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let direct = try await S3TestSupport.client(test: #function)
        let proxy = try FaultProxy(upstream: upstream, arguments: ["--latency", "1.0", "--max-latency-ms", "1500", "--seed", "5"])
        defer { proxy.stop() }
        var config = direct.configuration
        config.endpoint = proxy.endpoint
        config.parallelism = 2
        let store = S3ObjectStore(
            client: try S3Client(
                configuration: config, credentials: StaticCredentialsProvider(S3TestSupport.credentials()),
                logger: Logger(label: "test")), prefix: "", logger: Logger(label: "test"))
        let part = S3TestSupport.bytes(count: config.partSize, seed: 1)
        let task = Task {
            let upload = try await store.makeUpload(key: "cancelled")
            for _ in 0..<10 { try await upload.write(part) }
            return try await upload.complete()
        }
        // Wait until the upload exists, then cancel the writer.
        let deadline = ContinuousClock.now + .seconds(20)
        while try await direct.listMultipartUploads(prefix: "").isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        await #expect(throws: (any Error).self) { try await task.value }
        #expect(try await direct.listMultipartUploads(prefix: "").isEmpty)
        #expect(try await direct.headObject(key: "cancelled") == nil)
    }

    @Test func retriesStopAtTheDeadlineWithATypedError() async throws {
        let upstream = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let direct = try await S3TestSupport.client(test: #function)
        let proxy = try FaultProxy(upstream: upstream, arguments: ["--slowdown", "1.0"])
        defer { proxy.stop() }
        let client = try S3Client(
            configuration: {
                var c = direct.configuration
                c.endpoint = proxy.endpoint
                c.retry = RetryPolicy(maxAttempts: 100, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), totalDeadline: .seconds(4))
                return c
            }(), credentials: StaticCredentialsProvider(S3TestSupport.credentials()), logger: Logger(label: "test"))
        let started = ContinuousClock.now
        do {
            _ = try await client.putObject(key: "k", bytes: [1])
            Issue.record("expected the deadline to stop the retries")
        } catch let e as ObjectStoreError {
            #expect(e.code == .unavailable && e.s3Code == "SlowDown" && e.key == "k")
            #expect((e.attempts ?? 0) >= 2)  // how many fit in the deadline depends on the load of the machine
        }
        #expect(ContinuousClock.now - started < .seconds(15))
    }
}
