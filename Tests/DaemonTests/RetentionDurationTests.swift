import Testing
@testable import Daemon

struct RetentionDurationTests {
    @Test func unitsAreSecondsMinutesHoursDays() {
        #expect(RetentionDuration("90s")?.seconds == 90)
        #expect(RetentionDuration("30m")?.seconds == 1800)
        #expect(RetentionDuration("36h")?.seconds == 129_600)
        #expect(RetentionDuration("5d")?.seconds == 432_000)
        #expect(RetentionDuration(seconds: 432_000).text == "5d")
        #expect(RetentionDuration(seconds: 5400).text == "90m")
    }

    @Test func anythingElseIsRefused() {
        for text in ["", "5", "d", "0d", "-1d", "5w", "1.5h", "5 d", "99999999999999999d"] {
            #expect(RetentionDuration(text) == nil, "\(text)")
        }
    }

    @Test func theConfigurationKeyDefaultsToFiveDaysAndNamesABadValue() throws {
        let minimal = """
            [source]
            conninfo = "host=db dbname=app"

            [target]
            url = "file:///srv/lake"

            """
        #expect(try Configuration.parse(minimal).catalog.icebergSnapshotRetentionSeconds == 432_000)
        let set = try Configuration.parse(minimal + "[catalog]\niceberg = true\niceberg_snapshot_retention = \"36h\"\n")
        #expect(set.engineSettings.icebergSnapshotRetentionSeconds == 129_600)
        do {
            _ = try Configuration.parse(minimal + "[catalog]\niceberg_snapshot_retention = \"5 days\"\n")
            Issue.record("a bad retention was accepted")
        } catch {
            #expect(error.key == "catalog.iceberg_snapshot_retention")
            #expect(error.message.contains("\"5 days\""))
        }
    }
}
