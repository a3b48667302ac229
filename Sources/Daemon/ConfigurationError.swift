/// A configuration file that cannot be used: which file, which key, which line, and why.
///
/// Its description is one line in the form compilers use, so that editors and people find the spot:
///
/// ```
/// /etc/replicatord/replicatord.toml:7: target.url: expected s3://bucket/prefix or file:///absolute/path, got "ftp://x"
/// ```
///
/// The line is left out where it is not known (a missing key), the key where the whole file is at
/// fault (unreadable, not TOML). Values that might be secrets are never quoted in the message.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// What kind of mistake this is.
    public enum Code: Sendable, Equatable {
        /// The file does not exist or cannot be read.
        case unreadableFile
        /// The file is not valid TOML.
        case invalidTOML
        /// A `[section]` the daemon does not know, probably a typo.
        case unknownSection
        /// A key the daemon does not know in a known section, probably a typo.
        case unknownKey
        /// A required key is absent.
        case missingKey
        /// A key has a value of the wrong TOML type (a string where an integer belongs, ...).
        case wrongType
        /// A key has a value of the right type that breaks a rule (out of range, malformed URL, ...).
        case invalidValue
        /// The file holds a secret, which must come from the environment or a file instead.
        case secretInFile
    }

    /// What kind of mistake this is.
    public var code: Code
    /// The configuration file's path as given to the loader (`"<config>"` for text without a file).
    public var path: String
    /// The key at fault as `section.key` (or `section` for a whole section), `nil` for the whole file.
    public var key: String?
    /// The 1-based line of the mistake in the file, where known.
    public var line: Int?
    /// One sentence saying what is wrong and what is expected.
    public var message: String
    /// The error that caused this one (the TOML parser's, the file system's), if any.
    public var underlying: (any Error & Sendable)?

    /// An error with all its context.
    public init(
        _ code: Code,
        path: String,
        key: String? = nil,
        line: Int? = nil,
        message: String,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.path = path
        self.key = key
        self.line = line
        self.message = message
        self.underlying = underlying
    }

    /// `path:line: key: message`, leaving out what is unknown. A message quoting the file's text
    /// never repeats a `password=` value found in it (the fuzz test splices them anywhere).
    public var description: String {
        var text = path
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "\(key): " }
        return text + SecretScrubber.scrub(message)
    }
}
