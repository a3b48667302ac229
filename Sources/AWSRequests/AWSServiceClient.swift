import Foundation
import Logging

/// Signed, retried calls to one AWS service in one region, for the services spoken over a single POST:
/// the JSON protocols (`X-Amz-Target: <prefix>.<Operation>`, Glue's JSON 1.1 among them) and the query
/// protocol (form-encoded `Action=...&Version=...`, as CloudWatch's PutMetricData). S3 has its own client.
///
/// Every attempt is signed afresh (SigV4, https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)
/// with credentials from the provider; throttling, 5xx answers and retryable network failures are
/// retried under `retry` (capped exponential backoff with full jitter); other failures are thrown at once
/// as `AWSServiceError`.
public struct AWSServiceClient: Sendable {
    /// Signing name of the service (`glue`, `monitoring`, ...).
    public let service: String
    /// Region of the credential scope.
    public let region: String
    /// Where requests go.
    public let endpoint: AWSEndpoint
    /// Retries of each call.
    public let retry: RetryPolicy
    let credentials: any CredentialsProvider
    let transport: any HTTPTransport
    let logger: Logger
    let now: @Sendable () -> Date

    /// A client for `service` in `region` at `endpoint` (nil or empty: AWS's own), over libcurl.
    public init(
        service: String, region: String, endpoint: String?, credentials: any CredentialsProvider,
        retry: RetryPolicy = RetryPolicy(), caFile: String? = nil, logger: Logger
    ) throws {
        try self.init(
            service: service, region: region, endpoint: endpoint, credentials: credentials, retry: retry,
            logger: logger, transport: CurlTransport(options: CurlTransportOptions(caFile: caFile)))
    }

    /// A client over `transport` with the clock `now` (tests).
    package init(
        service: String, region: String, endpoint: String?, credentials: any CredentialsProvider,
        retry: RetryPolicy = RetryPolicy(), logger: Logger, transport: any HTTPTransport,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard !region.isEmpty, region.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw AWSServiceError(.configuration, "invalid region \"\(region)\"", service: service)
        }
        self.service = service
        self.region = region
        self.endpoint = try AWSEndpoint(url: endpoint, service: service, region: region)
        self.retry = retry
        self.credentials = credentials
        self.transport = transport
        self.logger = logger
        self.now = now
    }

    /// One call of a JSON-protocol operation: `POST /` with `X-Amz-Target: <targetPrefix>.<operation>` and
    /// `Content-Type: application/x-amz-json-<jsonVersion>`; returns the answer's body (a JSON document).
    public func callJSON(targetPrefix: String, operation: String, jsonVersion: String = "1.1", body: [UInt8]) async throws -> [UInt8] {
        let headers = [("content-type", "application/x-amz-json-\(jsonVersion)"), ("x-amz-target", "\(targetPrefix).\(operation)")]
        return try await send(operation: operation, method: "POST", path: "/", headers: headers, body: body).body
    }

    /// One call of a query-protocol operation: `POST /` with the form `Action=<operation>&Version=<version>`
    /// and `parameters`; returns the answer's body (an XML document).
    public func callQuery(operation: String, version: String, parameters: [(String, String)]) async throws -> [UInt8] {
        let form = SigV4Signer.canonicalQuery([("Action", operation), ("Version", version)] + parameters)
        let headers = [("content-type", "application/x-www-form-urlencoded; charset=utf-8")]
        return try await send(operation: operation, method: "POST", path: "/", headers: headers, body: Array(form.utf8)).body
    }

    /// Signs and sends one request (retrying what can be retried) and returns a 2xx answer; any other
    /// outcome is thrown as `AWSServiceError`.
    package func send(
        operation: String, method: String, path: String, query: [(String, String)] = [],
        headers: [(String, String)] = [], body: [UInt8] = []
    ) async throws -> HTTPResponse {
        let payloadHash = Digest.hex(Digest.sha256(body))
        return try await sendRetrying(
            policy: retry, transport: transport,
            request: {
                let creds: AWSCredentials
                do {
                    creds = try await credentials.credentials()
                } catch let e as AWSCredentialsError {
                    throw AWSServiceError(.credentials, e.message, service: service, operation: operation, underlying: e)
                }
                return signedRequest(
                    method: method, path: path, query: query, headers: headers, body: body,
                    payloadHash: payloadHash, credentials: creds, amzDate: SigV4Signer.amzDate(now()))
            },
            failure: { classify($0, operation: operation) },
            transportFailure: { AWSServiceError(.transport, $0.message, service: service, operation: operation, underlying: $0) },
            retrying: { failure, attempt, delay in
                logger.debug(
                    "AWS request failed, retrying",
                    metadata: [
                        "aws.service": "\(service)", "aws.operation": "\(operation)", "aws.attempt": "\(attempt)",
                        "aws.error": "\(failure.awsCode ?? failure.code.description)",
                        "http.status": "\(failure.httpStatus.map(String.init) ?? "-")", "retry.delay": "\(delay)",
                    ])
            },
            givingUp: { failure, retryable, reason, attempts in
                var e = failure
                e.attempts = attempts
                if retryable {
                    e = AWSServiceError(
                        .unavailable, "\(failure.message) (gave up: \(reason))", service: service,
                        operation: operation, httpStatus: failure.httpStatus, awsCode: failure.awsCode,
                        requestId: failure.requestId, attempts: attempts, underlying: failure)
                }
                return e
            }
        ).response
    }

    /// The request as it goes on the wire, signed at `amzDate`: `host`, `x-amz-date`, the session token
    /// when there is one, and every header of `headers` are signed.
    package func signedRequest(
        method: String, path: String, query: [(String, String)], headers extraHeaders: [(String, String)],
        body: [UInt8], payloadHash: String, credentials creds: AWSCredentials, amzDate: String
    ) -> HTTPRequest {
        let canonicalQuery = SigV4Signer.canonicalQuery(query)
        let url = endpoint.baseURL + SigV4Signer.uriEncode(path, encodeSlash: false) + (canonicalQuery.isEmpty ? "" : "?" + canonicalQuery)
        var headers = [("host", endpoint.host), ("x-amz-date", amzDate)]
        if let token = creds.sessionToken { headers.append(("x-amz-security-token", token)) }
        headers += extraHeaders
        let signature = SigV4Signer(region: region, service: service).sign(
            SigV4Signer.Request(method: method, path: path, query: query, headers: headers, payloadHash: payloadHash),
            accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, amzDate: amzDate)
        var sent = headers.filter { $0.0 != "host" }
        sent.append(("Authorization", signature.authorization))
        return HTTPRequest(method: method, url: url, headers: sent, body: body)
    }

    /// Maps a non-2xx answer to an error and whether retrying may help.
    package func classify(_ response: HTTPResponse, operation: String) -> (AWSServiceError, Bool) {
        let parsed = AWSErrorBody.parse(response)
        let awsCode = parsed.code
        let message = parsed.message ?? "HTTP \(response.status)"
        let requestId = response.headers["x-amzn-requestid"] ?? response.headers["x-amz-request-id"] ?? parsed.requestId
        let code: AWSServiceError.Code
        let retryable: Bool
        if response.status >= 500 || response.status == 429 || AWSErrorBody.throttlingCodes.contains(awsCode ?? "") {
            (code, retryable) = (.unavailable, true)
        } else if response.status == 403 || AWSErrorBody.accessCodes.contains(awsCode ?? "") {
            (code, retryable) = (.accessDenied, false)
        } else {
            (code, retryable) = (.rejected, false)
        }
        return (
            AWSServiceError(
                code, message, service: service, operation: operation, httpStatus: response.status,
                awsCode: awsCode, requestId: requestId), retryable
        )
    }
}

