import Foundation
import Logging
import Testing
import AWSRequests
@testable import ObjectStore

@Suite struct ObjectStoreLocationTests {
    @Test func s3URLWithPrefix() throws {
        let l = try ObjectStoreLocation(
            url: "s3://my-bucket/some/prefix", region: "eu-west-1", endpoint: "http://127.0.0.1:9000",
            pathStyle: true)
        #expect(l.target == .s3(bucket: "my-bucket", prefix: "some/prefix"))
        #expect(l.target.keyPrefix == "some/prefix/")
        #expect(l.endpoint == "http://127.0.0.1:9000")
        #expect(try ObjectStoreLocation(url: "s3://bkt").target == .s3(bucket: "bkt", prefix: ""))
        #expect(try ObjectStoreLocation(url: "s3://bkt/").target == .s3(bucket: "bkt", prefix: ""))
        #expect(try ObjectStoreLocation(url: "s3://bkt", endpoint: "").endpoint == nil)
    }

    @Test func listingsAreNarrowedByDefaultOnlyForLoopbackEndpoints() throws {
        #expect(try ObjectStoreLocation(url: "s3://bkt", endpoint: "http://127.0.0.1:5000").narrowListPrefixes)
        #expect(try ObjectStoreLocation(url: "s3://bkt", endpoint: "http://localhost").narrowListPrefixes)
        #expect(try ObjectStoreLocation(url: "s3://bkt", endpoint: "http://[::1]:9000").narrowListPrefixes)
        #expect(try !ObjectStoreLocation(url: "s3://bkt", endpoint: "https://minio.example.com").narrowListPrefixes)
        #expect(try !ObjectStoreLocation(url: "s3://bkt").narrowListPrefixes)
        #expect(try !ObjectStoreLocation(url: "s3://bkt", endpoint: "http://127.0.0.1:5000", narrowListPrefixes: false).narrowListPrefixes)
    }

    @Test func fileURL() throws {
        #expect(try ObjectStoreLocation(url: "file:///var/lib/replicatord/out").target == .directory(path: "/var/lib/replicatord/out"))
    }

    @Test func invalidLocationsAreRefused() {
        for url in ["http://x", "s3://", "file://relative", "/tmp/x"] {
            #expect(throws: ObjectStoreError.self) { try ObjectStoreLocation(url: url) }
        }
        #expect(throws: ObjectStoreError.self) { try ObjectStoreLocation(url: "s3://bkt", partSize: 1024) }
        #expect(throws: ObjectStoreError.self) { try ObjectStoreLocation(url: "s3://bkt", parallelism: 0) }
    }

    @Test func sseOptions() throws {
        #expect(try ObjectStoreLocation.serverSideEncryption(sse: "", kmsKeyId: nil) == nil)
        #expect(try ObjectStoreLocation.serverSideEncryption(sse: "AES256", kmsKeyId: nil) == .s3)
        #expect(try ObjectStoreLocation.serverSideEncryption(sse: "aws:kms", kmsKeyId: "k1") == .kms(keyId: "k1"))
        #expect(throws: ObjectStoreError.self) { try ObjectStoreLocation.serverSideEncryption(sse: "rot13", kmsKeyId: nil) }
    }

    @Test func makeStoreAppliesThePrefix() throws {
        let creds = StaticCredentialsProvider(AWSCredentials(accessKeyId: "a", secretAccessKey: "s"))
        let store = try ObjectStoreLocation(url: "s3://bkt/p", endpoint: "http://127.0.0.1:1", pathStyle: true)
            .makeStore(logger: Logger(label: "test"), credentials: creds)
        let s3 = try #require(store as? S3ObjectStore)
        #expect(s3.prefix == "p/")
        #expect(s3.client.baseURL == "http://127.0.0.1:1")
        #expect(s3.client.path(for: "p/k") == "/bkt/p/k")
        let dir = try ObjectStoreLocation(url: "file://" + NSTemporaryDirectory() + "loc-" + UUID().uuidString)
            .makeStore(logger: Logger(label: "test"))
        #expect(dir is LocalDirectoryStore)
    }

    @Test func virtualHostedAddressingPutsTheBucketInTheHost() throws {
        let creds = StaticCredentialsProvider(AWSCredentials(accessKeyId: "a", secretAccessKey: "s"))
        let c = try S3Client(
            configuration: S3Configuration(bucket: "bkt", region: "eu-central-1"), credentials: creds,
            logger: Logger(label: "test"))
        #expect(c.baseURL == "https://bkt.s3.eu-central-1.amazonaws.com")
        #expect(c.host == "bkt.s3.eu-central-1.amazonaws.com")
        #expect(c.path(for: "a b") == "/a b")
        let custom = try S3Client(
            configuration: S3Configuration(bucket: "bkt", endpoint: "https://minio.local:443"),
            credentials: creds, logger: Logger(label: "test"))
        #expect(custom.host == "bkt.minio.local")
    }
}
