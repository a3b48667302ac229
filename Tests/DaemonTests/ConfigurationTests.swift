import ObjectStore
import Testing
@testable import Daemon

@Test func defaultsMatchTheDocumentedValues() {
    let config = Configuration(
        source: .init(conninfo: "host=db dbname=app"),
        target: .init(location: .s3(bucket: "bucket", prefix: "")))
    #expect(config.source.publication == "replicatord")
    #expect(config.source.slot == "replicatord")
    #expect(config.target.region == "us-east-1")
    #expect(config.target.endpoint == "")
    #expect(config.target.pathStyle == false)
    #expect(config.target.caFile == "")
    #expect(config.target.partSizeMiB == 8)
    #expect(config.target.uploadParallelism == 3)
    #expect(config.target.serverSideEncryption == .disabled)
    #expect(config.task.migrationType == .fullLoadAndCDC)
    #expect(config.task.maxFileSizeMiB == 1024)
    #expect(config.task.parallelTables == 2)
    #expect(config.task.includeOpForFullLoad == false)
    #expect(config.task.spoolDirectory == "/var/lib/replicatord/spool")
    #expect(config.parquet == .init(compression: .zstd, compressionLevel: 1, rowGroupMiB: 128, pageVersion: 1))
    #expect(config.schedule.intervalSeconds == 120)
    #expect(config.health.listen == .init(host: "127.0.0.1", port: 8080))
    #expect(config.log.format == .logfmt)
    #expect(config.log.level == .info)
}

@Test func sizesInBytesFollowTheMiBFields() {
    let config = Configuration(source: .init(conninfo: "dbname=app"), target: .init(location: .directory(path: "/out")))
    #expect(config.target.partSizeBytes == 8 * 1024 * 1024)
    #expect(config.task.maxFileSizeBytes == 1024 * 1024 * 1024)
    #expect(config.parquet.rowGroupBytes == 128 * 1024 * 1024)
    #expect(config.schedule.interval == .seconds(120))
}

@Test func targetLocationDescribesItselfAsTheURL() {
    #expect(TargetURL.s3(bucket: "b-1", prefix: "a/b").description == "s3://b-1/a/b")
    #expect(TargetURL.s3(bucket: "b-1", prefix: "").description == "s3://b-1")
    #expect(TargetURL.directory(path: "/var/out dir").description == "file:///var/out%20dir")
}

@Test func listenAddressPutsIPv6InBrackets() {
    #expect(Configuration.ListenAddress(host: "::1", port: 9).description == "[::1]:9")
    #expect(Configuration.ListenAddress(host: "0.0.0.0", port: 8080).description == "0.0.0.0:8080")
}

@Test func migrationTypeRawValuesAreDMSNames() {
    #expect(MigrationType.allCases.map(\.rawValue) == ["full-load-and-cdc", "full-load", "cdc"])
}
