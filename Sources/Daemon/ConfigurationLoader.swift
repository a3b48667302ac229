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
        ("target", [
            "url", "region", "endpoint", "path_style", "ca_file", "part_size_mib", "upload_parallelism",
            "server_side_encryption", "sse_kms_key_id",
        ]),
        ("task", ["migration_type", "max_file_size_mib", "parallel_tables", "include_op_for_full_load", "spool_dir",
                  "retained_wal_warn_mib"]),
        ("parquet", ["compression", "compression_level", "row_group_mib", "page_version", "logical_types"]),
        ("output", ["seq_column", "commit_ts_column", "date_partition", "date_partition_sequence", "date_partition_delimiter",
                    "date_partition_timezone", "cdc_inserts_only", "cdc_inserts_and_updates", "timestamp_millis",
                    "cdc_min_file_size_kib", "cdc_max_batch_interval_seconds"]),
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
            throw ConfigurationError(.invalidTOML, path: path, line: line,
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
            throw ConfigurationError(.invalidValue, path: path, key: "catalog.glue_database",
                                     line: lines.line(section: "catalog", key: "glue_database"),
                                     message: "needs an s3:// [target] url: Glue tables name S3 locations (leave it \"\" for a file:// target)")
        }
        if catalog.iceberg, output.timestampMillis || output.batching.holdsChanges {
            let key = output.timestampMillis ? "timestamp_millis" : "cdc_min_file_size_kib"
            throw try section("output").error(.invalidValue, key, "cannot be used with [catalog] iceberg = true (Iceberg timestamps are microseconds; held changes are not in the Iceberg commit yet)")
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

    /// `text` with control characters written as escapes (toml++ quotes the offending input, which
    /// may hold a line break), so an error stays one line.
    static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The line of a table header whose name starts with a character no key can start with (`[=`,
    /// `[[[`, `[#`, `[\\`) or is missing (`[` and the line ends), or nil. toml++ (under TOMLKit)
    /// does not report these: it fails an assertion and aborts the process, release builds included
    /// (found by ConfigurationFuzzTests). Every line is looked at, also one inside a multi-line
    /// string or array (telling those apart is the parser's job, and a mistake there would let the
    /// crash through): such a line there is refused too, which no key of this file needs.
    static func headerWithoutName(_ text: String) -> Int? {
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" }
        for (index, line) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var scalars = line.drop { isSpace($0) || $0 == "\u{FEFF}" }  // a byte order mark may open the file
            guard scalars.first == "[" else { continue }
            scalars = scalars.dropFirst()
            let hadSpace = scalars.first.map(isSpace) ?? false
            scalars = scalars.drop(while: isSpace)
            if scalars.first == "[", !hadSpace { scalars = scalars.dropFirst().drop(while: isSpace) }
            guard let first = scalars.first, first != "\r" else { return index + 1 }  // "[" and the line ends
            let v = first.value
            let startsKey = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
                || first == "_" || first == "-" || first == "\"" || first == "'" || first == "]"
            if !startsKey { return index + 1 }
        }
        return nil
    }

    /// Where toml++ would meet, in an array, a character that ends a value before the value (a `}`
    /// after `[` or `,`, or one of the line separators U+0085, U+2028, U+2029): its array parser
    /// then fails an assertion and aborts the process (found by ConfigurationFuzzTests) instead of
    /// reporting the mistake. The line and what is wrong, or nil. Strings and comments are skipped;
    /// the line separators are refused anywhere, since no value of this file needs them.
    static func valueTerminatorInArray(_ text: String) -> (Int, String)? {
        let scalars = Array(text.unicodeScalars)
        var line = 1
        var last: Unicode.Scalar = "\n"   // the last character outside strings, comments and blanks
        var k = 0
        func starts(_ s: String, at i: Int) -> Bool {
            let p = Array(s.unicodeScalars)
            return i + p.count <= scalars.count && Array(scalars[i..<i + p.count]) == p
        }
        while k < scalars.count {
            let c = scalars[k]
            if c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" {
                return (line, "the line separator U+\(String(c.value, radix: 16, uppercase: true)) is not allowed in this file")
            }
            switch c {
            case "\n":
                line += 1
            case " ", "\t", "\r":
                break
            case "#":
                while k + 1 < scalars.count && scalars[k + 1] != "\n" {
                    k += 1
                    if ["\u{85}", "\u{2028}", "\u{2029}"].contains(scalars[k]) { return (line, "the line separator U+\(String(scalars[k].value, radix: 16, uppercase: true)) is not allowed in this file") }
                }
            case "\"", "'":
                // A string: basic or literal, one line or multi-line (three quotes).
                let multi = starts(String(repeating: String(c), count: 3), at: k)
                k += multi ? 3 : 1
                while k < scalars.count {
                    let d = scalars[k]
                    if d == "\u{85}" || d == "\u{2028}" || d == "\u{2029}" {
                        return (line, "the line separator U+\(String(d.value, radix: 16, uppercase: true)) is not allowed in this file")
                    }
                    if d == "\n" {
                        line += 1
                        if !multi { break }   // the string ends unclosed: the parser reports it
                    }
                    if c == "\"" && d == "\\" { k += 2; continue }
                    if d == c && (!multi || starts(String(repeating: String(c), count: 3), at: k)) {
                        k += multi ? 2 : 0
                        break
                    }
                    k += 1
                }
                last = c
            case "}":
                if last == "[" || last == "," { return (line, "'}' where a value or ']' was expected (after '\(last)')") }
                last = c
            default:
                last = c
            }
            k += 1
        }
        return nil
    }

    // MARK: Sections

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
        return .init(compression: compression, compressionLevel: level, rowGroupMiB: rowGroup, pageVersion: pageVersion,
                     logicalTypes: logicalTypes)
    }

    static func readCatalog(_ s: SectionReader) throws(ConfigurationError) -> Configuration.Catalog {
        let database = try s.string("glue_database", default: "")
        try s.check("glue_database") { () throws(ValueProblem) in
            // Glue: 1 to 255 characters; Athena and Hive take lower-case letters, digits and underscores.
            guard database.isEmpty || (database.utf8.count <= 255
                && database.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) else {
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
            throw s.error(.invalidValue, "iceberg_snapshot_retention",
                          "expected a whole number and a unit (s, m, h or d), e.g. \"5d\" or \"36h\", got \"\(retention)\"")
        }
        return .init(iceberg: try s.bool("iceberg", default: false), glueDatabase: database, glueRegion: region, glueEndpoint: endpoint,
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
        return .init(seqColumn: seq, commitTimeColumn: time,
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

    // MARK: Unknown sections and keys

    /// Key names that hold secrets: refused wherever they appear, with where the secret belongs.
    static let secretKeys: Set<String> = [
        "password", "sslpassword", "pgpassword", "access_key_id", "aws_access_key_id", "secret_access_key",
        "aws_secret_access_key", "secret_key", "session_token", "aws_session_token",
    ]

    static let postgresPasswordAdvice =
        "the PostgreSQL password never goes in the config file; give it the libpq way: PGPASSWORD, ~/.pgpass or passfile="
    static let awsCredentialsAdvice =
        "AWS credentials never go in the config file; they come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, the shared credentials file with AWS_PROFILE, or instance metadata"

    /// Refuses any section or key not in ``knownKeys``, the first in file order.
    static func checkKnownKeys(_ root: TOMLTable, path: String, lines: KeyLines) throws(ConfigurationError) {
        let sectionNames = knownKeys.map(\.section)
        var errors: [ConfigurationError] = []
        for name in root.keys {
            let line = lines.line(section: name)
            guard let known = knownKeys.first(where: { $0.section == name }) else {
                if secretKeys.contains(name.lowercased()) {
                    let advice = name.lowercased().contains("password") ? postgresPasswordAdvice : awsCredentialsAdvice
                    errors.append(.init(.secretInFile, path: path, key: name, line: line, message: advice))
                } else if root[name]?.table == nil, let home = knownKeys.first(where: { $0.keys.contains(name) }) {
                    errors.append(.init(
                        .unknownKey, path: path, key: name, line: line,
                        message: "keys belong in their section; did you mean \(home.section).\(name) under [\(home.section)]?"))
                } else if let close = closest(to: name, in: sectionNames) {
                    errors.append(.init(.unknownSection, path: path, key: name, line: line, message: "unknown section; did you mean [\(close)]?"))
                } else {
                    let list = sectionNames.map { "[\($0)]" }.joined(separator: ", ")
                    errors.append(.init(.unknownSection, path: path, key: name, line: line, message: "unknown section; the sections are \(list)"))
                }
                continue
            }
            guard let table = root[name]?.table else { continue }  // SectionReader reports the wrong type.
            for key in table.keys where !known.keys.contains(key) {
                let line = lines.line(section: name, key: key)
                let fullKey = "\(name).\(key)"
                if secretKeys.contains(key.lowercased()) {
                    let advice = name == "source" || key.lowercased().contains("password") ? postgresPasswordAdvice : awsCredentialsAdvice
                    errors.append(.init(.secretInFile, path: path, key: fullKey, line: line, message: advice))
                } else if let close = closest(to: key, in: known.keys) {
                    errors.append(.init(.unknownKey, path: path, key: fullKey, line: line, message: "unknown key; did you mean \(name).\(close)?"))
                } else if let home = knownKeys.first(where: { $0.keys.contains(key) }) {
                    errors.append(.init(
                        .unknownKey, path: path, key: fullKey, line: line,
                        message: "unknown key in [\(name)]; did you mean \(home.section).\(key) under [\(home.section)]?"))
                } else {
                    errors.append(.init(
                        .unknownKey, path: path, key: fullKey, line: line,
                        message: "unknown key; [\(name)] has \(known.keys.joined(separator: ", "))"))
                }
            }
        }
        if let first = errors.min(by: { ($0.line ?? .max) < ($1.line ?? .max) }) { throw first }
    }

    /// The candidate within edit distance 2 of `word` (ignoring case), the closest first; else one that
    /// `word` abbreviates or extends by at least 3 characters (`warn` for `warning`).
    static func closest(to word: String, in candidates: [String]) -> String? {
        let word = word.lowercased()
        let scored = candidates.map { ($0, editDistance(word, $0.lowercased())) }
        if let close = scored.filter({ $0.1 <= 2 }).min(by: { $0.1 < $1.1 })?.0 { return close }
        guard word.count >= 3 else { return nil }
        return candidates.first { $0.count >= 3 && ($0.lowercased().hasPrefix(word) || word.hasPrefix($0.lowercased())) }
    }

    /// The Levenshtein distance between two strings, in characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    // MARK: Values

    /// Refuses a slot name PostgreSQL would refuse: lowercase letters, digits, underscores, 1...63.
    static func checkSlotName(_ slot: String) throws(ValueProblem) {
        let valid = !slot.isEmpty && slot.utf8.count <= 63
            && slot.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
        guard valid else {
            throw ValueProblem("expected a slot name of 1 to 63 lowercase letters, digits and underscores, got \"\(slot)\"")
        }
    }

    /// Refuses a conninfo that holds a password (or the client key's passphrase), or that cannot be split
    /// into keywords. Never quotes the conninfo, which might hold a secret.
    static func checkConninfo(_ conninfo: String) throws(ValueProblem) {
        let trimmed = conninfo.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw ValueProblem("expected a libpq conninfo such as \"host=127.0.0.1 dbname=app user=replicator\", got an empty string")
        }
        let keywords = try conninfoKeywords(trimmed)
        if keywords.contains("password") {
            throw ValueProblem("holds a password; \(postgresPasswordAdvice)", secret: true)
        }
        if keywords.contains("sslpassword") {
            throw ValueProblem(
                "holds sslpassword; the client key's passphrase never goes in the config file: use a key file without one, readable only by the daemon's user",
                secret: true)
        }
    }

    /// The keywords of a conninfo, `"password"` among them for a URI with `user:password@`.
    static func conninfoKeywords(_ conninfo: String) throws(ValueProblem) -> [String] {
        for scheme in ["postgresql://", "postgres://"] where conninfo.lowercased().hasPrefix(scheme) {
            let rest = conninfo.dropFirst(scheme.count)
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            var keywords: [String] = []
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                keywords.append("user")
                if userinfo.contains(":") { keywords.append("password") }
            }
            if let question = rest.firstIndex(of: "?") {
                for parameter in rest[rest.index(after: question)...].split(separator: "&") {
                    let name = parameter.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                    keywords.append((name.removingPercentEncoding ?? name).lowercased())
                }
            }
            return keywords
        }
        // key = value pairs; values may be single-quoted, with \' and \\ escapes (libpq's rules).
        var keywords: [String] = []
        var chars = conninfo[...]
        func skipSpaces() { chars = chars.drop(while: \.isWhitespace) }
        skipSpaces()
        while !chars.isEmpty {
            let key = chars.prefix(while: { $0 != "=" && !$0.isWhitespace })
            chars = chars.dropFirst(key.count)
            skipSpaces()
            guard chars.first == "=", !key.isEmpty else {
                throw ValueProblem("cannot be read as libpq conninfo: expected keyword=value pairs or a postgresql:// URI")
            }
            chars = chars.dropFirst()
            skipSpaces()
            if chars.first == "'" {
                chars = chars.dropFirst()
                var closed = false
                while let c = chars.first {
                    chars = chars.dropFirst()
                    if c == "\\" { chars = chars.dropFirst(); continue }
                    if c == "'" { closed = true; break }
                }
                guard closed else { throw ValueProblem("cannot be read as libpq conninfo: a quoted value is not closed") }
            } else {
                while let c = chars.first, !c.isWhitespace {
                    chars = chars.dropFirst(c == "\\" ? 2 : 1)
                }
            }
            keywords.append(key.lowercased())
            skipSpaces()
        }
        return keywords
    }

    /// Parses `target.url` into the one type the object store takes (see `TargetURL`).
    static func parseTargetURL(_ url: String) throws(ValueProblem) -> TargetURL {
        do { return try TargetURL(parsing: url) } catch { throw ValueProblem(error.description) }
    }

    /// Checks `target.endpoint`: empty, or an `http(s)://host[:port][/path]` URL without credentials;
    /// returns it without a trailing slash.
    static func checkEndpoint(_ endpoint: String) throws(ValueProblem) -> String {
        guard !endpoint.isEmpty else { return "" }
        let lowered = endpoint.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lowered.hasPrefix($0) }) else {
            throw ValueProblem("expected \"\" (AWS) or an http:// or https:// URL such as \"http://127.0.0.1:9000\", got \"\(endpoint)\"")
        }
        let rest = endpoint.dropFirst(scheme.count)
        let authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        guard !authority.contains("@") else { throw ValueProblem("holds credentials; \(awsCredentialsAdvice)", secret: true) }
        guard !authority.isEmpty else {
            throw ValueProblem("expected an http:// or https:// URL with a host, such as \"http://127.0.0.1:9000\", got \"\(endpoint)\"")
        }
        var result = Substring(endpoint)
        while result.hasSuffix("/") { result = result.dropLast() }
        return String(result)
    }

    /// Parses `health.listen`: `host:port` or `[ipv6]:port`, port `0...65535`.
    static func parseListenAddress(_ text: String) throws(ValueProblem) -> Configuration.ListenAddress {
        let expected = "expected host:port such as \"127.0.0.1:8080\" or \"[::1]:8080\", got \"\(text)\""
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ValueProblem(expected) }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":"), host.contains(":") else { throw ValueProblem(expected) }
            portText = after.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ValueProblem(expected) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { throw ValueProblem("\(expected): an IPv6 address goes in brackets, as \"[::1]:8080\"") }
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else { throw ValueProblem(expected) }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), portText.count <= 5,
            let port = Int(portText), (0...65535).contains(port)
        else {
            throw ValueProblem("\(expected): the port must be a number from 0 to 65535")
        }
        return .init(host: String(host), port: port)
    }

}

