import Foundation
import ObjectStore
import Testing
@testable import Daemon

/// The smallest valid file: the two required keys. `[target]` is on line 4, `url` on line 5.
private let minimal = """
    [source]
    conninfo = "host=db dbname=app"

    [target]
    url = "s3://bucket/prefix"

    """

/// A valid file with `lines` added to `[section]`, always starting on line 8.
private func with(_ section: String, _ lines: String) -> String {
    switch section {
    case "source": return "[target]\nurl = \"s3://bucket/prefix\"\n\n\n\n[source]\nconninfo = \"host=db dbname=app\"\n\(lines)\n"
    case "target": return "[source]\nconninfo = \"host=db dbname=app\"\n\n\n\n[target]\nurl = \"s3://bucket/prefix\"\n\(lines)\n"
    default: return minimal + "\n[\(section)]\n" + lines + "\n"
    }
}

/// The error parsing `text` throws, or nil when it parses.
private func failure(_ text: String) -> ConfigurationError? {
    do {
        _ = try Configuration.parse(text, path: "r.toml")
        return nil
    } catch {
        return error
    }
}

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

// MARK: - Whole files

@Test func exampleConfigFileLoadsAsDocumented() throws {
    let path = repositoryRoot.appendingPathComponent("config/replicatord.toml").path
    let config = try Configuration.load(path: path)
    #expect(
        config
            == Configuration(
                source: .init(conninfo: "host=127.0.0.1 port=5432 dbname=app user=replicator"),
                target: .init(location: .s3(bucket: "my-bucket", prefix: "some/prefix"))))
}

@Test func exampleConfigEffectiveTOMLLoadsBackEqual() throws {
    let path = repositoryRoot.appendingPathComponent("config/replicatord.toml").path
    let config = try Configuration.load(path: path)
    #expect(try Configuration.parse(config.effectiveTOML) == config)
}

@Test func minimalFileGetsEveryDefault() throws {
    let config = try Configuration.parse(minimal)
    #expect(
        config
            == Configuration(
                source: .init(conninfo: "host=db dbname=app"),
                target: .init(location: .s3(bucket: "bucket", prefix: "prefix"))))
}

@Test func everyKeyIsReadAndLoadsBackFromEffectiveTOML() throws {
    let text = """
        [source]
        conninfo = "postgresql://replicator@db:5432/app?sslmode=verify-full"
        publication = "pub_all"
        slot = "slot_1"
        [target]
        url = "file:///srv/out/"
        region = "eu-west-3"
        endpoint = "http://127.0.0.1:9000/"
        path_style = true
        ca_file = "/etc/ssl/minio.pem"
        part_size_mib = 16
        upload_parallelism = 8
        server_side_encryption = "aws:kms"
        sse_kms_key_id = "arn:aws:kms:eu-west-3:1:key/abc"
        [task]
        migration_type = "cdc"
        max_file_size_mib = 256
        parallel_tables = 4
        include_op_for_full_load = true
        spool_dir = "/tmp/spool"
        [parquet]
        compression = "gzip"
        compression_level = 9
        row_group_mib = 64
        page_version = 2
        [catalog]
        iceberg = true
        [schedule]
        interval_seconds = 30
        [health]
        listen = "[::1]:9090"
        [log]
        format = "json"
        level = "debug"
        """
    let expected = Configuration(
        source: .init(conninfo: "postgresql://replicator@db:5432/app?sslmode=verify-full", publication: "pub_all", slot: "slot_1"),
        target: .init(
            location: .directory(path: "/srv/out"), region: "eu-west-3", endpoint: "http://127.0.0.1:9000", pathStyle: true,
            caFile: "/etc/ssl/minio.pem", partSizeMiB: 16, uploadParallelism: 8,
            serverSideEncryption: .kms(keyID: "arn:aws:kms:eu-west-3:1:key/abc")),
        task: .init(migrationType: .cdc, maxFileSizeMiB: 256, parallelTables: 4, includeOpForFullLoad: true, spoolDirectory: "/tmp/spool"),
        parquet: .init(compression: .gzip, compressionLevel: 9, rowGroupMiB: 64, pageVersion: 2),
        catalog: .init(iceberg: true),
        schedule: .init(intervalSeconds: 30),
        health: .init(listen: .init(host: "::1", port: 9090)),
        log: .init(format: .json, level: .debug))
    let config = try Configuration.parse(text)
    #expect(config == expected)
    #expect(try Configuration.parse(config.effectiveTOML) == expected)
}

