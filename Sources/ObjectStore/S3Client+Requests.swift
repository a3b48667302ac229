import AWSRequests
import Foundation
import Logging

/// Signing and sending one request, with retries; the ETag and CRC-32 checks of what was sent.
extension S3Client {
    static func unquote(_ etag: String) -> String {
        var e = Substring(etag)
        if e.hasPrefix("W/") { e = e.dropFirst(2) }
        if e.hasPrefix("\"") && e.hasSuffix("\"") && e.count >= 2 { e = e.dropFirst().dropLast() }
        return String(e)
    }

    func checkETag(_ etag: String, md5: [UInt8], operation: String, key: String) throws {
        guard configuration.verifyETags else { return }
        if case .kms = configuration.serverSideEncryption { return }  // SSE-KMS ETags are not MD5s
        let expected = Digest.hex(md5)
        guard etag.lowercased() == expected else {
            throw ObjectStoreError(
                .integrity, "ETag \(etag) differs from the MD5 of the bytes sent (\(expected))",
                bucket: configuration.bucket, key: key, operation: operation)
        }
    }

    func checkCRC(_ response: HTTPResponse, expected: String?, operation: String, key: String) throws {
        guard let expected, let answered = response.headers["x-amz-checksum-crc32"] else { return }
        guard answered == expected else {
            throw ObjectStoreError(
                .integrity, "CRC-32 \(answered) differs from the CRC-32 of the bytes sent (\(expected))",
                bucket: configuration.bucket, key: key, operation: operation)
        }
    }

    /// The URL path of `key` (not yet encoded).
    func path(for key: String?) -> String {
        guard let key else { return bucketPath.isEmpty ? "/" : bucketPath }
        return bucketPath + "/" + key
    }

    /// The signed request for an operation, as it goes on the wire (the URL's path and query are encoded
    /// exactly as signed).
    package func signedRequest(
        method: String, key: String?, query: [(String, String)] = [],
        headers extraHeaders: [(String, String)] = [], body: [UInt8] = [],
        payloadHash: String? = nil, credentials creds: AWSCredentials, amzDate: String
    ) -> HTTPRequest {
        let payloadHash = payloadHash ?? Digest.hex(Digest.sha256(body))
        let path = path(for: key)
        let canonicalQuery = SigV4Signer.canonicalQuery(query)
        let url = baseURL + SigV4Signer.uriEncode(path, encodeSlash: false) + (canonicalQuery.isEmpty ? "" : "?" + canonicalQuery)
        var headers = [("host", host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate)]
        if let token = creds.sessionToken { headers.append(("x-amz-security-token", token)) }
        headers += extraHeaders
        let signature = signer.sign(
            SigV4Signer.Request(
                method: method, path: path, query: query, headers: headers,
                payloadHash: payloadHash),
            accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, amzDate: amzDate)
        var sent = headers.filter { $0.0 != "host" }
        sent.append(("Authorization", signature.authorization))
        return HTTPRequest(method: method, url: url, headers: sent, body: body)
    }

    /// Signs and sends one request, retrying what can be retried; maps failures to `ObjectStoreError`.
    func execute(
        operation: String, method: String, key: String?, query: [(String, String)] = [],
        headers extraHeaders: [(String, String)] = [], body: [UInt8] = []
    ) async throws -> HTTPResponse {
        try await executeCountingRetries(
            operation: operation, method: method, key: key, query: query, headers: extraHeaders,
            body: body
        ).response
    }

    /// `execute`, also telling how many retries it took (a retried non-idempotent request may have
    /// taken effect more than once).
    func executeCountingRetries(
        operation: String, method: String, key: String?, query: [(String, String)] = [],
        headers extraHeaders: [(String, String)] = [],
        body: [UInt8] = []
    ) async throws -> (response: HTTPResponse, retries: Int) {
        let payloadHash = Digest.hex(Digest.sha256(body))
        let bucket = configuration.bucket
        let sent = try await sendRetrying(
            policy: configuration.retry, transport: transport,
            request: {
                let creds: AWSCredentials
                do {
                    creds = try await credentials.credentials()
                } catch let e as AWSCredentialsError {
                    throw ObjectStoreError(.credentials, e.message, underlying: e)
                } catch {
                    throw ObjectStoreError(.credentials, "cannot get credentials", underlying: error as NSError)
                }
                return signedRequest(
                    method: method, key: key, query: query, headers: extraHeaders, body: body,
                    payloadHash: payloadHash, credentials: creds, amzDate: SigV4Signer.amzDate(now()))
            },
            failure: { classify($0, operation: operation, key: key, method: method) },
            transportFailure: { ObjectStoreError(.transport, $0.message, bucket: bucket, key: key, operation: operation, underlying: $0) },
            retrying: { failure, attempt, delay in
                logger.debug(
                    "S3 request failed, retrying",
                    metadata: [
                        "s3.operation": "\(operation)", "s3.key": "\(key ?? "")", "s3.attempt": "\(attempt)",
                        "s3.retries": "\(attempt)", "s3.error": "\(failure.s3Code ?? failure.code.description)",
                        "http.status": "\(failure.httpStatus.map(String.init) ?? "-")", "retry.delay": "\(delay)",
                    ])
            },
            givingUp: { failure, retryable, reason, attempts in
                var e = failure
                e.attempts = attempts
                if retryable {
                    e = ObjectStoreError(
                        .unavailable, "\(failure.message) (gave up: \(reason))", bucket: e.bucket, key: e.key,
                        operation: operation, httpStatus: e.httpStatus, s3Code: e.s3Code, requestId: e.requestId,
                        attempts: attempts, underlying: failure)
                }
                return e
            })
        if sent.retries > 0 {
            logger.debug(
                "S3 request succeeded after retries",
                metadata: ["s3.operation": "\(operation)", "s3.key": "\(key ?? "")", "s3.retries": "\(sent.retries)"])
        }
        return sent
    }
}
