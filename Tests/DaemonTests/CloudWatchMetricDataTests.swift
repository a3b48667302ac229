@testable import Daemon
import Foundation
import Testing

@Suite struct CloudWatchMetricDataTests {
    let t0 = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30T...

    func report(healthy: Bool, server: HealthState.ServerPosition?) -> HealthReport {
        var s = HealthState(interval: .seconds(10), startedAt: t0, phase: .cdc, slot: "s")
        if healthy {
            s.cycleStarted(at: t0)
            s.cycleSucceeded(at: t0.addingTimeInterval(1), kind: .cdc, files: 0, rows: 0, checkpoint: nil)
        }
        s.server = server
        return s.report(at: t0.addingTimeInterval(healthy ? 2.5 : 100))
    }

    @Test func aHealthyReportGivesLagRetainedWALAndHealthyOne() {
        let datums = CloudWatchMetricData.datums(from: report(healthy: true, server: .init(walLSN: "0/16B4000", lagBytes: 2232, retainedWALBytes: 9000)))
        #expect(
            datums == [
                .init(name: "LagSeconds", value: 2.5, unit: "Seconds"),
                .init(name: "LagBytes", value: 2232, unit: "Bytes"),
                .init(name: "RetainedWALBytes", value: 9000, unit: "Bytes"),
                .init(name: "Healthy", value: 1, unit: "Count"),
            ])
    }

    @Test func figuresNotKnownYetAreLeftOutAndUnhealthyIsZero() {
        let datums = CloudWatchMetricData.datums(from: report(healthy: false, server: nil))
        #expect(datums == [.init(name: "Healthy", value: 0, unit: "Count")])
    }

    @Test func theParametersArePutMetricDatasWithTheDimensionOnEveryDatum() {
        let parameters = CloudWatchMetricData.putMetricDataParameters(
            namespace: "replicatord/prod", name: "my stack",
            datums: [.init(name: "LagSeconds", value: 2.5, unit: "Seconds"), .init(name: "Healthy", value: 1, unit: "Count")],
            timestamp: Date(timeIntervalSince1970: 1_796_000_000))
        let expected: [(String, String)] = [
            ("Namespace", "replicatord/prod"),
            ("MetricData.member.1.MetricName", "LagSeconds"), ("MetricData.member.1.Dimensions.member.1.Name", "Replicator"),
            ("MetricData.member.1.Dimensions.member.1.Value", "my stack"), ("MetricData.member.1.Timestamp", "2026-11-30T00:53:20Z"),
            ("MetricData.member.1.Value", "2.5"), ("MetricData.member.1.Unit", "Seconds"),
            ("MetricData.member.2.MetricName", "Healthy"), ("MetricData.member.2.Dimensions.member.1.Name", "Replicator"),
            ("MetricData.member.2.Dimensions.member.1.Value", "my stack"), ("MetricData.member.2.Timestamp", "2026-11-30T00:53:20Z"),
            ("MetricData.member.2.Value", "1"), ("MetricData.member.2.Unit", "Count"),
        ]
        #expect(parameters.map { "\($0.0)=\($0.1)" } == expected.map { "\($0.0)=\($0.1)" })
    }

    @Test func valuesAreWrittenWithoutNeedlessDigits() {
        #expect(CloudWatchMetricData.valueText(9000) == "9000")
        #expect(CloudWatchMetricData.valueText(0.1234567) == "0.123")
        #expect(CloudWatchMetricData.valueText(1e20) == "1e+20")
    }
}