@Test func effectiveTOMLEscapesQuotesAndBackslashes() throws {
    var config = try Configuration.parse(minimal)
    config.source.conninfo = #"host=db application_name='a \' "b" \\ c'"#
    config.source.publication = "pub \"x\"\tz"
    #expect(try Configuration.parse(config.effectiveTOML) == config)
}

@Test func effectiveTOMLNeverShowsAPasswordSetInCode() throws {
    var config = try Configuration.parse(minimal)
    config.source.conninfo = "host=db password=hunter2"
    #expect(!config.effectiveTOML.contains("hunter2"))
}

@Test func windowsLineEndingsKeepLineNumbers() {
    let error = failure("[source]\r\nconninfo = \"dbname=app\"\r\n[target]\r\nurl = \"ftp://x\"\r\n")
    #expect(error?.key == "target.url")
    #expect(error?.line == 4)
}

@Test func topLevelDottedKeysAndInlineTablesAreAccepted() throws {
    let text = """
        source = { conninfo = "dbname=app" }
        target.url = "s3://bucket"
        """
    #expect(try Configuration.parse(text).target.location == .s3(bucket: "bucket", prefix: ""))
}

// MARK: - The file itself

@Test func missingFileIsReportedWithItsPath() {
    #expect(throws: ConfigurationError.self) { try Configuration.load(path: "/nonexistent/replicatord.toml") }
    do {
        _ = try Configuration.load(path: "/nonexistent/replicatord.toml")
    } catch {
        #expect(error.code == .unreadableFile)
        #expect(error.description.hasPrefix("/nonexistent/replicatord.toml: no such file"))
    }
}

@Test func directoryInsteadOfFileIsRefused() {
    do {
        _ = try Configuration.load(path: "/tmp")
        Issue.record("a directory loaded")
    } catch {
        #expect(error.code == .unreadableFile)
        #expect(error.message.contains("directory"))
    }
}

