import Foundation
import Synchronization

/// AWS credentials. `description` never shows the secret or the session token.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    /// Access key id (not secret; logged as the identity).
    public var accessKeyId: String
    /// Secret access key.
    public var secretAccessKey: String
    /// Session token of temporary credentials.
    public var sessionToken: String?
    /// When temporary credentials expire.
    public var expiration: Date?

    /// Credentials.
    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        "AWSCredentials(accessKeyId: \(accessKeyId), secret: <redacted>\(sessionToken == nil ? "" : ", session token: <redacted>"))"
    }
}

/// Something that yields credentials, refreshing them when they are about to expire.
public protocol CredentialsProvider: Sendable {
    /// Current credentials; throws `AWSCredentialsError` when there are none.
    func credentials() async throws -> AWSCredentials
}

/// Fixed credentials.
public struct StaticCredentialsProvider: CredentialsProvider {
    let value: AWSCredentials
    /// A provider that always returns `credentials`.
    public init(_ credentials: AWSCredentials) { value = credentials }
    public func credentials() async throws -> AWSCredentials { value }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialsProvider: CredentialsProvider {
    let environment: [String: String]
    /// Reads `environment` (the process's by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) { self.environment = environment }

    public func credentials() async throws -> AWSCredentials {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else {
            throw AWSCredentialsError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token)
    }
}

/// The shared credentials file (`~/.aws/credentials`, or `AWS_SHARED_CREDENTIALS_FILE`) and config file
/// (`~/.aws/config`, or `AWS_CONFIG_FILE`, sections `[profile NAME]`), profile `AWS_PROFILE` or `default`.
public struct ProfileCredentialsProvider: CredentialsProvider {
    let credentialsFile: String
    let configFile: String
    let profile: String

    /// Paths and profile from `environment`, with the SDKs' defaults.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        credentialsFile = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
        configFile = environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
        profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
    }

    public func credentials() async throws -> AWSCredentials {
        for (path, section) in [(credentialsFile, profile), (configFile, profile == "default" ? "default" : "profile \(profile)")] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let values = ProfileCredentialsProvider.parseINI(text)[section] ?? [:]
            if let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] {
                return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: values["aws_session_token"])
            }
        }
        throw AWSCredentialsError("no keys for profile \(profile) in \(credentialsFile) or \(configFile)")
    }

    /// Sections of an INI file: `[name]` headers, `key = value` lines, `#`/`;` comments.
    package static func parseINI(_ text: String) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        var section: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let section, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            out[section, default: [:]][key] = value
        }
        return out
    }
}

/// EC2 instance metadata with the IMDSv2 token flow
/// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html): PUT a session
/// token, GET the role name, GET the role's credentials; cached and refreshed 5 minutes before expiry.
public final class InstanceMetadataCredentialsProvider: CredentialsProvider {
    let endpoint: String
    let transport: any HTTPTransport
    let now: @Sendable () -> Date
    private let cache = Mutex<AWSCredentials?>(nil)

    /// A provider asking `endpoint` (`AWS_EC2_METADATA_SERVICE_ENDPOINT` or `http://169.254.169.254`).
    public convenience init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(
            endpoint: environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254",
            transport: CurlTransport(
                options: {
                    var o = CurlTransportOptions(); o.connectTimeoutSeconds = 1; o.stallTimeoutSeconds = 2; return o
                }()))
    }

    package init(endpoint: String, transport: any HTTPTransport, now: @escaping @Sendable () -> Date = { Date() }) {
        var e = endpoint
        while e.hasSuffix("/") { e.removeLast() }
        self.endpoint = e
        self.transport = transport
        self.now = now
    }

    public func credentials() async throws -> AWSCredentials {
        if let cached = cache.withLock({ $0 }), let exp = cached.expiration, exp.timeIntervalSince(now()) > 300 {
            return cached
        }
        let fresh = try await fetch()
        cache.withLock { $0 = fresh }
        return fresh
    }

    private func fetch() async throws -> AWSCredentials {
        func fail(_ message: String, _ cause: (any Error & Sendable)? = nil) -> AWSCredentialsError {
            AWSCredentialsError("instance metadata: \(message)", underlying: cause)
        }
        let tokenResponse: HTTPResponse
        do {
            tokenResponse = try await transport.send(
                HTTPRequest(
                    method: "PUT", url: endpoint + "/latest/api/token",
                    headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")]))
        } catch let e as TransportError {
            throw fail("unreachable", e)
        }
        guard tokenResponse.status == 200 else { throw fail("token request answered \(tokenResponse.status)") }
        let token = String(decoding: tokenResponse.body, as: UTF8.self)
        let header = [("X-aws-ec2-metadata-token", token)]
        let base = endpoint + "/latest/meta-data/iam/security-credentials/"
        let roleResponse = try await transport.send(HTTPRequest(method: "GET", url: base, headers: header))
        guard roleResponse.status == 200,
            let role = String(decoding: roleResponse.body, as: UTF8.self).split(whereSeparator: \.isNewline).first
        else {
            throw fail("no IAM role attached (status \(roleResponse.status))")
        }
        let credResponse = try await transport.send(HTTPRequest(method: "GET", url: base + role, headers: header))
        guard credResponse.status == 200 else { throw fail("role credentials answered \(credResponse.status)") }
        struct Document: Decodable {
            var AccessKeyId: String
            var SecretAccessKey: String
            var Token: String?
            var Expiration: String?
        }
        let doc: Document
        do {
            doc = try JSONDecoder().decode(Document.self, from: Data(credResponse.body))
        } catch {
            throw fail("unreadable credentials document")
        }
        let expiration = doc.Expiration.flatMap { ISO8601DateFormatter().date(from: $0) }
        return AWSCredentials(
            accessKeyId: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token,
            expiration: expiration)
    }
}

/// The SDKs' order: environment, shared files with `AWS_PROFILE`, then instance metadata (unless
/// `AWS_EC2_METADATA_DISABLED=true`). The first
/// source that answers is remembered and asked again afterwards (so IMDS credentials refresh).
public final class DefaultCredentialsChain: CredentialsProvider {
    let providers: [any CredentialsProvider]
    private let chosen = Mutex<Int?>(nil)

    /// The default chain over `environment`.
    public convenience init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        var providers: [any CredentialsProvider] = [
            EnvironmentCredentialsProvider(environment: environment),
            ProfileCredentialsProvider(environment: environment),
        ]
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" {
            providers.append(InstanceMetadataCredentialsProvider(environment: environment))
        }
        self.init(providers: providers)
    }

    /// A chain over `providers`, asked in order.
    public init(providers: [any CredentialsProvider]) {
        self.providers = providers
    }

    public func credentials() async throws -> AWSCredentials {
        if let index = chosen.withLock({ $0 }) { return try await providers[index].credentials() }
        var failures: [String] = []
        for (index, provider) in providers.enumerated() {
            do {
                let c = try await provider.credentials()
                chosen.withLock { $0 = index }
                return c
            } catch let e as AWSCredentialsError {
                failures.append(e.message)
            }
        }
        throw AWSCredentialsError("no credentials found: " + failures.joined(separator: "; "))
    }
}