// MARK: - Reading one section

/// Why a value is refused, before the key and line are attached.
struct ValueProblem: Error {
    /// One sentence: what is wrong and what is expected.
    var message: String
    /// Whether the value held a secret (reported as ``ConfigurationError/Code/secretInFile``).
    var secret: Bool

    init(_ message: String, secret: Bool = false) {
        self.message = message
        self.secret = secret
    }
}

/// Typed access to one `[section]` of the file, turning every mistake into a ``ConfigurationError``.
struct SectionReader {
    let name: String
    let table: TOMLTable?
    let path: String
    let lines: KeyLines

    init(name: String, root: TOMLTable, path: String, lines: KeyLines) throws(ConfigurationError) {
        self.name = name
        self.path = path
        self.lines = lines
        if let value = root[name] {
            guard let table = value.table else {
                throw ConfigurationError(
                    .wrongType, path: path, key: name, line: lines.line(section: name),
                    message: "expected a [\(name)] section, got \(Self.describe(value.type))")
            }
            self.table = table
        } else {
            self.table = nil
        }
    }

    /// An error about `key` of this section, at its line (or the section's line).
    func error(_ code: ConfigurationError.Code, _ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(code, path: path, key: "\(name).\(key)", line: lines.line(section: name, key: key), message: message)
    }

