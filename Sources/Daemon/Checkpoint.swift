import Foundation
import Replication

/// The checkpoint: what has been durably stored, kept as one small JSON object in the store
/// (`<prefix>/_replicatord/state.json`) so it survives restarts and host changes. The LSN is
/// confirmed to PostgreSQL only after the state that covers it is stored.
public struct Checkpoint: Codable, Sendable, Equatable {
    /// Where the daemon is: the full load, or change data capture.
    public enum Phase: String, Codable, Sendable { case fullLoad = "full_load", cdc }

    /// Bumped when the layout changes incompatibly.
    public var version = 1
    public var slot: String
    public var publication: String
    /// The `[task] migration_type` that made this checkpoint (nil in checkpoints of 0.1 betas).
    public var migrationType: String?
    /// `IDENTIFY_SYSTEM`'s system id: refuses to continue against a different cluster.
    public var systemID: String?
    public var phase: Phase
    /// Every change committed before this LSN is stored (the commit end LSN of the last stored
    /// transaction, or the slot's consistent point). Stored as its `X/Y` text.
    public var confirmedLSN: LSN
    /// A CDC cycle whose files may be partly stored: recovery re-drains to `endLSN` and writes the
    /// same names again, so no change is lost or doubled.
    public var pending: PendingCycle?
    /// Per table, keyed `schema.table`.
    public var tables: [String: TableState]

    public init(slot: String, publication: String, systemID: String?, phase: Phase, confirmedLSN: LSN, tables: [String: TableState] = [:]) {
        self.slot = slot; self.publication = publication; self.systemID = systemID; self.phase = phase
        self.confirmedLSN = confirmedLSN; self.tables = tables
    }

    /// The files of a cycle in progress.
    public struct PendingCycle: Codable, Sendable, Equatable {
        public var endLSN: LSN
        /// Object keys (relative to the prefix) in the order the cycle writes them.
        public var files: [String]
        public init(endLSN: LSN, files: [String]) { self.endLSN = endLSN; self.files = files }
    }

    /// One table's progress and statistics (DMS's "Table statistics").
    public struct TableState: Codable, Sendable, Equatable {
        public enum Status: String, Codable, Sendable { case loading, replicating, error }
        public var status: Status
        public var oid: UInt32
        /// LOAD files stored: LOAD``firstLoadFile`` ... and this many.
        public var loadFiles = 0
        /// The counter of the first file of the current LOAD set (above 1 after `full-load` reloads).
        public var firstLoadFile: Int? = nil
        /// Changes committed before this LSN are in the table's LOAD files.
        public var cdcStartLSN: LSN
        /// The last CDC file name (without `.parquet`), so names never repeat or go backwards.
        public var lastFileName: String?
        /// Changes committed before this LSN are stored in the table's files, when the checkpoint's
        /// LSN stays behind it because another table's changes are held (``CDCBatching``); nil
        /// when nothing was ever held.
        public var storedThroughLSN: LSN?
        public var fullLoadRows: Int64 = 0
        public var inserts: Int64 = 0
        public var updates: Int64 = 0
        public var deletes: Int64 = 0
        public var truncates: Int64 = 0
        public var filesWritten: Int64 = 0
        public var bytesWritten: Int64 = 0
        public var lastChangeLSN: LSN?
        /// Commit time of the last stored change, microseconds since 1970 (UTC).
        public var lastChangeTime: Int64?
        public var errorMessage: String?

        public init(status: Status, oid: UInt32, cdcStartLSN: LSN) {
            self.status = status; self.oid = oid; self.cdcStartLSN = cdcStartLSN
        }
    }

    /// The object key of the state, relative to the prefix.
    public static let key = "_replicatord/state.json"

    /// JSON bytes, keys sorted so equal states store equal bytes.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try encoder.encode(self))
    }

    /// Parses stored state; the error names the object, and for a value that cannot be read (an
    /// LSN that is not `X/Y`) the field and the value.
    public static func decode(_ bytes: [UInt8]) throws -> Checkpoint {
        do { return try JSONDecoder().decode(Checkpoint.self, from: Data(bytes)) } catch {
            throw unreadable(key, key: key, error)
        }
    }

    /// The error for a stored checkpoint object that cannot be decoded: a value that cannot be
    /// read (an LSN that is not `X/Y`) is named by its field path and quoted.
    static func unreadable(_ object: String, key: String, _ error: any Error) -> EngineError {
        if case let DecodingError.dataCorrupted(context) = error, !context.codingPath.isEmpty {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return EngineError(
                .stateCorrupt, "\(object) cannot be read: field \(field): \(context.debugDescription)",
                underlying: error, context: .init(key: key))
        }
        return EngineError(.stateCorrupt, "\(object) cannot be read: \(error)", underlying: error, context: .init(key: key))
    }
}

