import Foundation
import Logging
import Synchronization
import Testing
import AWSRequests
@testable import ObjectStore

/// A transport that plays a tiny S3 in memory (PutObject, multipart, Get, Abort) and can inject failures.
final class FakeS3Transport: HTTPTransport {
    struct State {
        var requests: [HTTPRequest] = []
        var objects: [String: [UInt8]] = [:]
        var uploads: [String: [Int: [UInt8]]] = [:]
        var aborted: [String] = []
        /// Answers to give before behaving normally, keyed by an operation marker.
        var injected: [(match: String, response: HTTPResponse)] = []
        var nextUpload = 0
        var uploadKeys: [String: String] = [:]
        var objectETags: [String: String] = [:]
        /// Operations (matched like injections) that take effect but whose answer is lost.
        var loseAnswers: [String] = []
        var corruptETags = false
        var corruptCRC = false
    }
    let state = Mutex(State())

    func inject(_ match: String, status: Int, code: String) {
        let body = Array("<Error><Code>\(code)</Code><Message>injected \(code)</Message><RequestId>R1</RequestId></Error>".utf8)
        state.withLock { $0.injected.append((match, HTTPResponse(status: status, body: body))) }
    }

    var requests: [HTTPRequest] { state.withLock { $0.requests } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let (response, lost) = state.withLock { s -> (HTTPResponse, Bool) in
            let marker = request.method + " " + request.url
            let lost = s.loseAnswers.firstIndex { marker.contains($0) }.map { s.loseAnswers.remove(at: $0) } != nil
            return (answer(request, &s), lost)
        }
        if lost { throw TransportError(curlCode: 56, message: "Connection reset by peer", isRetryable: true) }
        return response
    }

    func answer(_ request: HTTPRequest, _ s: inout State) -> HTTPResponse {
        do {
            s.requests.append(request)
            let marker = request.method + " " + request.url
            if let i = s.injected.firstIndex(where: { marker.contains($0.match) }) {
                return s.injected.remove(at: i).response
            }
            let url = URLComponents(string: request.url)!
            let key = String(url.path.split(separator: "/", maxSplits: 1).dropFirst().first ?? "")
            let query = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            func etag(_ b: [UInt8]) -> String { s.corruptETags ? "\"00\"" : "\"\(Digest.hex(Digest.md5(b)))\"" }
            switch (request.method, query["uploadId"] != nil, query["uploads"] != nil) {
            case ("POST", false, true):
                s.nextUpload += 1
                let id = "up\(s.nextUpload)"
                s.uploads[id] = [:]
                s.uploadKeys[id] = key
                return HTTPResponse(status: 200, body: Array("<InitiateMultipartUploadResult><UploadId>\(id)</UploadId></InitiateMultipartUploadResult>".utf8))
            case ("PUT", true, _):
                s.uploads[query["uploadId"]!]![Int(query["partNumber"]!)!] = request.body
                let crc = s.corruptCRC ? "AAAAAA==" : Digest.crc32Base64(request.body)
                return HTTPResponse(status: 200, headers: ["etag": etag(request.body), "x-amz-checksum-crc32": crc])
            case ("GET", false, true):
                var xml = "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
                for id in s.uploads.keys.sorted() { xml += "<Upload><Key>\(s.uploadKeys[id]!)</Key><UploadId>\(id)</UploadId></Upload>" }
                return HTTPResponse(status: 200, body: Array((xml + "</ListMultipartUploadsResult>").utf8))
            case ("POST", true, _):
                guard let parts = s.uploads.removeValue(forKey: query["uploadId"]!) else {
                    return HTTPResponse(status: 404, body: Array("<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>".utf8))
                }
                let numbers = parts.keys.sorted()
                s.objects[key] = numbers.flatMap { parts[$0]! }
                let md5s = numbers.flatMap { Digest.md5(parts[$0]!) }
                let tag = "\"\(Digest.hex(Digest.md5(md5s)))-\(numbers.count)\""
                s.objectETags[key] = tag
                return HTTPResponse(status: 200, body: Array("<CompleteMultipartUploadResult><ETag>\(tag)</ETag></CompleteMultipartUploadResult>".utf8))
            case ("HEAD", false, false):
                guard let b = s.objects[key] else { return HTTPResponse(status: 404) }
                return HTTPResponse(status: 200, headers: ["etag": s.objectETags[key] ?? etag(b), "content-length": "\(b.count)"])
            case ("DELETE", true, _):
                s.uploads[query["uploadId"]!] = nil
                s.aborted.append(query["uploadId"]!)
                return HTTPResponse(status: 204)
            case ("PUT", false, false):
                s.objects[key] = request.body
                return HTTPResponse(status: 200, headers: ["etag": etag(request.body)])
            case ("GET", false, false):
                guard let b = s.objects[key] else {
                    return HTTPResponse(status: 404, body: Array("<Error><Code>NoSuchKey</Code><Message>no</Message></Error>".utf8))
                }
                return HTTPResponse(status: 200, body: b)
            default:
                return HTTPResponse(status: 400, body: Array("<Error><Code>NotImplemented</Code></Error>".utf8))
            }
        }
    }
}

