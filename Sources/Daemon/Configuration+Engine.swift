import Logging
import ObjectStore
import Replication

extension Configuration {
    /// The engine's settings from the configuration.
    public var engineSettings: EngineSettings {
        var s = EngineSettings(conninfo: source.conninfo, publication: source.publication, slot: source.slot)
        s.migrationType = task.migrationType
        s.maxFileBytes = Int64(task.maxFileSizeBytes)
        s.parallelTables = task.parallelTables
        s.includeOpForFullLoad = task.includeOpForFullLoad
        s.iceberg = catalog.iceberg
        s.icebergSnapshotRetentionSeconds = catalog.icebergSnapshotRetentionSeconds
        s.icebergLocation =
            switch target.location {
            case .s3(let bucket, let prefix): prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
            case .directory(let path): path
            }
        if !catalog.glueDatabase.isEmpty {
            s.glue = GlueCatalogSync.Target(
                database: catalog.glueDatabase,
                region: catalog.glueRegion.isEmpty ? target.region : catalog.glueRegion,
                endpoint: catalog.glueEndpoint, caFile: target.caFile.isEmpty ? nil : target.caFile)
        }
        s.uploadChunkBytes = target.partSizeBytes
        s.spoolDirectory = task.spoolDirectory
        s.retainedWALWarnBytes = Int64(task.retainedWALWarnMiB) << 20
        var parquetOptions = ParquetFileOptions()
        let level = Int32(parquet.compressionLevel)
        parquetOptions.codec =
            switch parquet.compression {
            case .zstd: .zstd(level: level)
            case .snappy: .snappy
            case .gzip: .gzip(level: level)
            case .none: .uncompressed
            }
        parquetOptions.version = BuildInfo.version
        parquetOptions.rowGroupBytes = parquet.rowGroupBytes
        parquetOptions.pageVersion = parquet.pageVersion
        parquetOptions.exactLogicalTypes = parquet.logicalTypes == .exact
        parquetOptions.seqColumn = output.seqColumn.isEmpty ? nil : output.seqColumn
        parquetOptions.commitTimeColumn = output.commitTimeColumn.isEmpty ? nil : output.commitTimeColumn
        parquetOptions.timestampMillis = output.timestampMillis
        s.parquet = parquetOptions
        s.datePartition = output.datePartition
        s.writtenChanges = output.writtenChanges
        s.batching = output.batching
        return s
    }

    /// The object store of `[target]`.
    public func makeStore(logger: Logger) throws -> any ObjectStore {
        let sse: ServerSideEncryption? =
            switch target.serverSideEncryption {
            case .disabled: nil
            case .aes256: .s3
            case .kms(let keyID): .kms(keyId: keyID)
            }
        let location = try ObjectStoreLocation(
            target: target.location, region: target.region, endpoint: target.endpoint,
            pathStyle: target.pathStyle, caFile: target.caFile, partSize: target.partSizeBytes,
            parallelism: target.uploadParallelism, serverSideEncryption: sse)
        return try location.makeStore(logger: logger)
    }
}
