import Foundation
import Logging
import ObjectStore
import TOMLKit

/// Reads `replicatord.toml` into a ``Configuration``, checking every key and value.
///
/// Every key the daemon knows, with its default (`required` for the two without one):
///
/// ```toml
/// [source]
/// conninfo    = required            # libpq conninfo "host=... dbname=... user=..." or postgresql:// URI;
///                                   # never a password: PGPASSWORD, ~/.pgpass or passfile= instead
/// publication = "replicatord"       # the publication whose tables are replicated (1 to 63 bytes)
/// slot        = "replicatord"       # logical slot: lowercase letters, digits, _; at most 63
///
/// [target]
/// url                    = required # "s3://bucket[/prefix]" or "file:///absolute/dir"
/// region                 = "us-east-1"
/// endpoint               = ""       # "" = AWS; else http(s)://host[:port] of an S3-compatible store
/// path_style             = false    # true for most S3-compatible stores
/// ca_file                = ""       # "" = the system's trust store; else an absolute path to a PEM bundle
/// part_size_mib          = 8        # multipart part size, 5...5120
/// upload_parallelism     = 3        # parts in flight per file, 1...64
/// server_side_encryption = ""       # "", "AES256" or "aws:kms"
/// sse_kms_key_id         = ""       # the KMS key; required with "aws:kms", refused otherwise
///
/// [task]
/// migration_type           = "full-load-and-cdc"   # or "full-load", or "cdc", as DMS names them
/// max_file_size_mib        = 1024   # split LOAD files at this size, 1...5242880
/// parallel_tables          = 2      # connections copying at once in a full load (tables or page ranges), 1...64
/// include_op_for_full_load = false  # an Op column of "I" first in LOAD files
/// spool_dir                = "/var/lib/replicatord/spool"  # absolute; local scratch space
/// retained_wal_warn_mib    = 4096   # warn when the slot holds back more WAL than this, 1...
///
/// [parquet]
/// compression       = "zstd"        # "zstd", "snappy", "gzip" or "none"
/// compression_level = 1             # 1...22 for zstd (default 1), 1...9 for gzip (default 3), ignored otherwise
/// row_group_mib     = 128           # row group size, 1...4096
/// page_version      = 1             # 1 (DataPage) or 2 (DataPageV2)
/// logical_types     = "portable"    # "portable": uuid and time as text, read by every engine (Spark too);
///                                   # "exact": Parquet UUID and TIME(MICROS), which Spark refuses
///
/// [output]
/// seq_column       = "_seq"         # apply order of every row (commit LSN, position); "" leaves it out
/// commit_ts_column = "_commit_ts"   # commit time of every row (LOAD: the snapshot's); "" leaves it out
/// date_partition           = false  # DMS DatePartitionEnabled: CDC files in date folders of their table folder
/// date_partition_sequence  = "YYYYMMDD"  # DMS DatePartitionSequence: YYYYMMDD, YYYYMMDDHH, YYYYMM, MMYYYYDD, DDMMYYYY
/// date_partition_delimiter = "SLASH"     # DMS DatePartitionDelimiter: SLASH, UNDERSCORE, DASH, NONE
/// date_partition_timezone  = "UTC"       # DMS DatePartitionTimezone: an IANA Area/Location name
/// cdc_inserts_only         = false  # DMS CdcInsertsOnly: CDC files hold inserts only
/// cdc_inserts_and_updates  = false  # DMS CdcInsertsAndUpdates: inserts and updates only (not with cdc_inserts_only)
/// timestamp_millis         = false  # DMS ParquetTimestampInMillisecond: TIMESTAMP(MILLIS), floored
/// cdc_min_file_size_kib    = 0      # DMS CdcMinFileSize (KiB): hold a table's changes until this size; 0 = off
/// cdc_max_batch_interval_seconds = 60  # DMS CdcMaxBatchInterval: ...or until the oldest is this old, 1...604800
///
/// [catalog]
/// iceberg = false                   # true: an Apache Iceberg v2 table over each table folder's files,
///                                   # one snapshot per cycle (<table>/metadata/, docs/iceberg.md)
/// glue_database = ""                # a Glue database: the daemon keeps one table per replicated table
///                                   # in the AWS Glue Data Catalog (docs/glue.md); "" leaves Glue alone
/// glue_region = ""                  # the Glue catalog's region; "" is [target] region
/// glue_endpoint = ""                # a Glue-compatible endpoint; "" is AWS's own (https://glue.REGION.amazonaws.com)
/// iceberg_snapshot_retention = "5d" # snapshots older than this expire ("90m", "36h", "5d"); data files stay
///
/// [schedule]
/// interval_seconds = 120            # between the starts of two CDC cycles, at least 1
///
/// [health]
/// listen = "127.0.0.1:8080"         # host:port, IPv6 in brackets "[::1]:8080", port 0...65535
///
/// [log]
/// format = "logfmt"                 # or "json"
/// level  = "info"                   # trace, debug, info, notice, warning, error, critical
///
/// [cloudwatch]                      # see CloudWatchSettings.swift
/// namespace        = ""             # "" = publish nothing to CloudWatch
/// region           = ""             # "" = [target] region
/// interval_seconds = 60             # 10...3600
/// name             = ""             # the Replicator dimension's value; "" = [source] slot
/// endpoint         = ""             # "" = AWS; else http(s)://host[:port]
/// ```
///
/// Anything else is an error, so that a typo never silently falls back to a default: an unknown
/// section or key (with a "did you mean" when one is close), a value of the wrong type, a value out
/// of range, a missing required key, and any secret (`password`, AWS keys). Each error is a
/// ``ConfigurationError`` naming the file, the key as `section.key` and the line where known.
///
/// Secrets come from the environment or files, never from this file: the PostgreSQL password the
/// libpq way (`PGPASSWORD`, `~/.pgpass`, `passfile=`), AWS credentials the AWS way
/// (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, the shared credentials file and
/// `AWS_PROFILE`, instance metadata).
public enum ConfigurationLoader {
    /// The sections and keys the daemon knows, in the order of the file; drives the unknown-key check
    /// and ``Configuration/effectiveTOML``.
    public static let knownKeys: [(section: String, keys: [String])] = [
        ("source", ["conninfo", "publication", "slot"]),
        (
            "target",
            [
                "url", "region", "endpoint", "path_style", "ca_file", "part_size_mib", "upload_parallelism",
                "server_side_encryption", "sse_kms_key_id",
            ]
        ),
        (
            "task",
            [
                "migration_type", "max_file_size_mib", "parallel_tables", "include_op_for_full_load", "spool_dir",
                "retained_wal_warn_mib",
            ]
        ),
        ("parquet", ["compression", "compression_level", "row_group_mib", "page_version", "logical_types"]),
        (
            "output",
            [
                "seq_column", "commit_ts_column", "date_partition", "date_partition_sequence", "date_partition_delimiter",
                "date_partition_timezone", "cdc_inserts_only", "cdc_inserts_and_updates", "timestamp_millis",
                "cdc_min_file_size_kib", "cdc_max_batch_interval_seconds",
            ]
        ),
        ("catalog", ["iceberg", "glue_database", "glue_region", "glue_endpoint", "iceberg_snapshot_retention"]),
        ("schedule", ["interval_seconds"]),
        ("health", ["listen"]),
        ("log", ["format", "level"]),
        ("cloudwatch", ["namespace", "region", "interval_seconds", "name", "endpoint"]),
    ]

