import AWSRequests
import Foundation
import Logging

/// S3's error answers as ``ObjectStoreError``s, and which of them a retry may cure.
extension S3Client {
    /// Maps a non-2xx answer to an error and whether retrying may help.
    func classify(_ response: HTTPResponse, operation: String, key: String?, method: String) -> (ObjectStoreError, Bool) {
        let parsed = method == "HEAD" ? nil : try? S3Responses.error(response.body)
        let s3Code = parsed?.code ?? S3Client.defaultCode(status: response.status)
        let message = parsed?.message.flatMap { $0.isEmpty ? nil : $0 } ?? "HTTP \(response.status)"
        let requestId = parsed?.requestId ?? response.headers["x-amz-request-id"]
        let retryable: Bool
        let code: ObjectStoreError.Code
        switch (response.status, s3Code) {
        case (_, "SlowDown"), (_, "InternalError"), (_, "RequestTimeout"), (_, "ServiceUnavailable"), (500...599, _):
            code = .unavailable; retryable = true
        case (_, "NoSuchBucket"):
            code = .noSuchBucket; retryable = false
        case (_, "NoSuchKey"), (_, "NoSuchUpload"), (404, _):
            code = .notFound; retryable = false
        case (_, "AccessDenied"), (_, "SignatureDoesNotMatch"), (_, "InvalidAccessKeyId"), (_, "ExpiredToken"),
            (_, "InvalidToken"), (403, _):
            code = .accessDenied; retryable = false
        case (_, "BadDigest"):
            code = .integrity; retryable = true
        default:
            code = .invalidRequest; retryable = false
        }
        var detail = message
        if s3Code == "AuthorizationHeaderMalformed" || s3Code == "PermanentRedirect" || response.status == 301 {
            detail += " (is the region \(configuration.region) right for bucket \(configuration.bucket)?)"
        }
        let error = ObjectStoreError(
            code, detail, bucket: configuration.bucket, key: key, operation: operation,
            httpStatus: response.status, s3Code: s3Code, requestId: requestId)
        return (error, retryable)
    }

    static func defaultCode(status: Int) -> String {
        switch status {
        case 301: return "PermanentRedirect"
        case 403: return "AccessDenied"
        case 404: return "NotFound"
        case 503: return "SlowDown"
        default: return "HTTP\(status)"
        }
    }
}
