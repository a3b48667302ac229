import Foundation

/// AWS Signature Version 4 over headers, as specified in
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
/// (canonical request, string to sign, derived signing key, `Authorization` header).
///
/// The signer is pure: it does no I/O and takes the time as an argument, so it is tested against AWS's
/// published test vectors and botocore's signer.
package struct SigV4Signer: Sendable {
    /// Region of the credential scope, e.g. `us-east-1`.
    package var region: String
    /// Service of the credential scope: `s3`, `glue`, `monitoring` (CloudWatch), `service` in AWS's test suite.
    package var service: String

    /// A signer for `service` in `region`.
    package init(region: String, service: String = "s3") {
        self.region = region
        self.service = service
    }

    /// What is signed: the request as it goes on the wire.
    package struct Request: Sendable {
        /// `GET`, `PUT`, ...
        package var method: String
        /// The path, not yet percent-encoded (`/bucket/my key`); each byte but `/` and the unreserved ones is encoded once.
        package var path: String
        /// Query parameters, not yet percent-encoded, in any order.
        package var query: [(String, String)]
        /// Headers to sign (must include `host`), in any order and case; duplicates are joined with commas.
        package var headers: [(String, String)]
        /// Lowercase hex SHA-256 of the body (or `UNSIGNED-PAYLOAD`).
        package var payloadHash: String

        /// A request to sign.
        package init(method: String, path: String, query: [(String, String)] = [], headers: [(String, String)], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The pieces of one signature, for tests and debugging (never logged: the signature is not secret but
    /// the canonical request can carry header values).
    package struct Signature: Sendable {
        /// The canonical request.
        package var canonicalRequest: String
        /// The string to sign.
        package var stringToSign: String
        /// Semicolon-separated lowercase header names.
        package var signedHeaders: String
        /// Lowercase hex signature.
        package var signature: String
        /// The full `Authorization` header value.
        package var authorization: String
    }

    /// Signs `request` at `amzDate` (`YYYYMMDDTHHMMSSZ`, which must also be the request's `x-amz-date`).
    package func sign(_ request: Request, accessKeyId: String, secretAccessKey: String, amzDate: String) -> Signature {
        let day = String(amzDate.prefix(8))
        var grouped: [String: [String]] = [:]
        for (name, value) in request.headers {
            grouped[name.lowercased(), default: []].append(Self.trimmedHeaderValue(value))
        }
        let names = grouped.keys.sorted()
        var canonicalHeaders = ""
        for name in names {
            canonicalHeaders += name + ":" + grouped[name]!.joined(separator: ",") + "\n"
        }
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [
            request.method,
            Self.uriEncode(request.path, encodeSlash: false),
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n" + Digest.hex(Digest.sha256(Array(canonicalRequest.utf8)))
        let kDate = Digest.hmacSHA256(key: Array(("AWS4" + secretAccessKey).utf8), day)
        let kRegion = Digest.hmacSHA256(key: kDate, region)
        let kService = Digest.hmacSHA256(key: kRegion, service)
        let kSigning = Digest.hmacSHA256(key: kService, "aws4_request")
        let signature = Digest.hex(Digest.hmacSHA256(key: kSigning, stringToSign))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signedHeaders: signedHeaders,
            signature: signature, authorization: authorization)
    }

    /// The sorted, encoded query string, also used as the query of the URL sent, so both always agree.
    package static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (uriEncode($0.0, encodeSlash: true), uriEncode($0.1, encodeSlash: true)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// RFC 3986 percent-encoding of every byte but the unreserved ones (and `/` unless `encodeSlash`), uppercase hex.
    package static func uriEncode(_ s: String, encodeSlash: Bool) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where !encodeSlash:
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0x0f)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Header value with leading/trailing spaces removed and inner runs of spaces collapsed to one.
    static func trimmedHeaderValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for ch in value {
            if ch == " " || ch == "\t" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(ch)
            }
        }
        return out
    }

    /// `YYYYMMDDTHHMMSSZ` for `date` in UTC.
    package static func amzDate(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "Z"
    }
}