/// The error document of an AWS answer, in the JSON protocols' form (`{"__type": "ns#Code", "message": ...}`,
/// or the `x-amzn-ErrorType` header) or the query/REST-XML form (`<Error><Code>...</Code><Message>...`).
package struct AWSErrorBody: Sendable, Equatable {
    /// The error code without its namespace or URL (`EntityNotFoundException`).
    package var code: String?
    /// The service's message.
    package var message: String?
    /// The request id in the body, when the headers carry none.
    package var requestId: String?

    /// Codes meaning "slow down": retried.
    package static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
        "RequestThrottled", "RequestThrottledException", "SlowDown", "ServiceUnavailable", "ServiceUnavailableException",
        "InternalFailure", "InternalServiceException", "InternalError", "RequestTimeout", "RequestTimeoutException",
    ]
    /// Codes meaning the identity or its signature is refused.
    package static let accessCodes: Set<String> = [
        "AccessDenied", "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
        "SignatureDoesNotMatch", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "MissingAuthenticationToken",
        "IncompleteSignature", "InvalidAccessKeyId", "NotAuthorized",
    ]

    /// Reads whatever error form `response` has; fields stay nil where there is none.
    package static func parse(_ response: HTTPResponse) -> AWSErrorBody {
        var out = AWSErrorBody()
        if let header = response.headers["x-amzn-errortype"], !header.isEmpty { out.code = shortCode(header) }
        let body = response.body
        if let first = body.first(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }) {
            if first == UInt8(ascii: "{"),
                let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
            {
                if let type = (object["__type"] ?? object["code"] ?? object["Code"]) as? String { out.code = shortCode(type) }
                out.message = (object["message"] ?? object["Message"]) as? String
            } else if first == UInt8(ascii: "<") {
                let text = String(decoding: body, as: UTF8.self)
                if let code = element("Code", in: text) { out.code = code }
                out.message = element("Message", in: text)
                out.requestId = element("RequestId", in: text)
            }
        }
        if out.message?.isEmpty == true { out.message = nil }
        return out
    }

    /// `aws.glue#EntityNotFoundException` or `EntityNotFoundException:http://...` -> `EntityNotFoundException`.
    static func shortCode(_ raw: String) -> String {
        var s = Substring(raw)
        if let colon = s.firstIndex(of: ":") { s = s[..<colon] }
        if let hash = s.lastIndex(of: "#") { s = s[s.index(after: hash)...] }
        return s.trimmingCharacters(in: .whitespaces)
    }

    /// The text of the first `<name>...</name>` in `xml`, entities for `&<>"'` decoded.
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"),
            let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex)
        else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