    /// Reads and checks the configuration file at `path`.
    public static func load(path: String) throws(ConfigurationError) -> Configuration {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationError(.unreadableFile, path: path, message: "no such file; pass the configuration with --config PATH")
        }
        guard !isDirectory.boolValue else {
            throw ConfigurationError(.unreadableFile, path: path, message: "is a directory, expected a TOML file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = access(path, R_OK) != 0 && errno == EACCES ? "permission denied for this user" : "read failed"
            throw ConfigurationError(.unreadableFile, path: path, message: "cannot be read (\(reason))", underlying: error)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(.unreadableFile, path: path, message: "is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Checks TOML text and builds the configuration; `path` only names the source in errors.
    public static func parse(_ text: String, path: String = "<config>") throws(ConfigurationError) -> Configuration {
        if let line = headerWithoutName(text) {
            throw ConfigurationError(
                .invalidTOML, path: path, line: line,
                message: "not valid TOML: a table header needs a name (a letter, digit, _, - or a quoted name) after [")
        }
        if let (line, message) = valueTerminatorInArray(text) {
            throw ConfigurationError(.invalidTOML, path: path, line: line, message: "not valid TOML: \(message)")
        }
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(
                .invalidTOML, path: path, line: error.source.begin.line,
                message: "not valid TOML: \(oneLine(error.description))", underlying: error)
        } catch {
            throw ConfigurationError(.invalidTOML, path: path, message: "not valid TOML", underlying: error)
        }
        let lines = KeyLines(text: text)
        try checkKnownKeys(root, path: path, lines: lines)

        func section(_ name: String) throws(ConfigurationError) -> SectionReader {
            try SectionReader(name: name, root: root, path: path, lines: lines)
        }
        let source = try readSource(section("source"))
        let target = try readTarget(section("target"))
        let task = try readTask(section("task"))
        let parquet = try readParquet(section("parquet"))
        let output = try readOutput(section("output"))
        let catalog = try readCatalog(section("catalog"))
        if !catalog.glueDatabase.isEmpty, case .directory = target.location {
            throw ConfigurationError(
                .invalidValue, path: path, key: "catalog.glue_database",
                line: lines.line(section: "catalog", key: "glue_database"),
                message: "needs an s3:// [target] url: Glue tables name S3 locations (leave it \"\" for a file:// target)")
        }
        if catalog.iceberg, output.timestampMillis || output.batching.holdsChanges {
            let key = output.timestampMillis ? "timestamp_millis" : "cdc_min_file_size_kib"
            throw try section("output").error(
                .invalidValue, key,
                "cannot be used with [catalog] iceberg = true (Iceberg timestamps are microseconds; held changes are not in the Iceberg commit yet)")
        }
        return Configuration(
            source: source,
            target: target,
            task: task,
            parquet: parquet,
            output: output,
            catalog: catalog,
            schedule: try readSchedule(section("schedule")),
            health: try readHealth(section("health")),
            log: try readLog(section("log")),
            cloudwatch: try readCloudWatch(section("cloudwatch")))
    }
}
