import Logging
import ObjectStore
import Replication

/// The daemon's configuration: what `replicatord --config FILE` reads, with every default documented.
///
/// Each section of the TOML file (see ``ConfigurationLoader`` for the list of keys) is one nested struct.
/// Every field has the default the loader uses when its key is absent; only `source.conninfo` and
/// `target.url` are required. A value of this type is always valid: the loader checks every rule
/// before it builds one.
///
/// Secrets never appear here, and the loader refuses them in the file: the PostgreSQL password comes
/// the libpq way (`PGPASSWORD`, `~/.pgpass`, `passfile=`), AWS credentials the AWS way
/// (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, the shared credentials file and
/// `AWS_PROFILE`, instance metadata).
public struct Configuration: Sendable, Equatable {
    /// `[source]`: the PostgreSQL database to replicate.
    public var source: Source
    /// `[target]`: where the Parquet files go.
    public var target: Target
    /// `[task]`: what to replicate and how, in DMS's terms.
    public var task: ReplicationTask
    /// `[parquet]`: how the Parquet files are encoded.
    public var parquet: ParquetOutput
    /// `[output]`: the columns replicatord adds to every row.
    public var output: Output
    /// `[catalog]`: table metadata kept next to the files for the query engines.
    public var catalog: Catalog
    /// `[schedule]`: how often a CDC cycle runs.
    public var schedule: Schedule
    /// `[health]`: the health and metrics HTTP endpoint.
    public var health: Health
    /// `[log]`: how the daemon logs.
    public var log: Log
    /// `[cloudwatch]`: the health figures the daemon publishes to CloudWatch (off by default).
    public var cloudwatch: CloudWatch

    /// A configuration with the given required sections and defaults for the rest.
    public init(
        source: Source,
        target: Target,
        task: ReplicationTask = .init(),
        parquet: ParquetOutput = .init(),
        output: Output = .init(),
        catalog: Catalog = .init(),
        schedule: Schedule = .init(),
        health: Health = .init(),
        log: Log = .init(),
        cloudwatch: CloudWatch = .init()
    ) {
        self.source = source
        self.target = target
        self.task = task
        self.parquet = parquet
        self.output = output
        self.catalog = catalog
        self.schedule = schedule
        self.health = health
        self.log = log
        self.cloudwatch = cloudwatch
    }
}

// MARK: - [source]

extension Configuration {
    /// `[source]`: the PostgreSQL database, its publication and the replication slot.
    public struct Source: Sendable, Equatable {
        /// `conninfo` (required): a libpq connection string, `key=value ...` or a `postgresql://` URI.
        /// Never carries a password: the loader rejects `password=` and `user:password@`.
        public var conninfo: String
        /// `publication`, default `"replicatord"`: the publication whose tables are replicated.
        public var publication: String
        /// `slot`, default `"replicatord"`: the logical replication slot, created on the first run if
        /// missing. Lowercase letters, digits and underscores, at most 63 characters.
        public var slot: String

        /// A source with the given conninfo and the default publication and slot.
        public init(conninfo: String, publication: String = "replicatord", slot: String = "replicatord") {
            self.conninfo = conninfo
            self.publication = publication
            self.slot = slot
        }
    }
}

// MARK: - [target]

extension Configuration {
    /// `[target]`: the object store or directory that receives the files.
    public struct Target: Sendable, Equatable {
        /// Server-side encryption of uploaded objects (`server_side_encryption`, `sse_kms_key_id`).
        public enum ServerSideEncryption: Sendable, Equatable {
            /// `""` (the default): no `x-amz-server-side-encryption` header; the bucket's default applies.
            case disabled
            /// `"AES256"`: S3-managed keys (SSE-S3).
            case aes256
            /// `"aws:kms"` with `sse_kms_key_id`: the given KMS key (SSE-KMS).
            case kms(keyID: String)
        }

