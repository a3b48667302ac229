import Foundation

/// DMS's date-based folder partitioning (`DatePartitionEnabled`, `DatePartitionSequence`,
/// `DatePartitionDelimiter`, `DatePartitionTimezone`; `[output] date_partition...`): a CDC file goes
/// into date folders inside its table folder, `schema/table/2026/11/24/20261124-191512345.parquet`.
///
/// The date is the instant the file's name carries (the cycle's time, UTC in the name), shown in
/// ``timeZone``: the folder follows from the name alone, so a redone cycle, `reload-table` and the
/// readers find a file from its name. LOAD files stay directly in the table folder.
public struct DatePartition: Sendable, Equatable {
    /// `DatePartitionSequence`: which date parts make the folder, in which order.
    public enum Sequence: String, Sendable, CaseIterable {
        case yyyymmdd = "YYYYMMDD", yyyymmddhh = "YYYYMMDDHH", yyyymm = "YYYYMM", mmyyyydd = "MMYYYYDD", ddmmyyyy = "DDMMYYYY"

        /// The parts in folder order.
        var parts: [Part] {
            switch self {
            case .yyyymmdd: [.year, .month, .day]
            case .yyyymmddhh: [.year, .month, .day, .hour]
            case .yyyymm: [.year, .month]
            case .mmyyyydd: [.month, .year, .day]
            case .ddmmyyyy: [.day, .month, .year]
            }
        }
    }

    /// `DatePartitionDelimiter`: what goes between the parts. `SLASH` makes one folder level per part.
    public enum Delimiter: String, Sendable, CaseIterable {
        case slash = "SLASH", underscore = "UNDERSCORE", dash = "DASH", none = "NONE"

        var text: String {
            switch self {
            case .slash: "/"
            case .underscore: "_"
            case .dash: "-"
            case .none: ""
            }
        }
    }

    /// One part of the date.
    public enum Part: String, Sendable { case year, month, day, hour }

    public var sequence: Sequence
    public var delimiter: Delimiter
    /// `DatePartitionTimezone`: an IANA `Area/Location` name (`Asia/Seoul`), or `UTC` (the default).
    public var timeZone: String

    public init(sequence: Sequence = .yyyymmdd, delimiter: Delimiter = .slash, timeZone: String = "UTC") {
        self.sequence = sequence; self.delimiter = delimiter; self.timeZone = timeZone
    }

    /// Whether `name` is a time zone this machine knows (tzdata).
    public static func isKnownTimeZone(_ name: String) -> Bool { TimeZone(identifier: name) != nil }

    /// The folder levels for an instant (`["2026", "11", "24"]` with `SLASH`, `["2026-11-24"]` with `DASH`).
    public func levels(unixMilliseconds ms: Int64) -> [String] {
        let values = parts(unixMilliseconds: ms)
        let texts = sequence.parts.map { values[$0]! }
        return delimiter == .slash ? texts : [texts.joined(separator: delimiter.text)]
    }

    /// The folder path inside the table folder, ending in `/` (`2026/11/24/`).
    public func folder(unixMilliseconds ms: Int64) -> String {
        levels(unixMilliseconds: ms).joined(separator: "/") + "/"
    }

    /// The partition columns a catalog declares for these folders, one per folder level: with
    /// `SLASH` one per part (`year`, `month`, `day`, `hour`), else one named `date_partition`.
    public var columnNames: [String] {
        delimiter == .slash ? sequence.parts.map(\.rawValue) : ["date_partition"]
    }

    /// The date parts of an instant in ``timeZone``, zero-padded (`year` 4 digits, others 2).
    func parts(unixMilliseconds ms: Int64) -> [Part: String] {
        let seconds = Int64((Double(ms) / 1000).rounded(.down))
        let zone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        var t = time_t(seconds + offset)
        var fields = tm()
        gmtime_r(&t, &fields)
        func pad(_ v: Int32, _ width: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, width - s.count)) + s }
        return [.year: pad(fields.tm_year + 1900, 4), .month: pad(fields.tm_mon + 1, 2), .day: pad(fields.tm_mday, 2), .hour: pad(fields.tm_hour, 2)]
    }
}