@Test(.enabled(if: getuid() != 0, "root reads any file"))
func unreadableFileSaysPermissionDenied() throws {
    let path = NSTemporaryDirectory() + "replicatord-unreadable-\(getpid()).toml"
    try minimal.write(toFile: path, atomically: false, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    chmod(path, 0)
    do {
        _ = try Configuration.load(path: path)
        Issue.record("an unreadable file loaded")
    } catch {
        #expect(error.code == .unreadableFile)
        #expect(error.description == "\(path): cannot be read (permission denied for this user)")
    }
}

@Test func fileOnDiskLoadsWithItsPathInErrors() throws {
    let path = NSTemporaryDirectory() + "replicatord-bad-\(getpid()).toml"
    try with("log", "level = \"loud\"").write(toFile: path, atomically: false, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
        _ = try Configuration.load(path: path)
        Issue.record("a bad file loaded")
    } catch {
        #expect(error.description.hasPrefix("\(path):8: log.level: expected one of"))
    }
}

@Test func invalidTOMLReportsTheParserLine() {
    let error = failure("[source]\nconninfo = \"dbname=app\"\n\n[target]\nurl = s3://nope\n")
    #expect(error?.code == .invalidTOML)
    #expect(error?.line == 5)
    #expect(error?.key == nil)
    #expect(error?.underlying != nil)
}

// MARK: - Missing and unknown keys

@Test func missingConninfoIsNamed() {
    let error = failure("[target]\nurl = \"s3://bucket\"\n")
    #expect(error?.code == .missingKey)
    #expect(error?.key == "source.conninfo")
    #expect(error?.line == nil)
    #expect(error?.description.hasPrefix("r.toml: source.conninfo: missing") == true)
}

@Test func missingTargetURLPointsAtItsSection() {
    let error = failure("[source]\nconninfo = \"dbname=app\"\n[target]\nregion = \"eu-west-1\"\n")
    #expect(error?.code == .missingKey)
    #expect(error?.key == "target.url")
    #expect(error?.line == 3)
}

@Test func unknownKeySuggestsTheCloseOne() {
    let error = failure(with("task", "paralel_tables = 3"))
    #expect(error?.code == .unknownKey)
    #expect(error?.key == "task.paralel_tables")
    #expect(error?.line == 8)
    #expect(error?.message == "unknown key; did you mean task.parallel_tables?")
}

@Test func unknownKeyWithoutCloseMatchListsTheSection() {
    let error = failure(with("schedule", "cron = \"* * * * *\""))
    #expect(error?.code == .unknownKey)
    #expect(error?.message == "unknown key; [schedule] has interval_seconds")
}

@Test func keyInTheWrongSectionNamesItsHome() {
    let error = failure(with("source", "region = \"eu-west-1\""))
    #expect(error?.key == "source.region")
    #expect(error?.message.contains("target.region") == true)
}

@Test func unknownSectionSuggestsTheCloseOne() {
    let error = failure(minimal + "[schedul]\ninterval_seconds = 5\n")
    #expect(error?.code == .unknownSection)
    #expect(error?.key == "schedul")
    #expect(error?.line == 6)
    #expect(error?.message == "unknown section; did you mean [schedule]?")
}

@Test func topLevelKeyOutsideItsSectionIsRefused() {
    let error = failure("conninfo = \"dbname=app\"\n" + minimal)
    #expect(error?.code == .unknownKey)
    #expect(error?.line == 1)
    #expect(error?.message.contains("source.conninfo") == true)
}

@Test func firstUnknownKeyInFileOrderIsReported() {
    let error = failure(minimal + "[task]\nzzz = 1\n[log]\naaa = 2\n")
    #expect(error?.key == "task.zzz")
}

@Test func nestedTableInASectionIsAnUnknownKey() {
    let error = failure(minimal + "[target.extra]\nx = 1\n")
    #expect(error?.code == .unknownKey)
    #expect(error?.key == "target.extra")
}

@Test func sectionThatIsNotATableIsAWrongType() {
    let error = failure("health = \"127.0.0.1:8080\"\n" + minimal)
    #expect(error?.code == .wrongType)
    #expect(error?.key == "health")
    #expect(error?.line == 1)
}

// MARK: - Types

@Test func quotedIntegerIsAWrongTypeWithAHint() {
    let error = failure(with("target", "part_size_mib = \"16\""))
    #expect(error?.code == .wrongType)
    #expect(error?.key == "target.part_size_mib")
    #expect(error?.line == 8)
    #expect(error?.message == "expected an integer, got a string; write 16 without quotes")
}

@Test func floatForIntegerIsAWrongType() {
    let error = failure(with("schedule", "interval_seconds = 1.5"))
    #expect(error?.message == "expected an integer, got a floating-point number")
}

@Test func quotedBooleanIsAWrongType() {
    let error = failure(with("target", "path_style = \"true\""))
    #expect(error?.key == "target.path_style")
    #expect(error?.message == "expected a boolean (true or false), got a string; write true without quotes")
}

@Test func icebergIsOffByDefaultAndReachesTheEngine() throws {
    #expect(try Configuration.parse(minimal).catalog.iceberg == false)
    #expect(try Configuration.parse(minimal).engineSettings.iceberg == false)
    let on = try Configuration.parse(minimal + "[catalog]\niceberg = true\n")
    #expect(on.catalog.iceberg == true)
    #expect(on.engineSettings.iceberg == true)
    #expect(on.engineSettings.icebergLocation == "s3://bucket/prefix")
    let local = try Configuration.parse(minimal.replacingOccurrences(of: "s3://bucket/prefix", with: "file:///srv/lake") + "[catalog]\niceberg = true\n")
    #expect(local.engineSettings.icebergLocation == "/srv/lake")
    let error = failure(with("catalog", "iceberg = \"yes\""))
    #expect(error?.key == "catalog.iceberg")
    #expect(error?.code == .wrongType)
}

@Test func glueIsOffByDefaultAndTakesTheTargetsRegionUnlessGiven() throws {
    #expect(try Configuration.parse(minimal).engineSettings.glue == nil)
    let target = minimal.replacingOccurrences(of: "[target]\n", with: "[target]\nregion = \"eu-west-3\"\n")
    let on = try Configuration.parse(target + "[catalog]\nglue_database = \"lake\"\nglue_endpoint = \"http://127.0.0.1:5000/\"\n")
    #expect(on.engineSettings.glue == GlueCatalogSync.Target(database: "lake", region: "eu-west-3", endpoint: "http://127.0.0.1:5000", caFile: nil))
    #expect(try Configuration.parse(on.effectiveTOML) == on)
    let other = try Configuration.parse(minimal + "[catalog]\nglue_database = \"lake\"\nglue_region = \"us-west-2\"\n")
    #expect(other.engineSettings.glue?.region == "us-west-2")
    #expect(failure(with("catalog", "glue_database = \"My Lake\""))?.key == "catalog.glue_database")
    #expect(failure(with("catalog", "glue_region = \"us east\""))?.key == "catalog.glue_region")
    #expect(failure(with("catalog", "glue_endpoint = \"ftp://x\""))?.key == "catalog.glue_endpoint")
    let local = failure(minimal.replacingOccurrences(of: "s3://bucket/prefix", with: "file:///srv/lake") + "[catalog]\nglue_database = \"lake\"\n")
    #expect(local?.key == "catalog.glue_database")
    #expect(local?.message.contains("s3://") == true)
}

@Test func integerForStringIsAWrongType() {
    let error = failure(with("source", "slot = 5"))
    #expect(error?.code == .wrongType)
    #expect(error?.message == "expected a string, got an integer; put the value in quotes")
}

// MARK: - Secrets

@Test(arguments: [
    "host=db password=hunter2",
    "host=db password = 'hunter2 with spaces'",
    "postgresql://replicator:hunter2@db/app",
    "postgres://db/app?sslmode=require&password=hunter2",
])
func passwordInConninfoIsRefused(conninfo: String) {
    let error = failure("[source]\nconninfo = \"\(conninfo)\"\n[target]\nurl = \"s3://bucket\"\n")
    #expect(error?.code == .secretInFile)
    #expect(error?.key == "source.conninfo")
    #expect(error?.line == 2)
    #expect(error?.message.contains("PGPASSWORD") == true)
    #expect(error?.description.contains("hunter2") == false)
}

@Test(arguments: [
    "host=db passfile=/etc/replicatord/pgpass user=replicator",
    "application_name='password=x' dbname=app",
    "postgresql://replicator@db:5432/app?sslmode=require",
    "postgresql:///app?host=/run/postgresql",
])
func conninfoWithoutPasswordIsAccepted(conninfo: String) throws {
    let config = try Configuration.parse("[source]\nconninfo = \"\(conninfo)\"\n[target]\nurl = \"s3://bucket\"\n")
    #expect(config.source.conninfo == conninfo)
}

@Test func sslPasswordInConninfoIsRefused() {
    let error = failure("[source]\nconninfo = \"host=db sslpassword=x\"\n[target]\nurl = \"s3://bucket\"\n")
    #expect(error?.code == .secretInFile)
}

@Test func malformedConninfoIsRefused() {
    let error = failure("[source]\nconninfo = \"host db\"\n[target]\nurl = \"s3://bucket\"\n")
    #expect(error?.code == .invalidValue)
    #expect(error?.key == "source.conninfo")
}

@Test func awsSecretKeyInTargetIsRefusedWithTheAWSWay() {
    let error = failure(with("target", "secret_access_key = \"abc\""))
    #expect(error?.code == .secretInFile)
    #expect(error?.key == "target.secret_access_key")
    #expect(error?.message.contains("AWS_SECRET_ACCESS_KEY") == true)
}

@Test func passwordKeyInSourceIsRefusedWithTheLibpqWay() {
    let error = failure(with("source", "password = \"abc\""))
    #expect(error?.code == .secretInFile)
    #expect(error?.message.contains("PGPASSWORD") == true)
}

@Test func credentialsInEndpointAreRefused() {
    let error = failure(with("target", "endpoint = \"http://key:secret@127.0.0.1:9000\""))
    #expect(error?.code == .secretInFile)
    #expect(error?.description.contains("secret@") == false)
}

// MARK: - Values

@Test func ftpURLIsRefusedWithTheExpectedForms() {
    let error = failure("[source]\nconninfo = \"dbname=app\"\n\n[target]\nregion = \"us-east-1\"\n\n\nurl = \"ftp://x\"\n")
    #expect(error?.description == #"r.toml:8: target.url: expected s3://bucket/prefix or file:///absolute/path, got "ftp://x""#)
}

@Test func urlErrorLineIsFoundForATopLevelDottedKey() {
    let error = failure("source.conninfo = \"dbname=app\"\ntarget.url = \"ftp://x\"\n")
    #expect(error?.key == "target.url")
    #expect(error?.line == 2)
}

@Test(arguments: [
    ("s3://bucket", TargetURL.s3(bucket: "bucket", prefix: "")),
    ("s3://bucket/", .s3(bucket: "bucket", prefix: "")),
    ("s3://my.bucket-1/a/b/", .s3(bucket: "my.bucket-1", prefix: "a/b")),
    ("s3://bucket//a/b//", .s3(bucket: "bucket", prefix: "a/b")),
    ("S3://bucket/Mixed Case/x", .s3(bucket: "bucket", prefix: "Mixed Case/x")),
    ("file:///var/lib/replicatord/out", .directory(path: "/var/lib/replicatord/out")),
    ("file:///var/lib/out/", .directory(path: "/var/lib/out")),
    ("file:///data/my%20out", .directory(path: "/data/my out")),
])
func targetURLIsParsed(url: String, location: TargetURL) throws {
    #expect(try ConfigurationLoader.parseTargetURL(url) == location)
}

@Test(arguments: [
    "s3://", "s3://ab", "s3://Bucket/x", "s3://bucket_1/x", "s3://-bucket", "s3://bucket/a//b", "s3://bucket/x?versionId=1",
    "s3://user:pw@bucket", "file://var/lib/out", "file:///", "file:///a/../b", "file:///a%zz", "/var/lib/out", "http://bucket",
    "",
])
func invalidTargetURLIsRefused(url: String) {
    let error = failure("[source]\nconninfo = \"dbname=app\"\n[target]\nurl = \"\(url)\"\n")
    #expect(error?.code == .invalidValue)
    #expect(error?.key == "target.url")
    #expect(error?.line == 4)
}

@Test(arguments: ["Replicatord", "slot-1", "", String(repeating: "s", count: 64), "slöt"])
func invalidSlotNameIsRefused(slot: String) {
    let error = failure(with("source", "slot = \"\(slot)\""))
    #expect(error?.code == .invalidValue)
    #expect(error?.key == "source.slot")
}

@Test func slotNameOf63CharactersIsAccepted() throws {
    let slot = String(repeating: "a_1", count: 21)
    #expect(try Configuration.parse(with("source", "slot = \"\(slot)\"")).source.slot == slot)
}

@Test func endpointLosesItsTrailingSlashAndNeedsAScheme() throws {
    #expect(try Configuration.parse(with("target", "endpoint = \"https://s3.example.com/\"")).target.endpoint == "https://s3.example.com")
    let error = failure(with("target", "endpoint = \"127.0.0.1:9000\""))
    #expect(error?.code == .invalidValue)
    #expect(error?.key == "target.endpoint")
}

@Test(arguments: [
    ("target", "part_size_mib = 4", "target.part_size_mib", "expected an integer from 5 to 5120, got 4"),
    ("target", "upload_parallelism = 0", "target.upload_parallelism", "expected an integer from 1 to 64, got 0"),
    ("target", "upload_parallelism = 65", "target.upload_parallelism", "expected an integer from 1 to 64, got 65"),
    ("task", "parallel_tables = 0", "task.parallel_tables", "expected an integer from 1 to 64, got 0"),
    ("task", "max_file_size_mib = 0", "task.max_file_size_mib", "expected an integer from 1 to 5242880, got 0"),
    ("parquet", "compression_level = 23", "parquet.compression_level", "expected an integer from 1 to 22 for zstd, got 23"),
    (
        "parquet", "compression = \"gzip\"\ncompression_level = 10", "parquet.compression_level",
        "expected an integer from 1 to 9 for gzip, got 10"
    ),
    ("parquet", "page_version = 3", "parquet.page_version", "expected an integer from 1 to 2, got 3"),
    ("parquet", "row_group_mib = 0", "parquet.row_group_mib", "expected an integer from 1 to 4096, got 0"),
    ("schedule", "interval_seconds = 0", "schedule.interval_seconds", "expected an integer from 1 to 2147483647, got 0"),
])
func integerOutOfRangeIsRefused(section: String, lines: String, key: String, message: String) {
    let error = failure(with(section, lines))
    #expect(error?.code == .invalidValue)
    #expect(error?.key == key)
    #expect(error?.message == message)
    #expect(error?.line != nil)
}

@Test func compressionLevelIsIgnoredForSnappy() throws {
    let config = try Configuration.parse(with("parquet", "compression = \"snappy\"\ncompression_level = 50"))
    #expect(config.parquet.compression == .snappy)
}

@Test(arguments: [
    (
        "task", "migration_type = \"full_load\"", "task.migration_type",
        #"expected one of "full-load-and-cdc", "full-load", "cdc", got "full_load"; did you mean "full-load"?"#
    ),
    (
        "parquet", "compression = \"lz4\"", "parquet.compression",
        #"expected one of "zstd", "snappy", "gzip", "none", got "lz4""#
    ),
    ("log", "format = \"text\"", "log.format", #"expected one of "logfmt", "json", got "text""#),
    (
        "log", "level = \"warn\"", "log.level",
        #"expected one of "trace", "debug", "info", "notice", "warning", "error", "critical", got "warn"; did you mean "warning"?"#
    ),
    (
        "target", "server_side_encryption = \"aes256\"", "target.server_side_encryption",
        #"expected one of "", "AES256", "aws:kms", got "aes256"; did you mean "AES256"?"#
    ),
])
func unknownChoiceIsRefusedWithTheChoices(section: String, lines: String, key: String, message: String) {
    let error = failure(with(section, lines))
    #expect(error?.code == .invalidValue)
    #expect(error?.key == key)
    #expect(error?.message == message)
}

@Test func kmsEncryptionNeedsAKeyID() {
    let error = failure(with("target", "server_side_encryption = \"aws:kms\""))
    #expect(error?.code == .missingKey)
    #expect(error?.key == "target.sse_kms_key_id")
}

@Test func kmsKeyIDWithoutKMSEncryptionIsRefused() {
    let error = failure(with("target", "server_side_encryption = \"AES256\"\nsse_kms_key_id = \"k\""))
    #expect(error?.code == .invalidValue)
    #expect(error?.key == "target.sse_kms_key_id")
    #expect(error?.line == 9)
}

@Test func aes256EncryptionIsRead() throws {
    #expect(try Configuration.parse(with("target", "server_side_encryption = \"AES256\"")).target.serverSideEncryption == .aes256)
}

@Test(arguments: ["var/spool", ""])
func relativeSpoolDirectoryIsRefused(dir: String) {
    let error = failure(with("task", "spool_dir = \"\(dir)\""))
    #expect(error?.key == "task.spool_dir")
}

@Test func relativeCAFileIsRefused() {
    #expect(failure(with("target", "ca_file = \"ca.pem\""))?.key == "target.ca_file")
}

@Test(arguments: [
    ("127.0.0.1:8080", Configuration.ListenAddress(host: "127.0.0.1", port: 8080)),
    ("[::1]:9090", .init(host: "::1", port: 9090)),
    ("[::]:0", .init(host: "::", port: 0)),
    ("localhost:65535", .init(host: "localhost", port: 65535)),
])
func listenAddressIsParsed(text: String, address: Configuration.ListenAddress) throws {
    #expect(try ConfigurationLoader.parseListenAddress(text) == address)
}

@Test(arguments: ["localhost", ":8080", "localhost:", "localhost:65536", "localhost:-1", "::1:8080", "[::1]8080", "[::1", "a b:1", "[]:80"])
func invalidListenAddressIsRefused(text: String) {
    let error = failure(with("health", "listen = \"\(text)\""))
    #expect(error?.code == .invalidValue)
    #expect(error?.key == "health.listen")
    #expect(error?.line == 8)
}

@Test func unbracketedIPv6ListenAddressSaysToUseBrackets() {
    #expect(failure(with("health", "listen = \"::1:8080\""))?.message.contains("[::1]:8080") == true)
}

@Test func editDistanceCountsEdits() {
    #expect(ConfigurationLoader.editDistance("url", "urll") == 1)
    #expect(ConfigurationLoader.editDistance("kitten", "sitting") == 3)
    #expect(ConfigurationLoader.editDistance("", "abc") == 3)
}

// MARK: - The table of keys stays in step with the docs

/// `key = ...` lines in `text`, as `section.key`, in order.
private func assignedKeys(in text: String, linePrefix: String = "") -> [String] {
    var section = ""
    var keys: [String] = []
    for raw in text.split(separator: "\n") {
        guard raw.hasPrefix(linePrefix) else { continue }
        let line = raw.dropFirst(linePrefix.count).trimmingCharacters(in: .whitespaces)
        if line.hasPrefix("[") {
            section = String(line.dropFirst().prefix(while: { $0 != "]" }))
        } else if !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") {
            keys.append("\(section).\(line[..<equals].trimmingCharacters(in: .whitespaces))")
        }
    }
    return keys
}

private let allKnownKeys = ConfigurationLoader.knownKeys.flatMap { entry in entry.keys.map { "\(entry.section).\($0)" } }

@Test func loaderDocCommentListsEveryKnownKey() throws {
    let source = try String(
        contentsOf: repositoryRoot.appendingPathComponent("Sources/Daemon/ConfigurationLoader.swift"), encoding: .utf8)
    let fenceStart = try #require(source.range(of: "/// ```toml\n"))
    let fenceEnd = try #require(source.range(of: "/// ```\n", range: fenceStart.upperBound..<source.endIndex))
    let docBlock = String(source[fenceStart.upperBound..<fenceEnd.lowerBound])
    #expect(assignedKeys(in: docBlock, linePrefix: "/// ") == allKnownKeys)
}

@Test func exampleConfigFileSetsEveryKnownKey() throws {
    let text = try String(contentsOf: repositoryRoot.appendingPathComponent("config/replicatord.toml"), encoding: .utf8)
    #expect(assignedKeys(in: text) == allKnownKeys)
}

@Test func effectiveTOMLSetsEveryKnownKey() throws {
    #expect(assignedKeys(in: try Configuration.parse(minimal).effectiveTOML) == allKnownKeys)
}