    /// Runs a check of `key`'s value, attaching the key and line to its problem.
    func check<T>(_ key: String, _ body: () throws(ValueProblem) -> T) throws(ConfigurationError) -> T {
        do {
            return try body()
        } catch {
            throw self.error(error.secret ? .secretInFile : .invalidValue, key, error.message)
        }
    }

    func requiredString(_ key: String, example: String) throws(ConfigurationError) -> String {
        guard let value = try optionalString(key) else {
            throw error(.missingKey, key, "missing; this key is required, e.g. [\(name)] \(key) = \(example)")
        }
        return value
    }

    func string(_ key: String, default defaultValue: String) throws(ConfigurationError) -> String {
        try optionalString(key) ?? defaultValue
    }

    private func optionalString(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = table?[key] else { return nil }
        guard let string = value.string else { throw wrongType(key, expected: "a string", got: value) }
        return string
    }

    func bool(_ key: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let value = table?[key] else { return defaultValue }
        guard let bool = value.bool else { throw wrongType(key, expected: "a boolean (true or false)", got: value) }
        return bool
    }

    func int(
        _ key: String, default defaultValue: Int, in range: ClosedRange<Int>? = nil, note: String = ""
    ) throws(ConfigurationError) -> Int {
        guard let value = table?[key] else { return defaultValue }
        guard let int = value.int else { throw wrongType(key, expected: "an integer", got: value) }
        if let range, !range.contains(int) {
            throw error(.invalidValue, key, "expected an integer from \(range.lowerBound) to \(range.upperBound)\(note), got \(int)")
        }
        return int
    }

