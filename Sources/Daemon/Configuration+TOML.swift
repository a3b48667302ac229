import Foundation
import Logging
import ObjectStore
import TOMLKit

extension Configuration {
    /// Reads and checks the configuration file at `path` (see ``ConfigurationLoader`` for the keys).
    public static func load(path: String) throws(ConfigurationError) -> Configuration {
        try ConfigurationLoader.load(path: path)
    }

    /// Checks TOML text and builds the configuration; `path` only names the source in errors.
    public static func parse(_ text: String, path: String = "<config>") throws(ConfigurationError) -> Configuration {
        try ConfigurationLoader.parse(text, path: path)
    }

    /// The effective configuration as TOML, every key with its value (defaults included), for
    /// `replicatord validate` and the startup log. It holds no secret and loads back to an equal value.
    public var effectiveTOML: String {
        func quoted(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        out += String(format: "\\u%04X", scalar.value)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
        let conninfo: String
        do {
            try ConfigurationLoader.checkConninfo(source.conninfo)
            conninfo = quoted(source.conninfo)
        } catch {
            conninfo = quoted("<redacted: not a valid conninfo without a password>")
        }
        let (sse, kmsKey): (String, String) =
            switch target.serverSideEncryption {
            case .disabled: ("", "")
            case .aes256: ("AES256", "")
            case .kms(let keyID): ("aws:kms", keyID)
            }
        return """
            [source]
            conninfo = \(conninfo)
            publication = \(quoted(source.publication))
            slot = \(quoted(source.slot))

            [target]
            url = \(quoted(target.location.description))
            region = \(quoted(target.region))
            endpoint = \(quoted(target.endpoint))
            path_style = \(target.pathStyle)
            ca_file = \(quoted(target.caFile))
            part_size_mib = \(target.partSizeMiB)
            upload_parallelism = \(target.uploadParallelism)
            server_side_encryption = \(quoted(sse))
            sse_kms_key_id = \(quoted(kmsKey))

            [task]
            migration_type = \(quoted(task.migrationType.rawValue))
            max_file_size_mib = \(task.maxFileSizeMiB)
            parallel_tables = \(task.parallelTables)
            include_op_for_full_load = \(task.includeOpForFullLoad)
            spool_dir = \(quoted(task.spoolDirectory))
            retained_wal_warn_mib = \(task.retainedWALWarnMiB)

            [parquet]
            compression = \(quoted(parquet.compression.rawValue))
            compression_level = \(parquet.compressionLevel)
            row_group_mib = \(parquet.rowGroupMiB)
            page_version = \(parquet.pageVersion)
            logical_types = \(quoted(parquet.logicalTypes.rawValue))

            [output]
            seq_column = \(quoted(output.seqColumn))
            commit_ts_column = \(quoted(output.commitTimeColumn))
            date_partition = \(output.datePartition != nil)
            date_partition_sequence = \(quoted((output.datePartition ?? DatePartition()).sequence.rawValue))
            date_partition_delimiter = \(quoted((output.datePartition ?? DatePartition()).delimiter.rawValue))
            date_partition_timezone = \(quoted((output.datePartition ?? DatePartition()).timeZone))
            cdc_inserts_only = \(output.writtenChanges == .insertsOnly)
            cdc_inserts_and_updates = \(output.writtenChanges == .insertsAndUpdates)
            timestamp_millis = \(output.timestampMillis)
            cdc_min_file_size_kib = \(output.batching.minFileBytes / 1024)
            cdc_max_batch_interval_seconds = \(output.batching.maxBatchIntervalSeconds)

            [catalog]
            iceberg = \(catalog.iceberg)
            glue_database = \(quoted(catalog.glueDatabase))
            glue_region = \(quoted(catalog.glueRegion))
            glue_endpoint = \(quoted(catalog.glueEndpoint))
            iceberg_snapshot_retention = \(quoted(RetentionDuration(seconds: catalog.icebergSnapshotRetentionSeconds).text))

            [schedule]
            interval_seconds = \(schedule.intervalSeconds)

            [health]
            listen = \(quoted(health.listen.description))

            [log]
            format = \(quoted(log.format.rawValue))
            level = \(quoted(log.level.rawValue))

            [cloudwatch]
            namespace = \(quoted(cloudwatch.namespace))
            region = \(quoted(cloudwatch.region))
            interval_seconds = \(cloudwatch.intervalSeconds)
            name = \(quoted(cloudwatch.name))
            endpoint = \(quoted(cloudwatch.endpoint))

            """
    }
}
