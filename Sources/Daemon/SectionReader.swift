import Foundation
import Logging
import ObjectStore
import TOMLKit

/// Why a value is refused, before the key and line are attached.
struct ValueProblem: Error {
    /// One sentence: what is wrong and what is expected.
    var message: String
    /// Whether the value held a secret (reported as ``ConfigurationError/Code/secretInFile``).
    var secret: Bool

    init(_ message: String, secret: Bool = false) {
        self.message = message
        self.secret = secret
    }
}

/// Typed access to one `[section]` of the file, turning every mistake into a ``ConfigurationError``.
struct SectionReader {
    let name: String
    let table: TOMLTable?
    let path: String
    let lines: KeyLines

    init(name: String, root: TOMLTable, path: String, lines: KeyLines) throws(ConfigurationError) {
        self.name = name
        self.path = path
        self.lines = lines
        if let value = root[name] {
            guard let table = value.table else {
                throw ConfigurationError(
                    .wrongType, path: path, key: name, line: lines.line(section: name),
                    message: "expected a [\(name)] section, got \(Self.describe(value.type))")
            }
            self.table = table
        } else {
            self.table = nil
        }
    }

    /// An error about `key` of this section, at its line (or the section's line).
    func error(_ code: ConfigurationError.Code, _ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(code, path: path, key: "\(name).\(key)", line: lines.line(section: name, key: key), message: message)
    }

    /// Runs a check of `key`'s value, attaching the key and line to its problem.
    func check<T>(_ key: String, _ body: () throws(ValueProblem) -> T) throws(ConfigurationError) -> T {
        do {
            return try body()
        } catch {
            throw self.error(error.secret ? .secretInFile : .invalidValue, key, error.message)
        }
    }

    func requiredString(_ key: String, example: String) throws(ConfigurationError) -> String {
        guard let value = try optionalString(key) else {
            throw error(.missingKey, key, "missing; this key is required, e.g. [\(name)] \(key) = \(example)")
        }
        return value
    }

    func string(_ key: String, default defaultValue: String) throws(ConfigurationError) -> String {
        try optionalString(key) ?? defaultValue
    }

    private func optionalString(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = table?[key] else { return nil }
        guard let string = value.string else { throw wrongType(key, expected: "a string", got: value) }
        return string
    }

    func bool(_ key: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let value = table?[key] else { return defaultValue }
        guard let bool = value.bool else { throw wrongType(key, expected: "a boolean (true or false)", got: value) }
        return bool
    }

    func int(
        _ key: String, default defaultValue: Int, in range: ClosedRange<Int>? = nil, note: String = ""
    ) throws(ConfigurationError) -> Int {
        guard let value = table?[key] else { return defaultValue }
        guard let int = value.int else { throw wrongType(key, expected: "an integer", got: value) }
        if let range, !range.contains(int) {
            throw error(.invalidValue, key, "expected an integer from \(range.lowerBound) to \(range.upperBound)\(note), got \(int)")
        }
        return int
    }

    /// A string value that must be one of `options` (TOML spelling, value).
    func choice<T>(_ key: String, default defaultValue: T, options: [(String, T)]) throws(ConfigurationError) -> T {
        guard let value = table?[key] else { return defaultValue }
        let list = options.map { "\"\($0.0)\"" }.joined(separator: ", ")
        guard let string = value.string else { throw wrongType(key, expected: "one of \(list)", got: value) }
        if let match = options.first(where: { $0.0 == string }) { return match.1 }
        var message = "expected one of \(list), got \"\(string)\""
        if let close = ConfigurationLoader.closest(to: string, in: options.map(\.0).filter { !$0.isEmpty }) {
            message += "; did you mean \"\(close)\"?"
        }
        throw error(.invalidValue, key, message)
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: T) throws(ConfigurationError) -> T
    where T.RawValue == String {
        try choice(key, default: defaultValue, options: T.allCases.map { ($0.rawValue, $0) })
    }

    private func wrongType(_ key: String, expected: String, got value: any TOMLValueConvertible) -> ConfigurationError {
        var message = "expected \(expected), got \(Self.describe(value.type))"
        if let string = value.string {
            if Int(string) != nil || string == "true" || string == "false" {
                message += "; write \(string) without quotes"
            }
        } else if expected.hasPrefix("a string") || expected.hasPrefix("one of") {
            message += "; put the value in quotes"
        }
        return error(.wrongType, key, message)
    }

    /// "a string", "an integer", ... for a TOML type.
    static func describe(_ type: TOMLType) -> String {
        switch type {
        case .string: return "a string"
        case .int: return "an integer"
        case .double: return "a floating-point number"
        case .bool: return "a boolean"
        case .table: return "a table"
        case .array: return "an array"
        case .date: return "a date"
        case .time: return "a time"
        case .dateTime: return "a date-time"
        }
    }
}
