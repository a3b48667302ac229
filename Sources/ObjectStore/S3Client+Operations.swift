import AWSRequests
import Foundation
import Logging

/// The S3 operations: objects, listings, multipart uploads.
extension S3Client {
    /// PutObject: one request, atomic; returns the ETag (checked against the MD5 sent).
    public func putObject(key: String, bytes: [UInt8], contentType: String? = nil) async throws -> StoredObject {
        let md5 = Digest.md5(bytes)
        var headers = [("content-md5", Digest.base64(md5))]
        let crc = configuration.checksum.sendsCRC32 ? Digest.crc32Base64(bytes) : nil
        if let crc { headers.append(("x-amz-checksum-crc32", crc)) }
        if let contentType { headers.append(("content-type", contentType)) }
        headers += configuration.serverSideEncryption?.headers ?? []
        let response = try await execute(operation: "PutObject", method: "PUT", key: key, headers: headers, body: bytes)
        let etag = S3Client.unquote(response.headers["etag"] ?? "")
        try checkETag(etag, md5: md5, operation: "PutObject", key: key)
        try checkCRC(response, expected: crc, operation: "PutObject", key: key)
        return StoredObject(key: key, etag: etag, size: bytes.count)
    }

    /// GetObject: the whole object; `.notFound` when there is none.
    public func getObject(key: String) async throws -> [UInt8] {
        try await execute(operation: "GetObject", method: "GET", key: key).body
    }

    /// HeadObject: nil when there is no such object.
    public func headObject(key: String) async throws -> ObjectInfo? {
        do {
            let r = try await execute(operation: "HeadObject", method: "HEAD", key: key)
            return ObjectInfo(
                key: key, size: Int(r.headers["content-length"] ?? "") ?? 0,
                etag: S3Client.unquote(r.headers["etag"] ?? ""), lastModified: r.headers["last-modified"])
        } catch let e as ObjectStoreError where e.code == .notFound {
            return nil
        }
    }

    /// One page of ListObjectsV2.
    public struct ListPage: Sendable {
        /// Objects of this page (full keys).
        public var objects: [ObjectInfo]
        /// Token of the next page, nil on the last.
        public var continuationToken: String?
    }

    /// ListObjectsV2, one page.
    public func listObjectsV2(prefix: String, continuationToken: String? = nil, maxKeys: Int? = nil) async throws -> ListPage {
        var query = [("list-type", "2"), ("prefix", prefix)]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        let r = try await execute(operation: "ListObjectsV2", method: "GET", key: nil, query: query)
        return try S3Responses.listObjectsV2(r.body)
    }

    /// ListObjectsV2 over all pages.
    public func listAllObjects(prefix: String) async throws -> [ObjectInfo] {
        var out: [ObjectInfo] = []
        var token: String?
        let sent = listPrefix(prefix)
        repeat {
            let page = try await listObjectsV2(prefix: sent, continuationToken: token)
            out += page.objects
            token = page.continuationToken
        } while token != nil
        return sent == prefix ? out : out.filter { $0.key.hasPrefix(prefix) }
    }

    /// The prefix to send in a listing (see `S3Configuration.narrowListPrefixes`).
    func listPrefix(_ prefix: String) -> String {
        guard configuration.narrowListPrefixes else { return prefix }
        return String(
            prefix.unicodeScalars.prefix {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-._~ ".unicodeScalars.contains($0))
            })
    }

    /// DeleteObject (S3 answers 204 whether or not the object existed).
    public func deleteObject(key: String) async throws {
        _ = try await execute(operation: "DeleteObject", method: "DELETE", key: key)
    }

    /// CreateMultipartUpload: returns the upload id.
    public func createMultipartUpload(key: String, contentType: String? = nil) async throws -> String {
        var headers: [(String, String)] = []
        if let contentType { headers.append(("content-type", contentType)) }
        if configuration.checksum.sendsCRC32 { headers.append(("x-amz-checksum-algorithm", "CRC32")) }
        headers += configuration.serverSideEncryption?.headers ?? []
        let (r, retries) = try await executeCountingRetries(
            operation: "CreateMultipartUpload", method: "POST", key: key,
            query: [("uploads", "")], headers: headers)
        let id = try S3Responses.initiateMultipartUpload(r.body)
        if retries > 0 { await abortDuplicateUploads(key: key, keeping: id) }
        return id
    }

    /// After a retried CreateMultipartUpload, an earlier attempt whose answer was lost may have created
    /// an upload too: abort the other open uploads of exactly this key (replicatord writes each key
    /// from one writer only), so no orphan parts stay billed.
    func abortDuplicateUploads(key: String, keeping id: String) async {
        do {
            for upload in try await listMultipartUploads(prefix: key) where upload.key == key && upload.uploadId != id {
                try await abortMultipartUpload(key: key, uploadId: upload.uploadId)
                logger.debug(
                    "aborted a duplicate multipart upload left by a retried create",
                    metadata: [
                        "s3.key": "\(key)", "s3.upload_id": "\(upload.uploadId)",
                    ])
            }
        } catch {
            logger.warning(
                "cannot check for duplicate multipart uploads after a retried create",
                metadata: [
                    "s3.key": "\(key)", "error": "\(error)",
                ])
        }
    }

