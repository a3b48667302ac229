import AWSRequests
@testable import Daemon
import Foundation
import Logging
import Synchronization
import Testing

/// A scripted transport: records what is sent and answers with a fixed response.
final class RecordingTransport: HTTPTransport {
    let sent = Mutex<[HTTPRequest]>([])
    let answer: HTTPResponse
    init(answer: HTTPResponse) { self.answer = answer }
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        sent.withLock { $0.append(request) }
        return answer
    }
}

@Suite struct CloudWatchPublisherTests {
    let settings = Configuration.CloudWatch(
        namespace: "replicatord", region: "eu-west-1", intervalSeconds: 60, name: "stack-a",
        endpoint: "http://127.0.0.1:5000")
    let at = Date(timeIntervalSince1970: 1_796_000_000)

    func publisher(_ transport: RecordingTransport) throws -> CloudWatchPublisher {
        let time = at
        let client = try AWSServiceClient(
            service: "monitoring", region: settings.region, endpoint: settings.endpoint,
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret")),
            retry: CloudWatchPublisher.retryPolicy(interval: settings.interval), logger: Logger(label: "test"),
            transport: transport, now: { time })
        var state = HealthState(interval: .seconds(60), startedAt: at, phase: .cdc, slot: "s")
        state.cycleStarted(at: at)
        state.cycleSucceeded(at: at.addingTimeInterval(1), kind: .cdc, files: 0, rows: 0, checkpoint: nil)
        return CloudWatchPublisher(settings: settings, monitor: ServiceMonitor(state: state), logger: Logger(label: "test"), client: client)
    }

    @Test func oneTickIsOnePutMetricDataPostSignedForMonitoring() async throws {
        let transport = RecordingTransport(answer: .init(status: 200, body: Array("<PutMetricDataResponse/>".utf8)))
        try await publisher(transport).publishOnce(at: at)
        let request = try #require(transport.sent.withLock { $0.first })
        #expect(transport.sent.withLock { $0.count } == 1)
        #expect(request.method == "POST")
        #expect(request.url == "http://127.0.0.1:5000/")
        let body = String(decoding: request.body, as: UTF8.self)
        #expect(body.contains("Action=PutMetricData"))
        #expect(body.contains("Version=2010-08-01"))
        #expect(body.contains("Namespace=replicatord"))
        #expect(body.contains("Dimensions.member.1.Value=stack-a"))
        #expect(body.contains("MetricName=Healthy"))
        let auth = try #require(request.headers.first { $0.0.lowercased() == "authorization" }?.1)
        #expect(auth.contains("/eu-west-1/monitoring/aws4_request"), "\(auth)")
    }

    @Test func accessDeniedIsThrownWithAWSsCodeAndNotRetried() async throws {
        let body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message></Error></ErrorResponse>"
        let transport = RecordingTransport(answer: .init(status: 403, body: Array(body.utf8)))
        do {
            try await publisher(transport).publishOnce(at: at)
            Issue.record("a 403 was taken for success")
        } catch let error as AWSServiceError {
            #expect(error.code == .accessDenied, "\(error)")
            #expect(error.awsCode == "AccessDenied")
        }
        #expect(transport.sent.withLock { $0.count } == 1)
    }

    @Test func retriesStayWithinHalfTheInterval() {
        #expect(CloudWatchPublisher.retryPolicy(interval: .seconds(10)).totalDeadline == .seconds(5))
        #expect(CloudWatchPublisher.retryPolicy(interval: .seconds(600)).totalDeadline == .seconds(20))
    }
}
