import Foundation
import Logging
import ObjectStore
import TOMLKit

/// One reader per section of the file: its keys, defaults and value checks.
extension ConfigurationLoader {
    static func readSource(_ s: SectionReader) throws(ConfigurationError) -> Configuration.Source {
        let conninfo = try s.requiredString("conninfo", example: #""host=127.0.0.1 dbname=app user=replicator""#)
        try s.check("conninfo") { () throws(ValueProblem) in try checkConninfo(conninfo) }
        let publication = try s.string("publication", default: "replicatord")
        try s.check("publication") { () throws(ValueProblem) in
            guard !publication.isEmpty, publication.utf8.count <= 63 else {
                throw ValueProblem("expected a publication name of 1 to 63 bytes, got \"\(publication)\"")
            }
        }
        let slot = try s.string("slot", default: "replicatord")
        try s.check("slot") { () throws(ValueProblem) in try checkSlotName(slot) }
        return .init(conninfo: conninfo, publication: publication, slot: slot)
    }

    static func readTarget(_ s: SectionReader) throws(ConfigurationError) -> Configuration.Target {
        let url = try s.requiredString("url", example: #""s3://my-bucket/some/prefix""#)
        let location = try s.check("url") { () throws(ValueProblem) in try parseTargetURL(url) }
        let region = try s.string("region", default: "us-east-1")
        try s.check("region") { () throws(ValueProblem) in
            guard !region.isEmpty, !region.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                throw ValueProblem("expected a region name such as \"us-east-1\", got \"\(region)\"")
            }
        }
        let endpointText = try s.string("endpoint", default: "")
        let endpoint = try s.check("endpoint") { () throws(ValueProblem) in try checkEndpoint(endpointText) }
        let pathStyle = try s.bool("path_style", default: false)
        let caFile = try s.string("ca_file", default: "")
        try s.check("ca_file") { () throws(ValueProblem) in
            guard caFile.isEmpty || caFile.hasPrefix("/") else {
                throw ValueProblem("expected \"\" (the system's trust store) or an absolute path, got \"\(caFile)\"")
            }
        }
        let partSize = try s.int("part_size_mib", default: 8, in: 5...5120)
        let parallelism = try s.int("upload_parallelism", default: 3, in: 1...64)
        let sseKind = try s.choice("server_side_encryption", default: "", options: [("", ""), ("AES256", "AES256"), ("aws:kms", "aws:kms")])
        let kmsKey = try s.string("sse_kms_key_id", default: "")
        let sse: Configuration.Target.ServerSideEncryption
        switch sseKind {
        case "aws:kms":
            guard !kmsKey.isEmpty else {
                throw s.error(.missingKey, "sse_kms_key_id", "required when server_side_encryption is \"aws:kms\"")
            }
            sse = .kms(keyID: kmsKey)
        default:
            guard kmsKey.isEmpty else {
                throw s.error(.invalidValue, "sse_kms_key_id", "only used with server_side_encryption = \"aws:kms\"; remove it or set that too")
            }
            sse = sseKind == "AES256" ? .aes256 : .disabled
        }
        return .init(
            location: location, region: region, endpoint: endpoint, pathStyle: pathStyle, caFile: caFile,
            partSizeMiB: partSize, uploadParallelism: parallelism, serverSideEncryption: sse)
    }

    static func readTask(_ s: SectionReader) throws(ConfigurationError) -> Configuration.ReplicationTask {
        let migrationType = try s.choice("migration_type", default: MigrationType.fullLoadAndCDC)
        let maxFileSize = try s.int("max_file_size_mib", default: 1024, in: 1...5_242_880)
        let parallelTables = try s.int("parallel_tables", default: 2, in: 1...64)
        let includeOp = try s.bool("include_op_for_full_load", default: false)
        let spool = try s.string("spool_dir", default: "/var/lib/replicatord/spool")
        try s.check("spool_dir") { () throws(ValueProblem) in
            guard spool.hasPrefix("/") else { throw ValueProblem("expected an absolute path, got \"\(spool)\"") }
        }
        let retainedWal = try s.int("retained_wal_warn_mib", default: 4096, in: 1...Int(Int32.max))
        return .init(
            migrationType: migrationType, maxFileSizeMiB: maxFileSize, parallelTables: parallelTables,
            includeOpForFullLoad: includeOp, spoolDirectory: spool, retainedWALWarnMiB: retainedWal)
    }

    static func readParquet(_ s: SectionReader) throws(ConfigurationError) -> Configuration.ParquetOutput {
        let compression = try s.choice("compression", default: Configuration.ParquetOutput.Compression.zstd)
        let level: Int
        switch compression {
        case .zstd: level = try s.int("compression_level", default: 1, in: 1...22, note: " for zstd")
        case .gzip: level = try s.int("compression_level", default: 3, in: 1...9, note: " for gzip")
        case .snappy, .none: level = try s.int("compression_level", default: 3)
        }
        let rowGroup = try s.int("row_group_mib", default: 128, in: 1...4096)
        let pageVersion = try s.int("page_version", default: 1, in: 1...2)
        let logicalTypes = try s.choice("logical_types", default: Configuration.ParquetOutput.LogicalTypes.portable)
        return .init(
            compression: compression, compressionLevel: level, rowGroupMiB: rowGroup, pageVersion: pageVersion,
            logicalTypes: logicalTypes)
    }

    static func readCatalog(_ s: SectionReader) throws(ConfigurationError) -> Configuration.Catalog {
        let database = try s.string("glue_database", default: "")
        try s.check("glue_database") { () throws(ValueProblem) in
            // Glue: 1 to 255 characters; Athena and Hive take lower-case letters, digits and underscores.
            guard
                database.isEmpty
                    || (database.utf8.count <= 255
                        && database.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
            else {
                throw ValueProblem("expected a database name of lower-case letters, digits and underscores (what Athena accepts), got \"\(database)\"")
            }
        }
        let region = try s.string("glue_region", default: "")
        try s.check("glue_region") { () throws(ValueProblem) in
            guard !region.contains(where: { !($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw ValueProblem("expected \"\" ([target] region) or a region name such as \"us-east-1\", got \"\(region)\"")
            }
        }
        let endpointText = try s.string("glue_endpoint", default: "")
        let endpoint = try s.check("glue_endpoint") { () throws(ValueProblem) in try checkEndpoint(endpointText) }
        let retention = try s.string("iceberg_snapshot_retention", default: "5d")
        guard let duration = RetentionDuration(retention) else {
            throw s.error(
                .invalidValue, "iceberg_snapshot_retention",
                "expected a whole number and a unit (s, m, h or d), e.g. \"5d\" or \"36h\", got \"\(retention)\"")
        }
        return .init(
            iceberg: try s.bool("iceberg", default: false), glueDatabase: database, glueRegion: region, glueEndpoint: endpoint,
            icebergSnapshotRetentionSeconds: duration.seconds)
    }

    static func readOutput(_ s: SectionReader) throws(ConfigurationError) -> Configuration.Output {
        let seq = try s.string("seq_column", default: "_seq")
        let time = try s.string("commit_ts_column", default: "_commit_ts")
        for (key, name) in [("seq_column", seq), ("commit_ts_column", time)] {
            try s.check(key) { () throws(ValueProblem) in
                guard name.utf8.count <= 128, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                    throw ValueProblem("expected a column name of at most 128 bytes without control characters")
                }
                guard name != "Op", name != "_unchanged_toast" else { throw ValueProblem("\"\(name)\" is a column replicatord writes already") }
            }
        }
        if !seq.isEmpty, seq == time {
            throw s.error(.invalidValue, "commit_ts_column", "must differ from seq_column (both are \"\(seq)\")")
        }
        let partitioned = try s.bool("date_partition", default: false)
        let sequence: DatePartition.Sequence = try s.choice("date_partition_sequence", default: .yyyymmdd)
        let delimiter: DatePartition.Delimiter = try s.choice("date_partition_delimiter", default: .slash)
        let zone = try s.string("date_partition_timezone", default: "UTC")
        try s.check("date_partition_timezone") { () throws(ValueProblem) in
            guard DatePartition.isKnownTimeZone(zone) else {
                throw ValueProblem("expected a time zone name such as \"UTC\" or \"Asia/Seoul\" (Area/Location, as DMS), got \"\(zone)\"")
            }
        }
        let insertsOnly = try s.bool("cdc_inserts_only", default: false)
        let insertsAndUpdates = try s.bool("cdc_inserts_and_updates", default: false)
        if insertsOnly && insertsAndUpdates {
            throw s.error(.invalidValue, "cdc_inserts_and_updates", "cannot be true together with cdc_inserts_only (as DMS: set one of them)")
        }
        let minKiB = try s.int("cdc_min_file_size_kib", default: 0, in: 0...(Int(Int32.max)))
        let interval = try s.int("cdc_max_batch_interval_seconds", default: 60, in: 1...604_800)
        return .init(
            seqColumn: seq, commitTimeColumn: time,
            datePartition: partitioned ? DatePartition(sequence: sequence, delimiter: delimiter, timeZone: zone) : nil,
            writtenChanges: insertsOnly ? .insertsOnly : insertsAndUpdates ? .insertsAndUpdates : .all,
            timestampMillis: try s.bool("timestamp_millis", default: false),
            batching: CDCBatching(minFileBytes: Int64(minKiB) * 1024, maxBatchIntervalSeconds: interval))
    }

    static func readSchedule(_ s: SectionReader) throws(ConfigurationError) -> Configuration.Schedule {
        .init(intervalSeconds: try s.int("interval_seconds", default: 120, in: 1...Int(Int32.max)))
    }

    static func readHealth(_ s: SectionReader) throws(ConfigurationError) -> Configuration.Health {
        let listen = try s.string("listen", default: "127.0.0.1:8080")
        return .init(listen: try s.check("listen") { () throws(ValueProblem) in try parseListenAddress(listen) })
    }

    static func readLog(_ s: SectionReader) throws(ConfigurationError) -> Configuration.Log {
        .init(
            format: try s.choice("format", default: Configuration.Log.Format.logfmt),
            level: try s.choice("level", default: Logger.Level.info))
    }
}
