/// Decoders of S3's XML response bodies
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html and each operation's page).
package enum S3Responses {
    /// An S3 `<Error>` body.
    package struct ErrorBody: Sendable, Equatable {
        /// `AccessDenied`, `SlowDown`, ...
        package var code: String
        /// S3's message.
        package var message: String?
        /// Request id.
        package var requestId: String?
    }

    static func parse(_ body: [UInt8], expecting root: String) throws -> XMLElement {
        let doc: XMLElement
        do {
            doc = try XMLElement.parse(body)
        } catch {
            throw ObjectStoreError(.malformedResponse, "unreadable \(root) response", underlying: error)
        }
        guard doc.name == root else {
            throw ObjectStoreError(.malformedResponse, "expected <\(root)>, got <\(doc.name)>")
        }
        return doc
    }

    /// Decodes an `<Error>` body.
    package static func error(_ body: [UInt8]) throws -> ErrorBody {
        let doc = try parse(body, expecting: "Error")
        guard let code = doc.value("Code"), !code.isEmpty else {
            throw ObjectStoreError(.malformedResponse, "<Error> without <Code>")
        }
        return ErrorBody(code: code, message: doc.value("Message"), requestId: doc.value("RequestId"))
    }

    /// `<InitiateMultipartUploadResult>` -> upload id.
    package static func initiateMultipartUpload(_ body: [UInt8]) throws -> String {
        let doc = try parse(body, expecting: "InitiateMultipartUploadResult")
        guard let id = doc.value("UploadId"), !id.isEmpty else {
            throw ObjectStoreError(.malformedResponse, "<InitiateMultipartUploadResult> without <UploadId>")
        }
        return id
    }

    /// `<CompleteMultipartUploadResult>` -> ETag (unquoted); an `<Error>` inside a 200 answer throws it.
    package static func completeMultipartUpload(_ body: [UInt8], bucket: String, key: String) throws -> String {
        if let e = try? error(body) {
            let retryable = ["InternalError", "SlowDown"].contains(e.code)
            throw ObjectStoreError(
                retryable ? .unavailable : .invalidRequest, e.message ?? "CompleteMultipartUpload failed",
                bucket: bucket, key: key, operation: "CompleteMultipartUpload", httpStatus: 200,
                s3Code: e.code, requestId: e.requestId)
        }
        // moto_server names the root CompleteMultipartUploadResponse; AWS documents ...Result.
        let doc =
            try (try? parse(body, expecting: "CompleteMultipartUploadResponse"))
            ?? parse(body, expecting: "CompleteMultipartUploadResult")
        guard let etag = doc.value("ETag") else {
            throw ObjectStoreError(.malformedResponse, "<CompleteMultipartUploadResult> without <ETag>")
        }
        return S3Client.unquote(etag)
    }

    /// `<ListBucketResult>` of ListObjectsV2.
    package static func listObjectsV2(_ body: [UInt8]) throws -> S3Client.ListPage {
        let doc = try parse(body, expecting: "ListBucketResult")
        var objects: [ObjectInfo] = []
        for c in doc.children("Contents") {
            guard let key = c.value("Key"), let size = Int(c.value("Size") ?? "") else {
                throw ObjectStoreError(.malformedResponse, "<Contents> without <Key> or a numeric <Size>")
            }
            objects.append(
                ObjectInfo(
                    key: key, size: size, etag: S3Client.unquote(c.value("ETag") ?? ""),
                    lastModified: c.value("LastModified")))
        }
        let truncated = doc.value("IsTruncated") == "true"
        let token = doc.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && token == nil {
            throw ObjectStoreError(.malformedResponse, "truncated listing without <NextContinuationToken>")
        }
        return S3Client.ListPage(objects: objects, continuationToken: truncated ? token : nil)
    }

    /// `<ListMultipartUploadsResult>`: uploads and the next (key, upload id) markers when truncated.
    package static func listMultipartUploads(_ body: [UInt8]) throws -> (uploads: [OpenMultipartUpload], next: (String, String)?) {
        let doc = try parse(body, expecting: "ListMultipartUploadsResult")
        var uploads: [OpenMultipartUpload] = []
        for u in doc.children("Upload") {
            guard let key = u.value("Key"), let id = u.value("UploadId") else {
                throw ObjectStoreError(.malformedResponse, "<Upload> without <Key> or <UploadId>")
            }
            uploads.append(OpenMultipartUpload(key: key, uploadId: id, initiated: u.value("Initiated")))
        }
        guard doc.value("IsTruncated") == "true" else { return (uploads, nil) }
        guard let key = doc.value("NextKeyMarker"), let id = doc.value("NextUploadIdMarker"), !key.isEmpty else {
            throw ObjectStoreError(.malformedResponse, "truncated upload listing without next markers")
        }
        return (uploads, (key, id))
    }
}
