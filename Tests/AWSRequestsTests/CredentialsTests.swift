import Foundation
import Synchronization
import Testing
@testable import AWSRequests

@Suite struct CredentialsTests {
    @Test func environmentCredentials() async throws {
        let c = try await EnvironmentCredentialsProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_SESSION_TOKEN": "T",
        ]).credentials()
        #expect(c == AWSCredentials(accessKeyId: "AK", secretAccessKey: "SK", sessionToken: "T"))
        #expect(!c.description.contains("SK") && !c.description.contains("T)"))
        await #expect(throws: AWSCredentialsError.self) { try await EnvironmentCredentialsProvider(environment: [:]).credentials() }
    }

    @Test func sharedFilesWithProfile() async throws {
        let dir = NSTemporaryDirectory() + "creds-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try
            "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n# c\n[work]\naws_access_key_id=W\naws_secret_access_key = WS\naws_session_token = WT\n"
            .write(toFile: dir + "/credentials", atomically: true, encoding: .utf8)
        try "[profile cfg]\naws_access_key_id = C\naws_secret_access_key = CS\n".write(toFile: dir + "/config", atomically: true, encoding: .utf8)
        let env = ["AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials", "AWS_CONFIG_FILE": dir + "/config"]
        #expect(try await ProfileCredentialsProvider(environment: env).credentials().accessKeyId == "D")
        var work = env
        work["AWS_PROFILE"] = "work"
        #expect(
            try await ProfileCredentialsProvider(environment: work).credentials()
                == AWSCredentials(accessKeyId: "W", secretAccessKey: "WS", sessionToken: "WT"))
        work["AWS_PROFILE"] = "cfg"
        #expect(try await ProfileCredentialsProvider(environment: work).credentials().accessKeyId == "C")
        work["AWS_PROFILE"] = "none"
        await #expect(throws: AWSCredentialsError.self) { try await ProfileCredentialsProvider(environment: work).credentials() }
    }

    /// Plays IMDSv2: a token PUT, then role name and credentials GETs that require the token.
    final class FakeIMDS: HTTPTransport {
        let expiration: Mutex<String>
        let fetches = Mutex(0)
        init(expiration: String) { self.expiration = Mutex(expiration) }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            if request.method == "PUT" && request.url.hasSuffix("/latest/api/token") {
                #expect(request.headers.contains { $0.0 == "X-aws-ec2-metadata-token-ttl-seconds" })
                return HTTPResponse(status: 200, body: Array("TOKEN".utf8))
            }
            guard request.headers.contains(where: { $0 == ("X-aws-ec2-metadata-token", "TOKEN") }) else { return HTTPResponse(status: 401) }
            if request.url.hasSuffix("/security-credentials/") { return HTTPResponse(status: 200, body: Array("role\n".utf8)) }
            if request.url.hasSuffix("/security-credentials/role") {
                let n = fetches.withLock {
                    $0 += 1; return $0
                }
                let exp = expiration.withLock { $0 }
                return HTTPResponse(
                    status: 200,
                    body: Array(
                        """
                        {"Code":"Success","AccessKeyId":"IMDS\(n)","SecretAccessKey":"S","Token":"T","Expiration":"\(exp)"}
                        """.utf8))
            }
            return HTTPResponse(status: 404)
        }
    }

    @Test func instanceMetadataIsCachedAndRefreshedBeforeExpiry() async throws {
        let imds = FakeIMDS(expiration: "2030-01-01T01:00:00Z")
        let clock = Mutex(ISO8601DateFormatter().date(from: "2030-01-01T00:00:00Z")!)
        let provider = InstanceMetadataCredentialsProvider(
            endpoint: "http://169.254.169.254", transport: imds,
            now: { clock.withLock { $0 } })
        #expect(try await provider.credentials().accessKeyId == "IMDS1")
        #expect(try await provider.credentials().accessKeyId == "IMDS1")
        clock.withLock { $0 = $0.addingTimeInterval(56 * 60) }  // 4 minutes before expiry: refresh
        imds.expiration.withLock { $0 = "2030-01-01T02:00:00Z" }
        #expect(try await provider.credentials().accessKeyId == "IMDS2")
        #expect(try await provider.credentials().accessKeyId == "IMDS2")
    }

    @Test func defaultChainSkipsInstanceMetadataWhenDisabled() {
        #expect(DefaultCredentialsChain(environment: ["AWS_EC2_METADATA_DISABLED": "true"]).providers.count == 2)
        #expect(DefaultCredentialsChain(environment: [:]).providers.count == 3)
    }

    @Test func chainTakesTheFirstSourceThatAnswers() async throws {
        let chain = DefaultCredentialsChain(providers: [
            EnvironmentCredentialsProvider(environment: [:]),
            StaticCredentialsProvider(AWSCredentials(accessKeyId: "second", secretAccessKey: "s")),
        ])
        #expect(try await chain.credentials().accessKeyId == "second")
        let empty = DefaultCredentialsChain(providers: [EnvironmentCredentialsProvider(environment: [:])])
        await #expect { try await empty.credentials() } throws: { $0 is AWSCredentialsError }
    }
}