        /// `url` (required): `s3://bucket[/prefix]` or `file:///absolute/dir`.
        public var location: TargetURL
        /// `region`, default `"us-east-1"`: the AWS region used to sign S3 requests.
        public var region: String
        /// `endpoint`, default `""` (AWS): an S3-compatible endpoint such as `"http://127.0.0.1:9000"`.
        public var endpoint: String
        /// `path_style`, default `false`: address buckets as `endpoint/bucket/key` (most S3-compatible
        /// stores) rather than `bucket.endpoint/key`.
        public var pathStyle: Bool
        /// `ca_file`, default `""` (the system's trust store): a PEM bundle to verify the endpoint with.
        public var caFile: String
        /// `part_size_mib`, default `8`, at least `5` (S3's minimum): the multipart upload part size.
        public var partSizeMiB: Int
        /// `upload_parallelism`, default `3`, `1...64`: parts uploaded at once per file.
        public var uploadParallelism: Int
        /// `server_side_encryption` (`""`, `"AES256"` or `"aws:kms"`, default `""`) and
        /// `sse_kms_key_id` (default `""`, required with `"aws:kms"`).
        public var serverSideEncryption: ServerSideEncryption

        /// The multipart upload part size in bytes.
        public var partSizeBytes: Int { partSizeMiB << 20 }

        /// A target at the given location with defaults for everything else.
        public init(
            location: TargetURL,
            region: String = "us-east-1",
            endpoint: String = "",
            pathStyle: Bool = false,
            caFile: String = "",
            partSizeMiB: Int = 8,
            uploadParallelism: Int = 3,
            serverSideEncryption: ServerSideEncryption = .disabled
        ) {
            self.location = location
            self.region = region
            self.endpoint = endpoint
            self.pathStyle = pathStyle
            self.caFile = caFile
            self.partSizeMiB = partSizeMiB
            self.uploadParallelism = uploadParallelism
            self.serverSideEncryption = serverSideEncryption
        }
    }
}

// MARK: - [task]

/// What a replication task does, named as AWS DMS names its migration types (`task.migration_type`).
public enum MigrationType: String, Sendable, Equatable, CaseIterable {
    /// `"full-load-and-cdc"` (the default): the full load once, then CDC every cycle.
    case fullLoadAndCDC = "full-load-and-cdc"
    /// `"full-load"`: every cycle copies all the data again in a fresh snapshot; no slot is kept.
    case fullLoad = "full-load"
    /// `"cdc"`: no full load; changes from the moment the slot was created.
    case cdc = "cdc"
}

extension Configuration {
    /// `[task]`: the migration type and the limits of a full load.
    public struct ReplicationTask: Sendable, Equatable {
        /// `migration_type`, default `"full-load-and-cdc"`.
        public var migrationType: MigrationType
        /// `max_file_size_mib`, default `1024`, at least `1`: a full-load file is split into
        /// `LOAD00000001.parquet`, `LOAD00000002.parquet`, ... once it reaches this size.
        public var maxFileSizeMiB: Int
        /// `parallel_tables`, default `2`, `1...64`: connections copying at once during a full load,
        /// each a whole table or a page range of a large one (the full load's connection budget).
        public var parallelTables: Int
        /// `include_op_for_full_load`, default `false`: full-load files start with an `Op` column of
        /// `I`, as DMS's `IncludeOpForFullLoad`.
        public var includeOpForFullLoad: Bool
        /// `spool_dir`, default `"/var/lib/replicatord/spool"`: an absolute directory for files being
        /// written and for transactions larger than memory. Set it to the unit's `StateDirectory=`
        /// (or anywhere writable) when not running under the packaged systemd unit.
        public var spoolDirectory: String
        /// `retained_wal_warn_mib`, default `4096`: a warning is logged when the replication slot
        /// holds back more WAL than this on the server (the daemon is falling behind or stopped).
        public var retainedWALWarnMiB: Int

        /// The maximum full-load file size in bytes.
        public var maxFileSizeBytes: Int { maxFileSizeMiB << 20 }

        /// A task with the given settings, every one defaulted.
        public init(
            migrationType: MigrationType = .fullLoadAndCDC,
            maxFileSizeMiB: Int = 1024,
            parallelTables: Int = 2,
            includeOpForFullLoad: Bool = false,
            spoolDirectory: String = "/var/lib/replicatord/spool",
            retainedWALWarnMiB: Int = 4096
        ) {
            self.retainedWALWarnMiB = retainedWALWarnMiB
            self.migrationType = migrationType
            self.maxFileSizeMiB = maxFileSizeMiB
            self.parallelTables = parallelTables
            self.includeOpForFullLoad = includeOpForFullLoad
            self.spoolDirectory = spoolDirectory
        }
    }
}

