import Foundation

/// One value of a CloudWatch `PutMetricData` call.
struct CloudWatchDatum: Sendable, Equatable {
    /// The metric's name (`LagSeconds`, ...).
    var name: String
    /// The value.
    var value: Double
    /// A CloudWatch unit: `Seconds`, `Bytes`, `Count`, ...
    var unit: String
}

/// What the daemon publishes to CloudWatch and the parameters of the `PutMetricData` call (the
/// query protocol, API version 2010-08-01; AWSRequests' `AWSServiceClient.callQuery` adds `Action`
/// and `Version`, form-encodes and signs).
///
/// See https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
enum CloudWatchMetricData {
    /// The name of the one dimension every metric carries; its value is `[cloudwatch] name`.
    static let dimensionName = "Replicator"

    /// The figures of `/health` the alarms use: `LagSeconds`, `LagBytes`, `RetainedWALBytes` (each
    /// only when the report has it) and `Healthy` (1 when `/health` answers 200, else 0).
    static func datums(from report: HealthReport) -> [CloudWatchDatum] {
        var out: [CloudWatchDatum] = []
        if let lag = report.lag_seconds { out.append(.init(name: "LagSeconds", value: lag, unit: "Seconds")) }
        if let lag = report.lag_bytes { out.append(.init(name: "LagBytes", value: Double(lag), unit: "Bytes")) }
        if let wal = report.retained_wal_bytes { out.append(.init(name: "RetainedWALBytes", value: Double(wal), unit: "Bytes")) }
        out.append(.init(name: "Healthy", value: report.healthy ? 1 : 0, unit: "Count"))
        return out
    }

    /// The API version of `PutMetricData`.
    static let version = "2010-08-01"

    /// The parameters of a `PutMetricData` call: `datums` in `namespace`, each with the dimension
    /// ``dimensionName`` = `name`, stamped `timestamp`.
    static func putMetricDataParameters(namespace: String, name: String, datums: [CloudWatchDatum], timestamp: Date) -> [(String, String)] {
        var fields: [(String, String)] = [("Namespace", namespace)]
        let time = timestampText(timestamp)
        for (index, datum) in datums.enumerated() {
            let member = "MetricData.member.\(index + 1)."
            fields += [
                (member + "MetricName", datum.name),
                (member + "Dimensions.member.1.Name", dimensionName),
                (member + "Dimensions.member.1.Value", name),
                (member + "Timestamp", time),
                (member + "Value", valueText(datum.value)),
                (member + "Unit", datum.unit),
            ]
        }
        return fields
    }

    /// ISO 8601 in UTC with whole seconds (`2026-12-04T23:30:00Z`).
    static func timestampText(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// A value as CloudWatch reads it: integers without a fraction, others with up to millisecond precision.
    static func valueText(_ value: Double) -> String {
        guard abs(value) < 1e15 else { return String(value) }
        if value == value.rounded() { return String(Int64(value)) }
        return String((value * 1000).rounded() / 1000)
    }
}