    /// A string value that must be one of `options` (TOML spelling, value).
    func choice<T>(_ key: String, default defaultValue: T, options: [(String, T)]) throws(ConfigurationError) -> T {
        guard let value = table?[key] else { return defaultValue }
        let list = options.map { "\"\($0.0)\"" }.joined(separator: ", ")
        guard let string = value.string else { throw wrongType(key, expected: "one of \(list)", got: value) }
        if let match = options.first(where: { $0.0 == string }) { return match.1 }
        var message = "expected one of \(list), got \"\(string)\""
        if let close = ConfigurationLoader.closest(to: string, in: options.map(\.0).filter { !$0.isEmpty }) {
            message += "; did you mean \"\(close)\"?"
        }
        throw error(.invalidValue, key, message)
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: T) throws(ConfigurationError) -> T
    where T.RawValue == String {
        try choice(key, default: defaultValue, options: T.allCases.map { ($0.rawValue, $0) })
    }

    private func wrongType(_ key: String, expected: String, got value: any TOMLValueConvertible) -> ConfigurationError {
        var message = "expected \(expected), got \(Self.describe(value.type))"
        if let string = value.string {
            if Int(string) != nil || string == "true" || string == "false" {
                message += "; write \(string) without quotes"
            }
        } else if expected.hasPrefix("a string") || expected.hasPrefix("one of") {
            message += "; put the value in quotes"
        }
        return error(.wrongType, key, message)
    }

