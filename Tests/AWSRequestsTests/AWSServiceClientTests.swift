import Foundation
import Logging
import Synchronization
import Testing
@testable import AWSRequests

/// A transport that answers from a script, in order, and records what it was sent.
final class ScriptedTransport: HTTPTransport {
    let answers: Mutex<[Result<HTTPResponse, TransportError>]>
    let sent = Mutex<[HTTPRequest]>([])
    init(_ answers: [Result<HTTPResponse, TransportError>]) { self.answers = Mutex(answers) }
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        sent.withLock { $0.append(request) }
        return try answers.withLock { $0.isEmpty ? .success(HTTPResponse(status: 200, body: Array("{}".utf8))) : $0.removeFirst() }.get()
    }
}

@Suite struct AWSServiceClientTests {
    static let fixedDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let creds = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    // attempts run out first, even on a starved machine
    static let fast = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2), totalDeadline: .seconds(3600))

    func client(_ transport: ScriptedTransport, endpoint: String? = "http://127.0.0.1:5000") throws -> AWSServiceClient {
        try AWSServiceClient(
            service: "glue", region: "eu-west-1", endpoint: endpoint, credentials: StaticCredentialsProvider(Self.creds),
            retry: Self.fast, logger: Logger(label: "test"), transport: transport, now: { Self.fixedDate })
    }

    @Test func jsonCallIsAPostToTheRootSignedForTheServiceWithTheTargetHeader() async throws {
        let transport = ScriptedTransport([.success(HTTPResponse(status: 200, body: Array("{\"ok\":1}".utf8)))])
        let body = Array("{\"Name\":\"db\"}".utf8)
        let answer = try await client(transport).callJSON(targetPrefix: "AWSGlue", operation: "GetDatabase", body: body)
        #expect(answer == Array("{\"ok\":1}".utf8))
        let request = try #require(transport.sent.withLock { $0.first })
        #expect(request.method == "POST")
        #expect(request.url == "http://127.0.0.1:5000/")
        #expect(request.body == body)
        let headers = Dictionary(request.headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(headers["x-amz-target"] == "AWSGlue.GetDatabase")
        #expect(headers["content-type"] == "application/x-amz-json-1.1")
        #expect(headers["x-amz-date"] == "20150830T123600Z")
        // The signature is the signer's over exactly these headers, for service glue.
        let expected = SigV4Signer(region: "eu-west-1", service: "glue").sign(
            SigV4Signer.Request(
                method: "POST", path: "/", headers: [("host", "127.0.0.1:5000")] + request.headers.filter { $0.0 != "Authorization" },
                payloadHash: Digest.hex(Digest.sha256(body))),
            accessKeyId: Self.creds.accessKeyId, secretAccessKey: Self.creds.secretAccessKey, amzDate: "20150830T123600Z")
        #expect(headers["authorization"] == expected.authorization)
        #expect(expected.authorization.contains("Credential=AKIDEXAMPLE/20150830/eu-west-1/glue/aws4_request"))
        #expect(expected.signedHeaders == "content-type;host;x-amz-date;x-amz-target")
    }

    @Test func queryCallSendsTheActionAndVersionAsAForm() async throws {
        let transport = ScriptedTransport([])
        _ = try await client(transport).callQuery(
            operation: "PutMetricData", version: "2010-08-01",
            parameters: [("Namespace", "replicatord"), ("MetricData.member.1.MetricName", "lag seconds")])
        let request = try #require(transport.sent.withLock { $0.first })
        #expect(
            String(decoding: request.body, as: UTF8.self)
                == "Action=PutMetricData&MetricData.member.1.MetricName=lag%20seconds&Namespace=replicatord&Version=2010-08-01")
        #expect(request.headers.contains { $0 == ("content-type", "application/x-www-form-urlencoded; charset=utf-8") })
    }

    @Test func defaultEndpointIsTheServicesRegionalHost() throws {
        let c = try client(ScriptedTransport([]), endpoint: nil)
        #expect(c.endpoint.baseURL == "https://glue.eu-west-1.amazonaws.com")
        #expect(try AWSEndpoint(url: "https://example.com:443/", service: "glue", region: "x").host == "example.com")
        #expect(throws: AWSServiceError.self) { try AWSEndpoint(url: "ftp://x", service: "glue", region: "x") }
        #expect(throws: AWSServiceError.self) { try AWSEndpoint(url: "http://x/path", service: "glue", region: "x") }
    }

    @Test func throttlingAndServerErrorsAreRetriedThenSucceed() async throws {
        let throttled = HTTPResponse(status: 400, body: Array("{\"__type\":\"com.amazon#ThrottlingException\",\"message\":\"slow\"}".utf8))
        let transport = ScriptedTransport([
            .success(throttled), .success(HTTPResponse(status: 503)),
            .success(HTTPResponse(status: 200, body: Array("{}".utf8))),
        ])
        _ = try await client(transport).callJSON(targetPrefix: "AWSGlue", operation: "GetTable", body: [])
        #expect(transport.sent.withLock { $0.count } == 3)
    }

    @Test func retriesRunOutAsUnavailableWithTheAttemptsCounted() async throws {
        let reset = TransportError(curlCode: 56, message: "Connection reset by peer", isRetryable: true)
        let transport = ScriptedTransport([.failure(reset), .failure(reset), .failure(reset)])
        await #expect { try await client(transport).callJSON(targetPrefix: "AWSGlue", operation: "GetTable", body: []) } throws: {
            let e = $0 as? AWSServiceError
            return e?.code == .unavailable && e?.attempts == 3 && e?.underlying != nil
        }
    }

    @Test func accessDeniedIsNotRetriedAndKeepsTheServicesCodeAndRequestId() async throws {
        let denied = HTTPResponse(
            status: 400, headers: ["x-amzn-requestid": "RID"],
            body: Array("{\"__type\":\"AccessDeniedException\",\"Message\":\"not allowed: glue:CreateTable\"}".utf8))
        let transport = ScriptedTransport([.success(denied)])
        await #expect { try await client(transport).callJSON(targetPrefix: "AWSGlue", operation: "CreateTable", body: []) } throws: {
            let e = $0 as? AWSServiceError
            return e?.code == .accessDenied && e?.awsCode == "AccessDeniedException" && e?.requestId == "RID"
                && e?.message == "not allowed: glue:CreateTable" && e?.attempts == 1
        }
        #expect(transport.sent.withLock { $0.count } == 1)
    }

    @Test func errorBodiesOfEveryFormAreRead() {
        #expect(
            AWSErrorBody.parse(HTTPResponse(status: 400, headers: ["x-amzn-errortype": "EntityNotFoundException:http://internal/"]))
                .code == "EntityNotFoundException")
        let xml = AWSErrorBody.parse(
            HTTPResponse(
                status: 400,
                body: Array(
                    "<ErrorResponse><Error><Code>InvalidParameterValue</Code><Message>a &amp; b</Message></Error><RequestId>R</RequestId></ErrorResponse>".utf8)
            ))
        #expect(xml == AWSErrorBody(code: "InvalidParameterValue", message: "a & b", requestId: "R"))
        #expect(AWSErrorBody.parse(HTTPResponse(status: 500, body: Array("not json".utf8))) == AWSErrorBody())
    }

    @Test func missingCredentialsAreACredentialsError() async throws {
        let c = try AWSServiceClient(
            service: "glue", region: "us-east-1", endpoint: nil,
            credentials: EnvironmentCredentialsProvider(environment: [:]), logger: Logger(label: "t"),
            transport: ScriptedTransport([]))
        await #expect { try await c.callJSON(targetPrefix: "AWSGlue", operation: "GetTable", body: []) } throws: {
            ($0 as? AWSServiceError)?.code == .credentials
        }
    }
}
