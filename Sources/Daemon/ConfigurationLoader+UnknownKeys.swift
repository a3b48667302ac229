import Foundation
import Logging
import ObjectStore
import TOMLKit

/// Unknown sections and keys, refused with a "did you mean", and keys that hold secrets.
extension ConfigurationLoader {
    /// Key names that hold secrets: refused wherever they appear, with where the secret belongs.
    static let secretKeys: Set<String> = [
        "password", "sslpassword", "pgpassword", "access_key_id", "aws_access_key_id", "secret_access_key",
        "aws_secret_access_key", "secret_key", "session_token", "aws_session_token",
    ]

    static let postgresPasswordAdvice =
        "the PostgreSQL password never goes in the config file; give it the libpq way: PGPASSWORD, ~/.pgpass or passfile="
    static let awsCredentialsAdvice =
        "AWS credentials never go in the config file; they come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, the shared credentials file with AWS_PROFILE, or instance metadata"

    /// Refuses any section or key not in ``knownKeys``, the first in file order.
    static func checkKnownKeys(_ root: TOMLTable, path: String, lines: KeyLines) throws(ConfigurationError) {
        let sectionNames = knownKeys.map(\.section)
        var errors: [ConfigurationError] = []
        for name in root.keys {
            let line = lines.line(section: name)
            guard let known = knownKeys.first(where: { $0.section == name }) else {
                if secretKeys.contains(name.lowercased()) {
                    let advice = name.lowercased().contains("password") ? postgresPasswordAdvice : awsCredentialsAdvice
                    errors.append(.init(.secretInFile, path: path, key: name, line: line, message: advice))
                } else if root[name]?.table == nil, let home = knownKeys.first(where: { $0.keys.contains(name) }) {
                    errors.append(
                        .init(
                            .unknownKey, path: path, key: name, line: line,
                            message: "keys belong in their section; did you mean \(home.section).\(name) under [\(home.section)]?"))
                } else if let close = closest(to: name, in: sectionNames) {
                    errors.append(.init(.unknownSection, path: path, key: name, line: line, message: "unknown section; did you mean [\(close)]?"))
                } else {
                    let list = sectionNames.map { "[\($0)]" }.joined(separator: ", ")
                    errors.append(.init(.unknownSection, path: path, key: name, line: line, message: "unknown section; the sections are \(list)"))
                }
                continue
            }
            guard let table = root[name]?.table else { continue }  // SectionReader reports the wrong type.
            for key in table.keys where !known.keys.contains(key) {
                let line = lines.line(section: name, key: key)
                let fullKey = "\(name).\(key)"
                if secretKeys.contains(key.lowercased()) {
                    let advice = name == "source" || key.lowercased().contains("password") ? postgresPasswordAdvice : awsCredentialsAdvice
                    errors.append(.init(.secretInFile, path: path, key: fullKey, line: line, message: advice))
                } else if let close = closest(to: key, in: known.keys) {
                    errors.append(.init(.unknownKey, path: path, key: fullKey, line: line, message: "unknown key; did you mean \(name).\(close)?"))
                } else if let home = knownKeys.first(where: { $0.keys.contains(key) }) {
                    errors.append(
                        .init(
                            .unknownKey, path: path, key: fullKey, line: line,
                            message: "unknown key in [\(name)]; did you mean \(home.section).\(key) under [\(home.section)]?"))
                } else {
                    errors.append(
                        .init(
                            .unknownKey, path: path, key: fullKey, line: line,
                            message: "unknown key; [\(name)] has \(known.keys.joined(separator: ", "))"))
                }
            }
        }
        if let first = errors.min(by: { ($0.line ?? .max) < ($1.line ?? .max) }) { throw first }
    }

    /// The candidate within edit distance 2 of `word` (ignoring case), the closest first; else one that
    /// `word` abbreviates or extends by at least 3 characters (`warn` for `warning`).
    static func closest(to word: String, in candidates: [String]) -> String? {
        let word = word.lowercased()
        let scored = candidates.map { ($0, editDistance(word, $0.lowercased())) }
        if let close = scored.filter({ $0.1 <= 2 }).min(by: { $0.1 < $1.1 })?.0 { return close }
        guard word.count >= 3 else { return nil }
        return candidates.first { $0.count >= 3 && ($0.lowercased().hasPrefix(word) || word.hasPrefix($0.lowercased())) }
    }

    /// The Levenshtein distance between two strings, in characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