    /// "a string", "an integer", ... for a TOML type.
    static func describe(_ type: TOMLType) -> String {
        switch type {
        case .string: return "a string"
        case .int: return "an integer"
        case .double: return "a floating-point number"
        case .bool: return "a boolean"
        case .table: return "a table"
        case .array: return "an array"
        case .date: return "a date"
        case .time: return "a time"
        case .dateTime: return "a date-time"
        }
    }
}

// MARK: - Lines of keys

/// Where each `section.key` and `[section]` first appears in the text: a line scan, good enough to
/// point at the key of a type or value error (TOMLKit keeps no positions for values).
struct KeyLines {
    private var sections: [String: Int] = [:]
    private var keys: [String: Int] = [:]

    init(text: String) {
        var section = ""
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines.union(["\u{FEFF}"]))
            if line.hasPrefix("[") {
                let inside = line.drop(while: { $0 == "[" }).prefix(while: { $0 != "]" })
                section = Self.normalize(inside)
                sections[section] = sections[section] ?? number
                continue
            }
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            let key = Self.normalize(line[..<equals])
            let full = section.isEmpty ? key : "\(section).\(key)"
            keys[full] = keys[full] ?? number
            if section.isEmpty {  // `target = { ... }` or `target.url = ...` at the top level
                let head = String(key.prefix(while: { $0 != "." }))
                sections[head] = sections[head] ?? number
            }
        }
    }

    /// `a . "b"` -> `a.b`: a (dotted) key or table name without spaces and quotes.
    private static func normalize(_ key: some StringProtocol) -> String {
        key.split(separator: ".").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'")) }
            .joined(separator: ".")
    }

    /// The line of `[section]`, or of the first key that opens it.
    func line(section: String) -> Int? { sections[section] }

    /// The line of `key` in `section`, else the section's line.
    func line(section: String, key: String) -> Int? { keys["\(section).\(key)"] ?? sections[section] }
}

// MARK: - Entry points and the effective configuration

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
        let (sse, kmsKey): (String, String) = switch target.serverSideEncryption {
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
