import Foundation
import Logging
import Testing
import AWSRequests
@testable import ObjectStore

/// HTTPS through scripts/s3_fault_proxy.py in TLS mode with a self-signed certificate: refused without
/// the CA (a typed, non-retried transport error), accepted with `caFile`.
@Suite(.enabled(if: S3TestSupport.enabled)) struct S3TLSTests {
    @Test func certificateIsCheckedAndTheCAFileIsHonoured() async throws {
        let upstream = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let dir = NSTemporaryDirectory() + "tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TestEnvironment.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem",
            ])
        let direct = try await S3TestSupport.client(test: #function)
        let proxy = try S3FaultInjectionTests.FaultProxy(
            upstream: upstream,
            arguments: [
                "--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem",
            ])
        defer { proxy.stop() }
        let https = proxy.endpoint.replacingOccurrences(of: "http://", with: "https://")
        var config = direct.configuration
        config.endpoint = https
        config.retry = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(10), maxDelay: .milliseconds(20), totalDeadline: .seconds(10))
        let creds = StaticCredentialsProvider(S3TestSupport.credentials())

        let untrusting = try S3Client(configuration: config, credentials: creds, logger: Logger(label: "test"))
        do {
            _ = try await untrusting.putObject(key: "k", bytes: [1])
            Issue.record("a self-signed certificate was accepted")
        } catch let e as ObjectStoreError {
            #expect(e.code == .transport)
            #expect(e.attempts == 1)
            #expect(e.message.lowercased().contains("certificate"))
        }

        config.caFile = dir + "/cert.pem"
        let trusting = try S3Client(configuration: config, credentials: creds, logger: Logger(label: "test"))
        _ = try await trusting.putObject(key: "k", bytes: [1, 2, 3])
        #expect(try await trusting.getObject(key: "k") == [1, 2, 3])
        #expect(try await direct.getObject(key: "k") == [1, 2, 3])
    }
}