// MARK: - [parquet]

extension Configuration {
    /// `[parquet]`: compression, row groups and page format of the files written.
    public struct ParquetOutput: Sendable, Equatable {
        /// The column chunk compression codec (`compression`).
        public enum Compression: String, Sendable, Equatable, CaseIterable {
            /// `"zstd"` (the default).
            case zstd
            /// `"snappy"`: what DMS writes by default.
            case snappy
            /// `"gzip"`.
            case gzip
            /// `"none"`: uncompressed.
            case none
        }

        /// `logical_types`, default `"portable"`: which Parquet logical types the files use for
        /// `uuid` and `time` (see ``ParquetFileOptions/exactLogicalTypes``).
        public enum LogicalTypes: String, Sendable, Equatable, CaseIterable {
            /// `"portable"`: `uuid` and `time` as their PostgreSQL text (STRING), which every reader
            /// opens, Spark included.
            case portable
            /// `"exact"`: Parquet `UUID` and `TIME(MICROS)`; Spark 4 refuses a file with either.
            case exact
        }

        /// `compression`, default `"zstd"`.
        public var compression: Compression
        /// `compression_level`, default `1` for zstd (as pyarrow; a third less CPU in the full load
        /// than `3` for about 4% larger files) and `3` for gzip: `1...22` for zstd, `1...9` for gzip,
        /// ignored otherwise.
        public var compressionLevel: Int
        /// `row_group_mib`, default `128`, at least `1`: the uncompressed size at which a row group is
        /// closed; also the memory budget of one table's open file.
        public var rowGroupMiB: Int
        /// `page_version`, default `1`: data page format `1` (DataPage, read by everything) or `2`
        /// (DataPageV2).
        public var pageVersion: Int
        /// `logical_types`, default `"portable"`.
        public var logicalTypes: LogicalTypes

        /// The row group size in bytes.
        public var rowGroupBytes: Int { rowGroupMiB << 20 }

        /// Parquet settings, every one defaulted.
        public init(
            compression: Compression = .zstd,
            compressionLevel: Int = 1,
            rowGroupMiB: Int = 128,
            pageVersion: Int = 1,
            logicalTypes: LogicalTypes = .portable
        ) {
            self.compression = compression
            self.compressionLevel = compressionLevel
            self.rowGroupMiB = rowGroupMiB
            self.pageVersion = pageVersion
            self.logicalTypes = logicalTypes
        }
    }
}

// MARK: - [output]

extension Configuration {
    /// `[output]`: the order and time columns every row carries after the table's own (see the
    /// README's "Order and time of every row"). An empty name leaves the column out (DMS's layout).
    public struct Output: Sendable, Equatable {
        /// `seq_column`, default `"_seq"`: the row's apply order (commit LSN, position in the transaction).
        public var seqColumn: String
        /// `commit_ts_column`, default `"_commit_ts"`: the commit time of the row's transaction (DMS's
        /// `TimestampColumnName`); for LOAD rows the time the snapshot was taken.
        public var commitTimeColumn: String

        /// `date_partition` (DMS `DatePartitionEnabled`) with `date_partition_sequence`,
        /// `date_partition_delimiter` and `date_partition_timezone`: CDC files in date folders; nil: off.
        public var datePartition: DatePartition?
        /// `cdc_inserts_only` / `cdc_inserts_and_updates` (DMS `CdcInsertsOnly`, `CdcInsertsAndUpdates`).
        public var writtenChanges: WrittenChanges
        /// `timestamp_millis` (DMS `ParquetTimestampInMillisecond`): timestamps as TIMESTAMP(MILLIS).
        public var timestampMillis: Bool
        /// `cdc_min_file_size_kib` and `cdc_max_batch_interval_seconds` (DMS `CdcMinFileSize`,
        /// `CdcMaxBatchInterval`): when a table's held changes are written.
        public var batching: CDCBatching