    /// A part as CompleteMultipartUpload lists it.
    public struct CompletedPart: Sendable, Equatable {
        /// Part number, from 1.
        public var number: Int
        /// The ETag UploadPart returned (unquoted).
        public var etag: String
        /// Base64 CRC-32 of the part, when the upload was created with `x-amz-checksum-algorithm: CRC32`.
        public var checksumCRC32: String?

        /// A completed part.
        public init(number: Int, etag: String, checksumCRC32: String? = nil) {
            self.number = number
            self.etag = etag
            self.checksumCRC32 = checksumCRC32
        }
    }

    /// UploadPart: the part as Complete must list it. Checked as `configuration.checksum` says: its
    /// CRC-32 against the one S3 answers, and/or its ETag against the MD5 sent.
    public func uploadPart(key: String, uploadId: String, partNumber: Int, bytes: [UInt8]) async throws -> CompletedPart {
        var headers: [(String, String)] = []
        var md5: [UInt8]?
        if configuration.checksum.checksPartMD5 {
            md5 = Digest.md5(bytes)
            headers.append(("content-md5", Digest.base64(md5!)))
        }
        let crc = configuration.checksum.sendsCRC32 ? Digest.crc32Base64(bytes) : nil
        if let crc { headers.append(("x-amz-checksum-crc32", crc)) }
        let r = try await execute(
            operation: "UploadPart", method: "PUT", key: key,
            query: [("partNumber", String(partNumber)), ("uploadId", uploadId)],
            headers: headers, body: bytes)
        let etag = S3Client.unquote(r.headers["etag"] ?? "")
        if let md5 { try checkETag(etag, md5: md5, operation: "UploadPart", key: key) }
        try checkCRC(r, expected: crc, operation: "UploadPart", key: key)
        return CompletedPart(number: partNumber, etag: etag, checksumCRC32: crc)
    }

    /// CompleteMultipartUpload with `parts` in ascending order; returns the final ETag.
    /// An error inside a 200 answer (as S3 may send) is reported as an error.
    public func completeMultipartUpload(key: String, uploadId: String, parts: [CompletedPart]) async throws -> String {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\"\(part.etag)\"</ETag>"
            if let crc = part.checksumCRC32 { xml += "<ChecksumCRC32>\(crc)</ChecksumCRC32>" }
            xml += "</Part>"
        }
        xml += "</CompleteMultipartUpload>"
        do {
            let r = try await execute(
                operation: "CompleteMultipartUpload", method: "POST", key: key,
                query: [("uploadId", uploadId)], headers: [("content-type", "application/xml")],
                body: Array(xml.utf8))
            return try S3Responses.completeMultipartUpload(r.body, bucket: configuration.bucket, key: key)
        } catch let e as ObjectStoreError where e.code == .notFound && (e.attempts ?? 1) > 1 {
            // A retry after a lost answer finds the upload gone: it completed if the object is there with
            // the ETag those parts make.
            let expected = S3Client.multipartETag(parts: parts)
            if let expected, let info = try await headObject(key: key), info.etag == expected {
                logger.debug("CompleteMultipartUpload answer was lost; the object is stored", metadata: ["s3.key": "\(key)"])
                return expected
            }
            throw e
        }
    }

    /// The ETag S3 gives a multipart object: MD5 of the parts' binary MD5s, a dash, the part count; nil
    /// when a part ETag is not an MD5 (SSE-KMS).
    static func multipartETag(parts: [CompletedPart]) -> String? {
        var all: [UInt8] = []
        for part in parts {
            let hex = Array(part.etag.utf8)
            guard hex.count == 32 else { return nil }
            var i = 0
            while i < 32 {
                guard let byte = UInt8(String(decoding: hex[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
                all.append(byte)
                i += 2
            }
        }
        return Digest.hex(Digest.md5(all)) + "-\(parts.count)"
    }

    /// AbortMultipartUpload; an upload already gone is not an error.
    public func abortMultipartUpload(key: String, uploadId: String) async throws {
        do {
            _ = try await execute(operation: "AbortMultipartUpload", method: "DELETE", key: key, query: [("uploadId", uploadId)])
        } catch let e as ObjectStoreError where e.code == .notFound {
            return
        }
    }

    /// ListMultipartUploads over all pages (full keys).
    public func listMultipartUploads(prefix: String) async throws -> [OpenMultipartUpload] {
        var out: [OpenMultipartUpload] = []
        var markers: (String, String)?
        let sent = listPrefix(prefix)
        repeat {
            var query = [("uploads", ""), ("prefix", sent)]
            if let (key, id) = markers { query += [("key-marker", key), ("upload-id-marker", id)] }
            let r = try await execute(operation: "ListMultipartUploads", method: "GET", key: nil, query: query)
            let page = try S3Responses.listMultipartUploads(r.body)
            out += page.uploads
            markers = page.next
        } while markers != nil
        return sent == prefix ? out : out.filter { $0.key.hasPrefix(prefix) }
    }

    /// CreateBucket (in the client's region); an existing bucket we own is not an error.
    public func createBucket() async throws {
        var body: [UInt8] = []
        if configuration.region != "us-east-1" {
            body = Array(
                ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
                    + configuration.region + "</LocationConstraint></CreateBucketConfiguration>").utf8)
        }
        do {
            _ = try await execute(operation: "CreateBucket", method: "PUT", key: nil, body: body)
        } catch let e as ObjectStoreError where e.s3Code == "BucketAlreadyOwnedByYou" {
            return
        }
    }
}