/// File names of the contract: `LOAD00000001.parquet` (hex counter, as DMS) and
/// `yyyyMMdd-HHmmssSSS.parquet` (UTC) for CDC files, under `<schema>/<table>/`.
public enum FileNaming {
    /// `schema/table/` relative to the prefix, each name made safe by ``keyComponent(_:)``.
    public static func tableFolder(schema: String, table: String) -> String { "\(keyComponent(schema))/\(keyComponent(table))/" }

    /// A PostgreSQL identifier as one path segment of an object key: letters, digits, `_`, `-`, `.`,
    /// space and non-ASCII characters from U+00A0 on stay as they are (`Orders`, `my table`,
    /// `größe`); every other byte, `%` and control characters included, becomes `%XX` (uppercase
    /// hex of its UTF-8 bytes), and so does a leading `.`. So `a/b` is `a%2Fb`, `"q"` is `%22q%22` and `..` is `%2E.`: a name can never climb out of
    /// the prefix, split into two folders, hide, or glob, and two names never share a folder.
    public static func keyComponent(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            let v = scalar.value
            let plain =
                (v >= 0xA0) || (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
                || scalar == "_" || scalar == "-" || scalar == " " || (scalar == "." && !out.isEmpty)
            if plain {
                out.unicodeScalars.append(scalar)
            } else {
                for byte in String(scalar).utf8 {
                    let hex = String(byte, radix: 16, uppercase: true)
                    out += "%" + (hex.count == 1 ? "0" + hex : hex)
                }
            }
        }
        return out.isEmpty ? "%00" : out
    }

    /// `LOAD` and the 1-based counter as 8 uppercase hex digits.
    public static func loadFile(_ index: Int) -> String {
        let hex = String(index, radix: 16, uppercase: true)
        return "LOAD" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex + ".parquet"
    }

    /// The CDC file name (without extension) for a time, UTC, millisecond resolution.
    public static func cdcName(unixMilliseconds ms: Int64) -> String {
        let seconds = ms / 1000, millis = Int(ms % 1000)
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2) + "-" + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2)
            + pad(parts.tm_sec, 2) + pad(Int32(millis), 3)
    }

    /// The counter of a `.../LOAD0000000A.parquet` key, nil for other names.
    public static func loadIndex(_ key: String) -> Int? {
        guard let name = key.split(separator: "/").last, name.hasPrefix("LOAD"), name.hasSuffix(".parquet") else { return nil }
        return Int(name.dropFirst(4).dropLast(8), radix: 16)
    }

    /// Parses a CDC file name back to milliseconds (nil when it is not one).
    public static func cdcMilliseconds(_ name: String) -> Int64? {
        let digits = name.filter(\.isNumber)
        guard name.count == 18, digits.count == 17, name[name.index(name.startIndex, offsetBy: 8)] == "-" else { return nil }
        let d = Array(digits).map { Int32(String($0))! }
        func num(_ r: Range<Int>) -> Int32 { r.reduce(0) { $0 * 10 + d[$1] } }
        var parts = tm()
        parts.tm_year = num(0..<4) - 1900; parts.tm_mon = num(4..<6) - 1; parts.tm_mday = num(6..<8)
        parts.tm_hour = num(8..<10); parts.tm_min = num(10..<12); parts.tm_sec = num(12..<14)
        return Int64(timegm(&parts)) * 1000 + Int64(num(14..<17))
    }

    /// A CDC name for `now` that sorts after `previous` (bumped by 1 ms when the clock has not moved on).
    public static func nextCDCName(now ms: Int64, after previous: String?) -> String {
        var t = ms
        if let previous, let last = cdcMilliseconds(previous), last >= t { t = last + 1 }
        return cdcName(unixMilliseconds: t)
    }
}
