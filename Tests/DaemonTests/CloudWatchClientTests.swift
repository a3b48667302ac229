@testable import Daemon
import Foundation
import ObjectStore
import Synchronization
import Testing

/// An in-memory transport: records what is sent and answers with a fixed response.
final class RecordingTransport: HTTPTransport {
    let sent = Mutex<[HTTPRequest]>([])
    let answer: HTTPResponse
    init(answer: HTTPResponse) { self.answer = answer }
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        sent.withLock { $0.append(request) }
        return answer
    }
}

@Suite struct CloudWatchClientTests {
    let creds = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "token")
    let at = Date(timeIntervalSince1970: 1_796_000_000)

    func client(_ endpoint: String, transport: any HTTPTransport = RecordingTransport(answer: .init(status: 200))) throws -> CloudWatchClient {
        let time = at
        return try CloudWatchClient(endpoint: endpoint, region: "eu-west-1", credentials: StaticCredentialsProvider(creds),
                                    transport: transport, now: { time })
    }

    @Test func theRequestIsAFormPostSignedForMonitoringWithTheSessionToken() throws {
        let request = try client("https://monitoring.eu-west-1.amazonaws.com:443").request(body: "Action=PutMetricData", credentials: creds)
        #expect(request.method == "POST")
        #expect(request.url == "https://monitoring.eu-west-1.amazonaws.com:443/")
        let headers = Dictionary(uniqueKeysWithValues: request.headers)
        #expect(headers["content-type"] == "application/x-www-form-urlencoded; charset=utf-8")
        #expect(headers["x-amz-date"] == "20261130T005320Z")
        #expect(headers["x-amz-security-token"] == "token")
        let auth = try #require(headers["authorization"])
        #expect(auth.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/eu-west-1/monitoring/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="))
        #expect(request.body == Array("Action=PutMetricData".utf8))
        // The signature covers the host without the default port, as the service computes it.
        let expected = SigV4Signer(region: "eu-west-1", service: "monitoring").sign(
            .init(method: "POST", path: "/", headers: [("host", "monitoring.eu-west-1.amazonaws.com"),
                                                       ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
                                                       ("x-amz-date", "20261130T005320Z"), ("x-amz-security-token", "token")],
                  payloadHash: Digest.hex(Digest.sha256(Array("Action=PutMetricData".utf8)))),
            accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, amzDate: "20261130T005320Z")
        #expect(auth == expected.authorization)
    }

    @Test func anErrorAnswerBecomesAnErrorWithAWSsCodeAndMessage() async throws {
        let body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed: cloudwatch:PutMetricData</Message></Error></ErrorResponse>"
        let transport = RecordingTransport(answer: .init(status: 403, body: Array(body.utf8)))
        do {
            try await client("http://127.0.0.1:5000", transport: transport).send(body: "Action=PutMetricData")
            Issue.record("a 403 was taken for success")
        } catch let error as CloudWatchError {
            #expect(error.status == 403)
            #expect(error.code == "AccessDenied")
            #expect("\(error)" == "CloudWatch answered 403 AccessDenied: not allowed: cloudwatch:PutMetricData")
        } catch {
            Issue.record("not a CloudWatchError: \(error)")
        }
        #expect(transport.sent.withLock { $0.count } == 1)
    }

    @Test func anEndpointWithoutAHostIsRefused() {
        #expect(throws: CloudWatchError.self) { try client("http://") }
        #expect(throws: CloudWatchError.self) { try client("monitoring.amazonaws.com") }
    }
}
