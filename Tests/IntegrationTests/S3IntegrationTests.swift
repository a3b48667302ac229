import Foundation
import Logging
import Testing
import AWSRequests
@testable import ObjectStore

/// Every S3 operation against moto_server with SigV4 checking on.
@Suite(.enabled(if: S3TestSupport.enabled)) struct S3IntegrationTests {
    @Test func putGetHeadListDeleteThroughTheStoreWithPrefix() async throws {
        let client = try await S3TestSupport.client(test: #function)
        let store = S3ObjectStore(client: client, prefix: "out/run1", logger: Logger(label: "test"))
        let state = Array("{\"lsn\":\"0/16B3748\"}".utf8)
        let stored = try await store.put(key: "state/checkpoint.json", bytes: state, contentType: "application/json")
        #expect(stored == StoredObject(key: "state/checkpoint.json", etag: Digest.hex(Digest.md5(state)), size: state.count))
        #expect(try await store.get(key: "state/checkpoint.json") == state)
        // Overwrite: a reader sees the new object whole.
        try await store.put(key: "state/checkpoint.json", bytes: Array("{}".utf8))
        #expect(try await store.get(key: "state/checkpoint.json") == Array("{}".utf8))
        let head = try #require(try await store.head(key: "state/checkpoint.json"))
        #expect(head.size == 2 && head.etag == Digest.hex(Digest.md5(Array("{}".utf8))) && head.key == "state/checkpoint.json")
        #expect(try await store.head(key: "state/missing") == nil)
        await #expect { try await store.get(key: "state/missing") } throws: {
            let e = $0 as? ObjectStoreError
            return e?.code == .notFound && e?.s3Code == "NoSuchKey" && e?.key == "out/run1/state/missing"
        }
        // Keys that need encoding (moto_server checks signatures over a re-encoded URL, so only space
        // and the unreserved characters can be tried here; the botocore comparison covers the rest).
        let odd = "tables/public.my table/file-1_x~y.parquet"
        try await store.put(key: odd, bytes: [1, 2, 3])
        #expect(try await store.get(key: odd) == [1, 2, 3])
        // Written directly to S3 without the prefix: not listed by the store.
        _ = try await client.putObject(key: "elsewhere/x", bytes: [0])
        #expect(try await store.list(prefix: "").map(\.key) == ["state/checkpoint.json", odd].sorted())
        #expect(try await store.list(prefix: "tables/").map(\.key) == [odd])
        try await store.delete(key: odd)
        try await store.delete(key: odd)  // deleting a missing object is fine
        #expect(try await store.list(prefix: "tables/").isEmpty)
    }

    @Test func listObjectsV2PaginatesAllPages() async throws {
        let client = try await S3TestSupport.client(test: #function)
        for i in 0..<7 { _ = try await client.putObject(key: "p/\(i)", bytes: [UInt8(i)]) }
        _ = try await client.putObject(key: "q", bytes: [0])
        // Walk the pages by hand (a prefix without "/": moto_server cannot check a signed "%2F" in a query).
        var token: String?
        var keys: [String] = []
        var pages = 0
        repeat {
            let page = try await client.listObjectsV2(prefix: "p", continuationToken: token, maxKeys: 3)
            #expect(page.objects.count <= 3)
            keys += page.objects.map(\.key)
            token = page.continuationToken
            pages += 1
        } while token != nil
        #expect(pages == 3)
        #expect(keys == (0..<7).map { "p/\($0)" })
        let all = try await client.listAllObjects(prefix: "p/")
        #expect(all.map(\.key) == (0..<7).map { "p/\($0)" })
        #expect(all.allSatisfy { $0.size == 1 })
        let store = S3ObjectStore(client: client, prefix: "", logger: Logger(label: "test"))
        // The store pages too (moto's default page is 1000; ask the client with small pages to prove the loop).
        #expect(try await store.list(prefix: "p/").count == 7)
    }

    @Test func multipartOperationsOneByOne() async throws {
        let client = try await S3TestSupport.client(test: #function)
        let id = try await client.createMultipartUpload(key: "m/obj", contentType: "application/octet-stream")
        let part1 = S3TestSupport.bytes(count: 5 * 1024 * 1024, seed: 1)
        let part2 = S3TestSupport.bytes(count: 1000, seed: 2)
        let e1 = try await client.uploadPart(key: "m/obj", uploadId: id, partNumber: 1, bytes: part1)
        let e2 = try await client.uploadPart(key: "m/obj", uploadId: id, partNumber: 2, bytes: part2)
        #expect(e1.etag == Digest.hex(Digest.md5(part1)))
        #expect(e1.checksumCRC32 == Digest.crc32Base64(part1))
        let open = try await client.listMultipartUploads(prefix: "m/")
        #expect(open.map(\.uploadId) == [id] && open.map(\.key) == ["m/obj"])
        let etag = try await client.completeMultipartUpload(key: "m/obj", uploadId: id, parts: [e1, e2])
        #expect(etag == S3TestSupport.multipartETag(part1 + part2, partSize: 5 * 1024 * 1024))
        #expect(try await client.getObject(key: "m/obj") == part1 + part2)
        #expect(try await client.listMultipartUploads(prefix: "m/").isEmpty)
        let id2 = try await client.createMultipartUpload(key: "m/other")
        try await client.abortMultipartUpload(key: "m/other", uploadId: id2)
        #expect(try await client.listMultipartUploads(prefix: "").isEmpty)
    }

    @Test func fiftyMegabyteStreamingUploadRoundTripsWithTheMultipartETag() async throws {
        let partSize = 8 * 1024 * 1024
        let client = try await S3TestSupport.client(test: #function, partSize: partSize, parallelism: 3)
        let store = S3ObjectStore(client: client, prefix: "big", logger: Logger(label: "test"))
        let data = S3TestSupport.bytes(count: 50 * 1000 * 1000 + 123, seed: 42)
        let upload = try await store.makeUpload(key: "file.parquet", contentType: "application/vnd.apache.parquet")
        var i = 0
        var chunk = 100_000
        while i < data.count {  // uneven chunks, as a writer would produce
            let n = min(chunk, data.count - i)
            try await upload.write(Array(data[i..<(i + n)]))
            i += n
            chunk = chunk * 3 % 2_000_003 + 1
        }
        let stored = try await upload.complete()
        #expect(stored.size == data.count)
        #expect(stored.etag == S3TestSupport.multipartETag(data, partSize: partSize))
        #expect(stored.etag.hasSuffix("-6"))
        let back = try await store.get(key: "file.parquet")
        #expect(back.count == data.count)
        #expect(back == data)
        #expect(try await store.head(key: "file.parquet")?.etag == stored.etag)
        #expect(try await store.listOpenMultipartUploads(prefix: "").isEmpty)
    }

    @Test func interruptedUploadLeavesNoListedUploadAfterAbort() async throws {
        let client = try await S3TestSupport.client(test: #function, parallelism: 2)
        let store = S3ObjectStore(client: client, prefix: "x", logger: Logger(label: "test"))
        let upload = try await store.makeUpload(key: "half")
        try await upload.write(S3TestSupport.bytes(count: 11 * 1024 * 1024, seed: 3))
        #expect(try await store.listOpenMultipartUploads(prefix: "").map(\.key) == ["half"])
        await upload.abort()
        #expect(try await store.listOpenMultipartUploads(prefix: "").isEmpty)
        #expect(try await store.head(key: "half") == nil)

        // A crash: the upload is dropped without abort; the daemon cleans it on the next start.
        let orphan = try await store.makeUpload(key: "orphan")
        try await orphan.write(S3TestSupport.bytes(count: 6 * 1024 * 1024, seed: 4))
        let open = try await store.listOpenMultipartUploads(prefix: "")
        #expect(open.map(\.key) == ["orphan"])
        for u in open { try await store.abortMultipartUpload(u) }
        #expect(try await store.listOpenMultipartUploads(prefix: "").isEmpty)
    }

    @Test func smallStreamingUploadIsOnePutObject() async throws {
        let client = try await S3TestSupport.client(test: #function)
        let store = S3ObjectStore(client: client, prefix: "", logger: Logger(label: "test"))
        let upload = try await store.makeUpload(key: "small")
        try await upload.write([1, 2, 3])
        let stored = try await upload.complete()
        #expect(stored.etag == Digest.hex(Digest.md5([1, 2, 3])))
        #expect(try await store.get(key: "small") == [1, 2, 3])
    }

    @Test func wrongSecretIsRefusedClearlyAndAtOnce() async throws {
        let good = try await S3TestSupport.client(test: #function)
        var creds = S3TestSupport.credentials()
        creds.secretAccessKey = "not-the-secret"
        let (logger, _) = RecordingLogHandler.logger()
        let bad = try S3Client(configuration: good.configuration, credentials: StaticCredentialsProvider(creds), logger: logger)
        let started = ContinuousClock.now
        do {
            _ = try await bad.putObject(key: "k", bytes: [1])
            Issue.record("a wrong secret was accepted")
        } catch let e as ObjectStoreError {
            #expect(e.code == .accessDenied)
            #expect(e.s3Code == "SignatureDoesNotMatch")
            #expect(e.httpStatus == 403)
            #expect(e.bucket == good.configuration.bucket && e.key == "k" && e.operation == "PutObject")
            #expect(e.attempts == 1)
            #expect(e.description.contains(good.configuration.bucket) && e.description.contains("SignatureDoesNotMatch"))
            #expect(!e.description.contains("not-the-secret"))
        }
        // "At once" is attempts == 1 above; the wall clock only bounds it loosely (a loaded 2-core CI).
        #expect(ContinuousClock.now - started < .seconds(60))
        creds = S3TestSupport.credentials()
        creds.accessKeyId = "AKIAUNKNOWNKEY000000"
        let unknown = try S3Client(configuration: good.configuration, credentials: StaticCredentialsProvider(creds), logger: logger)
        await #expect { try await unknown.getObject(key: "k") } throws: {
            let e = $0 as? ObjectStoreError
            return e?.code == .accessDenied && e?.s3Code == "InvalidAccessKeyId"
        }
    }

    @Test func missingBucketIsNoSuchBucket() async throws {
        let client = try await S3TestSupport.client(test: #function, create: false)
        await #expect { try await client.putObject(key: "k", bytes: [1]) } throws: {
            let e = $0 as? ObjectStoreError
            return e?.code == .noSuchBucket && e?.s3Code == "NoSuchBucket" && e?.bucket == client.configuration.bucket
        }
    }

    @Test func storeFromTheTargetURL() async throws {
        let endpoint = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let bucket = S3TestSupport.bucketName(#function)
        let location = try ObjectStoreLocation(
            url: "s3://\(bucket)/replicatord/out", region: "us-east-1", endpoint: endpoint,
            pathStyle: true)  // loopback: listings narrowed for moto_server
        let store = try location.makeStore(logger: Logger(label: "test"))  // credentials from the environment
        try await (store as! S3ObjectStore).client.createBucket()
        try await store.put(key: "a", bytes: [9])
        #expect(try await (store as! S3ObjectStore).client.getObject(key: "replicatord/out/a") == [9])
        #expect(try await store.list(prefix: "").map(\.key) == ["a"])
    }

    @Test func serverSideEncryptionHeadersAreAccepted() async throws {
        var client = try await S3TestSupport.client(test: #function)
        var config = client.configuration
        config.serverSideEncryption = .s3
        client = try S3Client(
            configuration: config, credentials: StaticCredentialsProvider(S3TestSupport.credentials()),
            logger: Logger(label: "test"))
        _ = try await client.putObject(key: "enc", bytes: [1, 2])
        #expect(try await client.getObject(key: "enc") == [1, 2])
    }
}
