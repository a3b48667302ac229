import Foundation
import Logging
import ObjectStore
import TOMLKit

/// Where each `section.key` and `[section]` first appears in the text: a line scan, good enough to
/// point at the key of a type or value error (TOMLKit keeps no positions for values).
struct KeyLines {
    private var sections: [String: Int] = [:]
    private var keys: [String: Int] = [:]

    init(text: String) {
        var section = ""
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines.union(["\u{FEFF}"]))
            if line.hasPrefix("[") {
                let inside = line.drop(while: { $0 == "[" }).prefix(while: { $0 != "]" })
                section = Self.normalize(inside)
                sections[section] = sections[section] ?? number
                continue
            }
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            let key = Self.normalize(line[..<equals])
            let full = section.isEmpty ? key : "\(section).\(key)"
            keys[full] = keys[full] ?? number
            if section.isEmpty {  // `target = { ... }` or `target.url = ...` at the top level
                let head = String(key.prefix(while: { $0 != "." }))
                sections[head] = sections[head] ?? number
            }
        }
    }

    /// `a . "b"` -> `a.b`: a (dotted) key or table name without spaces and quotes.
    private static func normalize(_ key: some StringProtocol) -> String {
        key.split(separator: ".").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'")) }
            .joined(separator: ".")
    }

    /// The line of `[section]`, or of the first key that opens it.
    func line(section: String) -> Int? { sections[section] }

    /// The line of `key` in `section`, else the section's line.
    func line(section: String, key: String) -> Int? { keys["\(section).\(key)"] ?? sections[section] }
}
