import Foundation
import ObjectStore

/// A CloudWatch API error: the HTTP status and, when the body says, AWS's error code and message.
struct CloudWatchError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status, or 0 when no answer came.
    var status: Int
    /// AWS's error code (`AccessDenied`, `InvalidParameterValue`, ...), when the body names one.
    var code: String?
    /// AWS's message, or what went wrong on the way.
    var message: String
    /// The transport's or the credentials' error, when one caused this.
    var underlying: (any Error)?

    var description: String {
        let head = status == 0 ? "CloudWatch request failed" : "CloudWatch answered \(status)\(code.map { " \($0)" } ?? "")"
        return message.isEmpty ? head : "\(head): \(message)"
    }
}

/// Sends `PutMetricData` calls (the query protocol) to CloudWatch, signed with SigV4 (service
/// `monitoring`) by ObjectStore's signer, over its HTTP transport, with the credentials chain the
/// S3 client uses (environment, shared file, instance profile).
struct CloudWatchClient: Sendable {
    /// `scheme://host[:port]`, no path.
    let endpoint: String
    /// The `host` header value (`host[:port]`).
    let host: String
    let signer: SigV4Signer
    let credentials: any CredentialsProvider
    let transport: any HTTPTransport
    let now: @Sendable () -> Date

    /// A client of `endpoint` (`http(s)://host[:port]`) in `region`.
    init(endpoint: String, region: String, credentials: any CredentialsProvider, transport: any HTTPTransport,
         now: @escaping @Sendable () -> Date = { Date() }) throws(CloudWatchError) {
        guard let schemeEnd = endpoint.range(of: "://") else {
            throw CloudWatchError(status: 0, message: "endpoint must be http(s)://host[:port], got \(endpoint)")
        }
        let rest = endpoint[schemeEnd.upperBound...]
        let authority = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !authority.isEmpty else { throw CloudWatchError(status: 0, message: "endpoint has no host: \(endpoint)") }
        let scheme = endpoint[..<schemeEnd.lowerBound].lowercased()
        // The default port is not part of the host header that the signature covers.
        if (scheme == "https" && authority.hasSuffix(":443")) || (scheme == "http" && authority.hasSuffix(":80")) {
            host = String(authority[..<authority.lastIndex(of: ":")!])
        } else {
            host = authority
        }
        self.endpoint = scheme + "://" + authority
        self.signer = SigV4Signer(region: region, service: "monitoring")
        self.credentials = credentials
        self.transport = transport
        self.now = now
    }

    /// The signed HTTP request of a form-encoded query-protocol `body`.
    func request(body: String, credentials creds: AWSCredentials) -> HTTPRequest {
        let bytes = Array(body.utf8)
        let payloadHash = Digest.hex(Digest.sha256(bytes))
        let amzDate = SigV4Signer.amzDate(now())
        var headers = [("host", host), ("content-type", "application/x-www-form-urlencoded; charset=utf-8"), ("x-amz-date", amzDate)]
        if let token = creds.sessionToken { headers.append(("x-amz-security-token", token)) }
        let signature = signer.sign(SigV4Signer.Request(method: "POST", path: "/", headers: headers, payloadHash: payloadHash),
                                    accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, amzDate: amzDate)
        var sent = headers.filter { $0.0 != "host" }
        sent.append(("authorization", signature.authorization))
        return HTTPRequest(method: "POST", url: endpoint + "/", headers: sent, body: bytes)
    }

    /// Sends one query-protocol call; throws ``CloudWatchError`` unless CloudWatch answers 200.
    func send(body: String) async throws(CloudWatchError) {
        let creds: AWSCredentials
        do {
            creds = try await credentials.credentials()
        } catch {
            throw CloudWatchError(status: 0, message: "no AWS credentials", underlying: error)
        }
        let response: HTTPResponse
        do {
            response = try await transport.send(request(body: body, credentials: creds))
        } catch {
            throw CloudWatchError(status: 0, message: "\(error)", underlying: error)
        }
        guard response.status == 200 else {
            let root = try? XMLElement.parse(response.body)
            let error = root?.child("Error") ?? root
            throw CloudWatchError(status: response.status, code: error?.value("Code"), message: error?.value("Message") ?? "")
        }
    }
}
