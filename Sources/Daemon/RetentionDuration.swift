/// A duration written in a configuration file as a number and a unit: `90s`, `30m`, `36h`, `5d`
/// (seconds, minutes, hours, days). `[catalog] iceberg_snapshot_retention` is one.
struct RetentionDuration: Sendable, Equatable {
    /// The duration in seconds.
    var seconds: Int64

    /// The duration of `text`; nil when it is not a positive whole number followed by one of
    /// `s`, `m`, `h`, `d`.
    init?(_ text: String) {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let unit = text.last.flatMap({ units[$0] }), let count = Int64(text.dropLast()), count > 0,
            text.dropLast().allSatisfy(\.isNumber)
        else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        seconds = product
    }

    init(seconds: Int64) { self.seconds = seconds }

    /// The shortest text for the duration (`5d`, `36h`, ...).
    var text: String {
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
