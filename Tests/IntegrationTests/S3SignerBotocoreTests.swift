import Foundation
import Logging
import Testing
import AWSRequests
@testable import ObjectStore

/// Our signed requests compared byte for byte with botocore's signer on the same inputs
/// (scripts/s3_botocore_sign.py builds the URL with botocore's encoders and signs with S3SigV4Auth).
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PYTHON")))
struct S3SignerBotocoreTests {
    struct Case: Codable {
        var method: String
        var endpoint: String
        var bucket: String
        var key: String?
        var query: [[String]]
        var headers: [[String]]
        var body_hex: String
        var amz_date: String
        var region: String
        var access_key: String
        var secret_key: String
        var session_token: String?
    }

    struct Signed: Codable { var url: String; var authorization: String }

    @Test func generatedRequestsMatchBotocore() throws {
        let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        let keys: [String?] = [
            nil, "a", "dir/file.parquet", "with space/and+plus", "ünïcödé/日本語", "sym!$&'()*,;=:@[]~-_.x",
            "double//slash/", "percent%2F",
        ]
        let queries: [[(String, String)]] = [
            [], [("uploads", "")], [("list-type", "2"), ("prefix", "a b/c"), ("continuation-token", "1/+=x")],
            [("uploadId", "VXBs+b2Fk/SUQ="), ("partNumber", "10")],
        ]
        var cases: [Case] = []
        var ours: [String] = []
        var urls: [String] = []
        var n = 0
        for key in keys {
            for query in queries {
                n += 1
                let method = ["GET", "PUT", "POST", "DELETE", "HEAD"][n % 5]
                let body = method == "PUT" || method == "POST" ? S3TestSupport.bytes(count: n * 37, seed: UInt64(n)) : []
                var headers: [(String, String)] = []
                if n % 3 == 0 { headers.append(("content-md5", Digest.base64(Digest.md5(body)))) }
                if n % 4 == 0 { headers.append(("content-type", "application/xml")) }
                if n % 4 == 1 { headers.append(("x-amz-checksum-crc32", Digest.crc32Base64(body))) }
                if n % 5 == 0 { headers += ServerSideEncryption.kms(keyId: "arn:aws:kms:eu-west-1:1:key/abc").headers }
                let region = n % 2 == 0 ? "us-east-1" : "eu-west-1"
                let endpoint = n % 2 == 0 ? "http://127.0.0.1:5000" : "https://s3.eu-west-1.amazonaws.com"
                let creds = AWSCredentials(
                    accessKeyId: "AKIDEXAMPLE\(n)", secretAccessKey: "secret/\(n)+key",
                    sessionToken: n % 3 == 1 ? "token\(n)==" : nil)
                let amzDate = SigV4Signer.amzDate(Date(timeIntervalSince1970: 1_700_000_000 + Double(n) * 86_399))
                let client = try S3Client(
                    configuration: S3Configuration(
                        bucket: "bucket-\(n)", region: region, endpoint: endpoint,
                        pathStyle: true),
                    credentials: StaticCredentialsProvider(creds), logger: Logger(label: "test"))
                let request = client.signedRequest(
                    method: method, key: key, query: query, headers: headers, body: body,
                    credentials: creds, amzDate: amzDate)
                ours.append(request.headers.first { $0.0 == "Authorization" }!.1)
                urls.append(request.url)
                cases.append(
                    Case(
                        method: method, endpoint: endpoint, bucket: "bucket-\(n)", key: key, query: query.map { [$0.0, $0.1] },
                        headers: headers.map { [$0.0, $0.1] }, body_hex: Digest.hex(body), amz_date: amzDate, region: region,
                        access_key: creds.accessKeyId, secret_key: creds.secretAccessKey, session_token: creds.sessionToken))
            }
        }
        let input = NSTemporaryDirectory() + "botocore-cases-\(UUID().uuidString).json"
        try JSONEncoder().encode(cases).write(to: URL(fileURLWithPath: input))
        defer { try? FileManager.default.removeItem(atPath: input) }
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/s3_botocore_sign.py").path
        let output = try TestEnvironment.run("/bin/sh", ["-c", "\"$0\" \"$1\" < \"$2\"", python, script, input])
        let theirs = try JSONDecoder().decode([Signed].self, from: Data(output.utf8))
        #expect(theirs.count == cases.count)
        for (i, signed) in theirs.enumerated() {
            #expect(urls[i] == signed.url, "case \(i): URL")
            #expect(ours[i] == signed.authorization, "case \(i): \(cases[i].method) key=\(cases[i].key ?? "nil")")
        }
    }
}