        public init(
            seqColumn: String = "_seq", commitTimeColumn: String = "_commit_ts", datePartition: DatePartition? = nil,
            writtenChanges: WrittenChanges = .all, timestampMillis: Bool = false, batching: CDCBatching = CDCBatching()
        ) {
            self.seqColumn = seqColumn
            self.commitTimeColumn = commitTimeColumn
            self.datePartition = datePartition
            self.writtenChanges = writtenChanges
            self.timestampMillis = timestampMillis
            self.batching = batching
        }
    }
}

// MARK: - [catalog]

extension Configuration {
    /// `[catalog]`: metadata for the query engines kept next to the files.
    public struct Catalog: Sendable, Equatable {
        /// `iceberg`, default `false`: each table folder also holds an Apache Iceberg v2 table over
        /// its LOAD and CDC files (`<table>/metadata/`), one snapshot per cycle (docs/iceberg.md).
        public var iceberg: Bool
        /// `glue_database`, default `""` (off): the AWS Glue database the daemon keeps one table per
        /// replicated table in, updated before files with a new layout are visible (docs/glue.md).
        public var glueDatabase: String
        /// `glue_region`, default `""`: the Glue catalog's region; empty means `[target] region`.
        public var glueRegion: String
        /// `glue_endpoint`, default `""` (AWS's own): a Glue-compatible endpoint, as `[target] endpoint` for S3.
        public var glueEndpoint: String
        /// `iceberg_snapshot_retention`, default `"5d"`: snapshots older than this are expired
        /// (the current one and its parent stay), with the manifest lists and manifests only they
        /// used; the data files stay (they are the change log). `s`, `m`, `h` or `d` units.
        public var icebergSnapshotRetentionSeconds: Int64

        public init(
            iceberg: Bool = false, glueDatabase: String = "", glueRegion: String = "", glueEndpoint: String = "",
            icebergSnapshotRetentionSeconds: Int64 = 5 * 86_400
        ) {
            self.iceberg = iceberg
            self.glueDatabase = glueDatabase
            self.glueRegion = glueRegion
            self.glueEndpoint = glueEndpoint
            self.icebergSnapshotRetentionSeconds = icebergSnapshotRetentionSeconds
        }
    }
}

// MARK: - [schedule]

extension Configuration {
    /// `[schedule]`: the CDC cycle.
    public struct Schedule: Sendable, Equatable {
        /// `interval_seconds`, default `120`, at least `1`: time between the starts of two CDC cycles.
        public var intervalSeconds: Int

        /// The interval between cycles.
        public var interval: Duration { .seconds(intervalSeconds) }

        /// A schedule with the given interval.
        public init(intervalSeconds: Int = 120) {
            self.intervalSeconds = intervalSeconds
        }
    }
}

// MARK: - [health]

extension Configuration {
    /// A TCP address to listen on: a host name or IP address and a port.
    public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
        /// The host name or IP address, IPv6 without brackets (`"::1"`).
        public var host: String
        /// The TCP port, `0...65535` (`0` lets the system choose).
        public var port: Int

        /// An address from its parts.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port`, with an IPv6 host in brackets (`[::1]:8080`).
        public var description: String {
            host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// `[health]`: the `GET /health` and `GET /metrics` endpoint.
    public struct Health: Sendable, Equatable {
        /// `listen`, default `"127.0.0.1:8080"`: `host:port`, IPv6 in brackets (`"[::1]:8080"`).
        public var listen: ListenAddress

        /// Health settings with the given address.
        public init(listen: ListenAddress = .init(host: "127.0.0.1", port: 8080)) {
            self.listen = listen
        }
    }
}

// MARK: - [log]

extension Configuration {
    /// `[log]`: log line format and threshold.
    public struct Log: Sendable, Equatable {
        /// How each log record is printed (`format`).
        public enum Format: String, Sendable, Equatable, CaseIterable {
            /// `"logfmt"` (the default): `key=value` pairs, for people and journald.
            case logfmt
            /// `"json"`: one JSON object a line, for log shippers.
            case json
        }

        /// `format`, default `"logfmt"`.
        public var format: Format
        /// `level`, default `"info"`: `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`.
        public var level: Logger.Level

        /// Log settings, every one defaulted.
        public init(format: Format = .logfmt, level: Logger.Level = .info) {
            self.format = format
            self.level = level
        }
    }
}