@Suite struct S3ClientTests {
    let transport = FakeS3Transport()
    // attempts run out first, even on a loaded machine
    let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(1), maxDelay: .milliseconds(4), totalDeadline: .seconds(120))

    func client(partSize: Int = S3Configuration.minimumPartSize, parallelism: Int = 2, checksum: S3Checksum = .crc32) throws -> S3Client {
        try S3Client(
            configuration: S3Configuration(
                bucket: "bkt", endpoint: "http://127.0.0.1:9", pathStyle: true,
                partSize: partSize, parallelism: parallelism, retry: policy, checksum: checksum),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SECRET")),
            logger: Logger(label: "test"), transport: transport)
    }

    @Test func putObjectSignsThePayloadAndSendsContentMD5() async throws {
        let body = Array("hello".utf8)
        let stored = try await client().putObject(key: "dir/a b.txt", bytes: body)
        #expect(stored.etag == Digest.hex(Digest.md5(body)))
        let r = try #require(transport.requests.first)
        #expect(r.url == "http://127.0.0.1:9/bkt/dir/a%20b.txt")
        let headers = Dictionary(uniqueKeysWithValues: r.headers)
        #expect(headers["x-amz-content-sha256"] == Digest.hex(Digest.sha256(body)))
        #expect(headers["content-md5"] == Digest.base64(Digest.md5(body)))
        let auth = try #require(headers["Authorization"])
        #expect(auth.hasPrefix("AWS4-HMAC-SHA256 Credential=AKID/"))
        #expect(auth.contains("SignedHeaders=content-md5;host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date,"))
        #expect(!r.headers.contains { $0.1.contains("SECRET") })
    }

    @Test func slowDownIsRetriedThenSucceeds() async throws {
        transport.inject("PUT", status: 503, code: "SlowDown")
        transport.inject("PUT", status: 500, code: "InternalError")
        _ = try await client().putObject(key: "k", bytes: [1])
        #expect(transport.requests.count == 3)
    }

    @Test func accessDeniedFailsAtOnceNamingBucketKeyAndCode() async throws {
        transport.inject("PUT", status: 403, code: "SignatureDoesNotMatch")
        do {
            _ = try await client().putObject(key: "k", bytes: [1])
            Issue.record("expected an error")
        } catch let e as ObjectStoreError {
            #expect(e.code == .accessDenied)
            #expect(e.bucket == "bkt" && e.key == "k" && e.s3Code == "SignatureDoesNotMatch" && e.httpStatus == 403)
            #expect(e.description.contains("SignatureDoesNotMatch") && e.description.contains("bkt"))
        }
        #expect(transport.requests.count == 1)
    }

    @Test func retriesRunOutAsUnavailable() async throws {
        for _ in 0..<4 { transport.inject("GET", status: 503, code: "SlowDown") }
        do {
            _ = try await client().getObject(key: "k")
            Issue.record("expected an error")
        } catch let e as ObjectStoreError {
            #expect(e.code == .unavailable && e.attempts == 4 && e.s3Code == "SlowDown")
        }
    }

    @Test func narrowedListPrefixStopsAtTheFirstCharacterAServerMightReencode() throws {
        var config = try client().configuration
        config.narrowListPrefixes = true
        let c = try S3Client(
            configuration: config, credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "a", secretAccessKey: "s")),
            logger: Logger(label: "test"), transport: transport)
        #expect(c.listPrefix("out run-1.x~/tables/") == "out run-1.x~")
        #expect(c.listPrefix("ab+c") == "ab")
        #expect(try client().listPrefix("out/tables/") == "out/tables/")
    }

    @Test func aCreateRetriedAfterALostAnswerLeavesNoDuplicateUpload() async throws {
        transport.state.withLock { $0.loseAnswers = ["?uploads"] }
        let c = try client()
        let id = try await c.createMultipartUpload(key: "dup")
        #expect(id == "up2")
        #expect(transport.state.withLock { Array($0.uploads.keys) } == ["up2"])
        #expect(transport.state.withLock { $0.aborted } == ["up1"])
    }

    @Test func aCompleteRetriedAfterALostAnswerSucceedsWhenTheObjectIsThere() async throws {
        transport.state.withLock { $0.loseAnswers = ["POST http://127.0.0.1:9/bkt/obj?uploadId"] }
        let store = S3ObjectStore(client: try client(), prefix: "", logger: Logger(label: "test"))
        let upload = try await store.makeUpload(key: "obj")
        let data = [UInt8](repeating: 5, count: S3Configuration.minimumPartSize + 3)
        try await upload.write(data)
        let stored = try await upload.complete()
        #expect(stored.etag.hasSuffix("-2"))
        #expect(transport.state.withLock { $0.objects["obj"] } == data)
    }

    @Test func multipartETagFromPartETags() {
        let parts = [
            S3Client.CompletedPart(number: 1, etag: Digest.hex(Digest.md5([1]))),
            S3Client.CompletedPart(number: 2, etag: Digest.hex(Digest.md5([2]))),
        ]
        #expect(S3Client.multipartETag(parts: parts) == Digest.hex(Digest.md5(Digest.md5([1]) + Digest.md5([2]))) + "-2")
        #expect(S3Client.multipartETag(parts: [S3Client.CompletedPart(number: 1, etag: "kms-etag")]) == nil)
    }

    @Test func missingObjectIsNotFound() async throws {
        await #expect { try await client().getObject(key: "nope") } throws: { ($0 as? ObjectStoreError)?.code == .notFound }
    }

    @Test func wrongETagIsAnIntegrityError() async throws {
        transport.state.withLock { $0.corruptETags = true }
        await #expect { try await client().putObject(key: "k", bytes: [1]) } throws: { ($0 as? ObjectStoreError)?.code == .integrity }
    }

    @Test func wrongPartCRCIsAnIntegrityErrorAndAborts() async throws {
        transport.state.withLock { $0.corruptCRC = true }
        let c = try client()
        let id = try await c.createMultipartUpload(key: "k")
        await #expect { try await c.uploadPart(key: "k", uploadId: id, partNumber: 1, bytes: [1, 2]) } throws: {
            ($0 as? ObjectStoreError)?.code == .integrity
        }
        let create = try #require(transport.requests.first)
        #expect(create.headers.contains { $0 == ("x-amz-checksum-algorithm", "CRC32") })
    }

    @Test func partChecksumsFollowTheConfiguration() async throws {
        for mode in [S3Checksum.crc32, .crc32AndMD5, .md5] {
            let t = FakeS3Transport()
            let c = try S3Client(
                configuration: client(checksum: mode).configuration,
                credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "a", secretAccessKey: "s")),
                logger: Logger(label: "test"), transport: t)
            let id = try await c.createMultipartUpload(key: "k")
            _ = try await c.uploadPart(key: "k", uploadId: id, partNumber: 1, bytes: [1, 2, 3])
            let names = Set(t.requests.last!.headers.map(\.0))
            #expect(names.contains("content-md5") == (mode != .crc32), "\(mode)")
            #expect(names.contains("x-amz-checksum-crc32") == (mode != .md5), "\(mode)")
            #expect(t.requests.first!.headers.contains { $0.0 == "x-amz-checksum-algorithm" } == (mode != .md5), "\(mode)")
        }
    }

    @Test func wrongPartETagIsAnIntegrityErrorWhenMD5IsChecked() async throws {
        transport.state.withLock { $0.corruptETags = true }
        let c = try client(checksum: .crc32AndMD5)
        let id = try await c.createMultipartUpload(key: "k")
        await #expect { try await c.uploadPart(key: "k", uploadId: id, partNumber: 1, bytes: [1]) } throws: {
            ($0 as? ObjectStoreError)?.code == .integrity
        }
    }

    @Test func completeListsEachPartWithItsChecksum() async throws {
        let store = S3ObjectStore(client: try client(), prefix: "", logger: Logger(label: "test"))
        let upload = try await store.makeUpload(key: "two")
        try await upload.write([UInt8](repeating: 3, count: S3Configuration.minimumPartSize + 10))
        _ = try await upload.complete()
        let complete = try #require(transport.requests.last)
        let xml = String(decoding: complete.body, as: UTF8.self)
        let crc1 = Digest.crc32Base64([UInt8](repeating: 3, count: S3Configuration.minimumPartSize))
        #expect(xml.contains("<Part><PartNumber>1</PartNumber><ETag>\"") && xml.contains("<ChecksumCRC32>\(crc1)</ChecksumCRC32>"))
        #expect(xml.contains("<PartNumber>2</PartNumber>"))
    }

    @Test func streamingUploadOfAnUnknownSizeGoesMultipartInOrder() async throws {
        let store = S3ObjectStore(client: try client(), prefix: "pre", logger: Logger(label: "test"))
        let data = (0..<(12 * 1024 * 1024 + 77)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let upload = try await store.makeUpload(key: "big")
        var i = 0
        while i < data.count {
            let n = min(1_000_003, data.count - i)
            try await upload.write(Array(data[i..<(i + n)]))
            i += n
        }
        let stored = try await upload.complete()
        #expect(stored.size == data.count && stored.key == "big")
        #expect(stored.etag.hasSuffix("-3"))
        #expect(transport.state.withLock { $0.objects["pre/big"] } == data)
    }

    @Test func smallStreamingUploadIsOnePut() async throws {
        let store = S3ObjectStore(client: try client(), prefix: "", logger: Logger(label: "test"))
        let upload = try await store.makeUpload(key: "small")
        try await upload.write([1, 2])
        try await upload.write([3])
        _ = try await upload.complete()
        #expect(transport.requests.map(\.method) == ["PUT"])
        #expect(transport.state.withLock { $0.objects["small"] } == [1, 2, 3])
    }

    @Test func failedPartAbortsTheUpload() async throws {
        transport.inject("partNumber=2", status: 400, code: "InvalidArgument")
        let store = S3ObjectStore(client: try client(parallelism: 1), prefix: "", logger: Logger(label: "test"))
        let upload = try await store.makeUpload(key: "x")
        let part = [UInt8](repeating: 1, count: S3Configuration.minimumPartSize)
        do {
            for _ in 0..<4 { try await upload.write(part) }
            _ = try await upload.complete()
            Issue.record("expected an error")
        } catch let e as ObjectStoreError {
            #expect(e.s3Code == "InvalidArgument")
        }
        #expect(transport.state.withLock { $0.aborted } == ["up1"])
        #expect(transport.state.withLock { $0.uploads.isEmpty })
    }

    @Test func explicitAbortRemovesTheUpload() async throws {
        let store = S3ObjectStore(client: try client(), prefix: "", logger: Logger(label: "test"))
        let upload = try await store.makeUpload(key: "x")
        try await upload.write([UInt8](repeating: 1, count: S3Configuration.minimumPartSize + 1))
        await upload.abort()
        #expect(transport.state.withLock { $0.aborted } == ["up1"])
        await #expect { try await upload.complete() } throws: { ($0 as? ObjectStoreError)?.code == .uploadClosed }
    }
}
