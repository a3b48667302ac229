import Foundation

/// Where the files go: the configuration's `target.url`, parsed once (by the configuration loader,
/// which reports a problem with its line) and handed to `ObjectStoreLocation` as this value.
///
/// - `s3://bucket[/prefix]`: an S3 (or S3-compatible) bucket and a key prefix, kept without
///   leading or trailing slashes (empty for the bucket's root); the scheme in any case.
/// - `file:///absolute/dir`: a local directory, percent-encoding decoded, without a trailing slash.
public enum TargetURL: Sendable, Equatable, CustomStringConvertible {
    case s3(bucket: String, prefix: String)
    case directory(path: String)

    /// Why a URL was refused (the message names the URL and what is wrong with it).
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses and checks `url`: the bucket name as S3 would accept it, no empty prefix segment, no
    /// query or fragment; an absolute, non-root directory without `.` or `..` segments.
    public init(parsing url: String) throws(Problem) {
        let expected = "expected s3://bucket/prefix or file:///absolute/path, got \"\(url)\""
        let lowered = url.lowercased()
        if lowered.hasPrefix("s3://") {
            let rest = url.dropFirst(5)
            guard !rest.contains("?"), !rest.contains("#") else { throw Problem(description: "\(expected): an s3:// URL has no query or fragment") }
            let bucket = String(rest.prefix(while: { $0 != "/" }))
            guard Self.isValidBucketName(bucket) else {
                throw Problem(
                    description:
                        "expected s3://bucket/prefix with a bucket name of 3 to 63 lowercase letters, digits, dots and hyphens, got \"\(url)\"")
            }
            let segments = rest.dropFirst(bucket.count).split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            let trimmed = Array(segments.drop(while: \.isEmpty).reversed().drop(while: \.isEmpty).reversed())
            guard !trimmed.contains(where: \.isEmpty) else {
                throw Problem(description: "\(expected): the prefix has an empty segment (\"//\")")
            }
            self = .s3(bucket: bucket, prefix: trimmed.joined(separator: "/"))
            return
        }
        if lowered.hasPrefix("file://") {
            let rest = url.dropFirst(7)
            guard rest.hasPrefix("/") else {
                throw Problem(
                    description:
                        "\(expected): a file URL names an absolute directory on this host, with three slashes (file:///var/lib/out)")
            }
            guard !rest.contains("?"), !rest.contains("#") else { throw Problem(description: "\(expected): a file URL has no query or fragment") }
            guard let decoded = rest.removingPercentEncoding else { throw Problem(description: "\(expected): invalid percent-encoding") }
            let segments = decoded.split(separator: "/")
            guard !segments.isEmpty else { throw Problem(description: "\(expected): the root directory is not a place for the output") }
            guard !segments.contains(where: { $0 == "." || $0 == ".." }) else {
                throw Problem(description: "\(expected): the path has a \".\" or \"..\" segment")
            }
            self = .directory(path: "/" + segments.joined(separator: "/"))
            return
        }
        throw Problem(description: expected)
    }

    /// A bucket name S3 accepts: 3 to 63 lowercase letters, digits, dots and hyphens, starting and
    /// ending with a letter or digit, no "..".
    public static func isValidBucketName(_ bucket: String) -> Bool {
        let bytes = Array(bucket.utf8)
        func isAlphanumeric(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        return (3...63).contains(bytes.count)
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x2E || $0 == 0x2D }
            && isAlphanumeric(bytes.first!) && isAlphanumeric(bytes.last!)
            && !bucket.contains("..")
    }

    /// The prefix every object key gets: empty, or the prefix with a trailing slash.
    public var keyPrefix: String {
        switch self {
        case .s3(_, let prefix): prefix.isEmpty ? "" : prefix + "/"
        case .directory: ""
        }
    }

    /// The location as a URL, in the form `init(parsing:)` accepts.
    public var description: String {
        switch self {
        case .s3(let bucket, let prefix):
            prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
        case .directory(let path):
            "file://" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)
        }
    }
}
