import AWSRequests
import Daemon
import Foundation
import Logging
import Replication
import Testing

/// The daemon's CloudWatch publisher against moto's CloudWatch with SigV4 and IAM checking on (a
/// moto_server of the test's own: the test bed's key may only do s3:*): what it publishes is what
/// list_metrics and get_metric_data return, and a key without cloudwatch:PutMetricData is refused.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PYTHON")))
struct CloudWatchPublisherIntegrationTests {
    static let helper = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/cloudwatch_moto.py").path

    /// A moto_server of its own (started and stopped by the helper, in a process group of its own).
    func withMoto<T>(_ body: (String) async throws -> T) async throws -> T {
        let started = try await helper(["start"])
        let endpoint = try #require(started["endpoint"] as? String), pid = try #require(started["pid"] as? Int)
        do {
            let result = try await body(endpoint)
            _ = try? await helperText(["stop", "\(pid)"])
            return result
        } catch {
            _ = try? await helperText(["stop", "\(pid)"])
            throw error
        }
    }

    func helperText(_ arguments: [String]) async throws -> String {
        let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        return try await DedicatedThread.run(name: "test-cw") { try TestEnvironment.run(python, [Self.helper] + arguments) }
    }

    func helper(_ arguments: [String]) async throws -> [String: Any] {
        let out = try await helperText(arguments)
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
    }

    /// A monitor whose state has a successful CDC cycle 3 s ago and the server's WAL position.
    func monitor() -> ServiceMonitor {
        let now = Date()
        var state = HealthState(interval: .seconds(60), startedAt: now.addingTimeInterval(-10), phase: .cdc, slot: "s")
        state.cycleStarted(at: now.addingTimeInterval(-3))
        state.cycleSucceeded(at: now.addingTimeInterval(-2), kind: .cdc, files: 1, rows: 1, checkpoint: nil)
        state.server = .init(walLSN: "0/16B4000", lagBytes: 4096, retainedWALBytes: 123_456)
        return ServiceMonitor(state: state)
    }

    @Test func publishedFiguresAreWhatCloudWatchReturns() async throws {
        try await withMoto { endpoint in
            let keys = try await helper(["setup", endpoint])
            let publisher = try #require(keys["publisher"] as? [String]), reader = try #require(keys["reader"] as? [String])
            let settings = Configuration.CloudWatch(
                namespace: "replicatord/test", region: "eu-west-1", intervalSeconds: 10,
                name: "stack-a", endpoint: endpoint)
            let credentials = StaticCredentialsProvider(AWSCredentials(accessKeyId: publisher[0], secretAccessKey: publisher[1]))
            try await CloudWatchPublisher(
                settings: settings, monitor: monitor(), credentials: credentials,
                logger: Logger(label: "test")
            ).publishOnce()

            let read = try await helper(["read", endpoint, reader[0], reader[1], "replicatord/test", "stack-a"])
            #expect(read["names"] as? [String] == ["Healthy", "LagBytes", "LagSeconds", "RetainedWALBytes"], "\(read)")
            let values = try #require(read["values"] as? [String: [Double]], "\(read)")
            #expect(values["Healthy"] == [1])
            #expect(values["LagBytes"] == [4096])
            #expect(values["RetainedWALBytes"] == [123_456])
            let lag = try #require(values["LagSeconds"]?.first, "\(read)")
            #expect(lag >= 3 && lag < 60, "lag \(lag)")
            // Another name is another dimension value: nothing there.
            let other = try await helper(["read", endpoint, reader[0], reader[1], "replicatord/test", "stack-b"])
            #expect(other["names"] as? [String] == [])
        }
    }

    @Test func aKeyWithoutPutMetricDataIsRefusedWithAWSsCode() async throws {
        try await withMoto { endpoint in
            let keys = try await helper(["setup", endpoint])
            let reader = try #require(keys["reader"] as? [String])
            let settings = Configuration.CloudWatch(namespace: "replicatord/test", region: "eu-west-1", name: "stack-a", endpoint: endpoint)
            let credentials = StaticCredentialsProvider(AWSCredentials(accessKeyId: reader[0], secretAccessKey: reader[1]))
            do {
                try await CloudWatchPublisher(
                    settings: settings, monitor: monitor(), credentials: credentials,
                    logger: Logger(label: "test")
                ).publishOnce()
                Issue.record("moto accepted PutMetricData from a key without cloudwatch:PutMetricData")
            } catch {
                #expect("\(error)".contains("403"), "\(error)")
                #expect("\(error)".contains("AccessDenied"), "\(error)")
            }
        }
    }
}
