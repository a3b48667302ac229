import Foundation
import Replication
import Testing
@testable import Daemon

/// The DMS S3 settings under `[output]`: their defaults, their values, and the errors that name them.
@Suite struct DMSSettingsConfigurationTests {
    static let base = "[source]\nconninfo = \"host=db dbname=app\"\n[target]\nurl = \"s3://bucket/prefix\"\n"

    func parse(_ output: String, catalog: String = "") throws -> Configuration {
        try Configuration.parse(Self.base + "[output]\n" + output + "\n" + catalog, path: "r.toml")
    }

    func failure(_ output: String, catalog: String = "") -> ConfigurationError? {
        do {
            _ = try Configuration.parse(Self.base + "[output]\n" + output + "\n" + catalog, path: "r.toml")
            return nil
        } catch {
            return error
        }
    }

    @Test func theDefaultsAreDMSsLayoutWithNothingHeld() throws {
        let output = try parse("").output
        #expect(output.datePartition == nil && output.writtenChanges == .all && !output.timestampMillis)
        #expect(output.batching == CDCBatching(minFileBytes: 0, maxBatchIntervalSeconds: 60) && !output.batching.holdsChanges)
    }

    @Test func everySettingIsReadAndReachesTheEngine() throws {
        let config = try parse(
            """
            date_partition = true
            date_partition_sequence = "DDMMYYYY"
            date_partition_delimiter = "UNDERSCORE"
            date_partition_timezone = "Europe/Paris"
            cdc_inserts_and_updates = true
            timestamp_millis = true
            cdc_min_file_size_kib = 32000
            cdc_max_batch_interval_seconds = 300
            """)
        #expect(config.output.datePartition == DatePartition(sequence: .ddmmyyyy, delimiter: .underscore, timeZone: "Europe/Paris"))
        let settings = config.engineSettings
        #expect(settings.writtenChanges == .insertsAndUpdates && settings.parquet.timestampMillis)
        #expect(settings.batching.minFileBytes == 32000 * 1024 && settings.batching.maxBatchIntervalSeconds == 300)
        #expect(settings.datePartition?.sequence == .ddmmyyyy)
        #expect(try Configuration.parse(config.effectiveTOML) == config)
    }

    @Test func badValuesNameTheirKey() {
        #expect(failure("cdc_inserts_only = true\ncdc_inserts_and_updates = true")?.key == "output.cdc_inserts_and_updates")
        #expect(failure("date_partition_timezone = \"Mars/Base\"")?.description.contains("output.date_partition_timezone") == true)
        #expect(failure("date_partition_sequence = \"YYYYDDMM\"")?.description.contains("did you mean") == true)
        #expect(failure("date_partition_delimiter = \"COMMA\"")?.key == "output.date_partition_delimiter")
        #expect(failure("cdc_max_batch_interval_seconds = 0")?.key == "output.cdc_max_batch_interval_seconds")
        #expect(failure("cdc_min_file_size_kib = -1")?.key == "output.cdc_min_file_size_kib")
        #expect(failure("timestamp_millis = true", catalog: "[catalog]\niceberg = true")?.key == "output.timestamp_millis")
        #expect(failure("cdc_min_file_size_kib = 64", catalog: "[catalog]\niceberg = true")?.key == "output.cdc_min_file_size_kib")
    }
}
