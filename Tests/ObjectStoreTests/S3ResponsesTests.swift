import Testing
@testable import ObjectStore

@Suite struct S3ResponsesTests {
    @Test func errorBody() throws {
        let e = try S3Responses.error(
            Array(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message>
                <Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>
                """.utf8))
        #expect(
            e
                == S3Responses.ErrorBody(
                    code: "NoSuchKey", message: "The resource you requested does not exist",
                    requestId: "4442587FB7D0A2F9"))
    }

    @Test func errorBodyWithoutCodeIsMalformed() {
        #expect(throws: ObjectStoreError.self) { try S3Responses.error(Array("<Error><Message>x</Message></Error>".utf8)) }
    }

    @Test func initiateMultipartUpload() throws {
        let id = try S3Responses.initiateMultipartUpload(
            Array(
                """
                <InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>k</Key>
                <UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>
                """.utf8))
        #expect(id == "VXBsb2FkIElE")
    }

    @Test func completeMultipartUploadResult() throws {
        let etag = try S3Responses.completeMultipartUpload(
            Array(
                """
                <CompleteMultipartUploadResult><Location>http://x</Location><Bucket>b</Bucket><Key>k</Key>
                <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag></CompleteMultipartUploadResult>
                """.utf8), bucket: "b", key: "k")
        #expect(etag == "3858f62230ac3c915f300c664312c11f-9")
    }

    @Test func completeMultipartUploadErrorInsideA200IsThrown() {
        do {
            _ = try S3Responses.completeMultipartUpload(
                Array(
                    "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>".utf8),
                bucket: "b", key: "k")
            Issue.record("expected an error")
        } catch let e as ObjectStoreError {
            #expect(e.code == .unavailable)
            #expect(e.s3Code == "InternalError")
            #expect(e.bucket == "b" && e.key == "k")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func listObjectsV2Page() throws {
        let page = try S3Responses.listObjectsV2(
            Array(
                """
                <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
                <KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
                <Contents><Key>p/a</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents>
                <Contents><Key>p/b &amp; c</Key><ETag>"x"</ETag><Size>0</Size></Contents>
                <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>
                """.utf8))
        #expect(
            page.objects == [
                ObjectInfo(key: "p/a", size: 434234, etag: "fba9dede5f27731c9771645a39863328", lastModified: "2009-10-12T17:50:30.000Z"),
                ObjectInfo(key: "p/b & c", size: 0, etag: "x"),
            ])
        #expect(page.continuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    }

    @Test func listObjectsV2LastPageHasNoToken() throws {
        let page = try S3Responses.listObjectsV2(Array("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>".utf8))
        #expect(page.objects.isEmpty && page.continuationToken == nil)
    }

    @Test func listObjectsV2FailsWhenSizeIsNotANumber() {
        #expect(throws: ObjectStoreError.self) {
            try S3Responses.listObjectsV2(Array("<ListBucketResult><Contents><Key>a</Key><Size>x</Size></Contents></ListBucketResult>".utf8))
        }
    }

    @Test func listObjectsV2FailsWhenTruncatedWithoutToken() {
        #expect(throws: ObjectStoreError.self) {
            try S3Responses.listObjectsV2(Array("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>".utf8))
        }
    }

    @Test func listMultipartUploads() throws {
        let r = try S3Responses.listMultipartUploads(
            Array(
                """
                <ListMultipartUploadsResult><Bucket>b</Bucket><NextKeyMarker>my-movie.m2ts</NextKeyMarker>
                <NextUploadIdMarker>YW55IGlkZWEgd2h5</NextUploadIdMarker><IsTruncated>true</IsTruncated>
                <Upload><Key>my-divisor</Key><UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5n</UploadId><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>
                </ListMultipartUploadsResult>
                """.utf8))
        #expect(
            r.uploads == [
                OpenMultipartUpload(
                    key: "my-divisor", uploadId: "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5n",
                    initiated: "2010-11-10T20:48:33.000Z")
            ])
        #expect(r.next?.0 == "my-movie.m2ts" && r.next?.1 == "YW55IGlkZWEgd2h5")
    }

    @Test func wrongRootIsMalformed() {
        #expect(throws: ObjectStoreError.self) { try S3Responses.initiateMultipartUpload(Array("<Other/>".utf8)) }
    }
}
