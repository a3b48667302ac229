import Foundation
import Iceberg
import Logging
import ObjectStore
import Replication
import Synchronization

/// Cycles of one table's Iceberg table on a simulated clock, through the daemon's own commit
/// path (``IcebergSync``): each cycle stores one small CDC-layout Parquet file and commits it
/// as the cycle's snapshot, with or without the housekeeping (manifest merging and snapshot
/// expiry). The benchmark (`scripts/bench --only iceberg`) and the housekeeping tests measure
/// what a day of 720 cycles leaves in `<table>/metadata/`.
public enum IcebergDaySimulation {
    /// What the table's metadata holds after the cycles.
    public struct Outcome: Sendable {
        /// The table folder (its `metadata/` holds the Iceberg table).
        public var tableFolder: String
        /// Files in `metadata/` and their bytes.
        public var metadataFiles: Int
        public var metadataBytes: Int64
        /// Snapshots in the current metadata, and manifests the current snapshot reads.
        public var snapshots: Int
        public var currentManifests: Int
        /// Data files the current snapshot holds (every cycle's: none is ever removed).
        public var liveDataFiles: Int
        /// Wall time of the cycles' commits, seconds.
        public var commitSeconds: Double
    }

    /// Runs `cycles` cycles `intervalSeconds` apart on a clock that ends now, into
    /// `<directory>/public/orders/`. `retentionSeconds` is `[catalog] iceberg_snapshot_retention`;
    /// `housekeeping` false leaves manifests unmerged and snapshots unexpired.
    public static func run(
        directory: String, cycles: Int, intervalSeconds: Int64, housekeeping: Bool,
        retentionSeconds: Int64
    ) throws -> Outcome {
        let store = try LocalDirectoryStore(root: directory, logger: Logger(label: "replicatord.bench"))
        var settings = EngineSettings(conninfo: "", publication: "", slot: "")
        settings.iceberg = true
        settings.icebergLocation = directory
        settings.icebergSnapshotRetentionSeconds = retentionSeconds
        let start = IcebergSync.nowMs() - Int64(cycles) * intervalSeconds * 1000
        let tick = Mutex<Int64>(start)
        var sync = IcebergSync(store: store, settings: settings)
        sync.clock = { tick.withLock { $0 } }
        sync.housekeepingOn = housekeeping
        let folder = "public/orders/"
        let columns: [ParquetTableWriter.Column] = [
            .init(name: "id", kind: .int64, nullable: true, attnum: 1, typeName: "bigint"),
            .init(name: "status", kind: .text, nullable: true, attnum: 2, typeName: "text"),
            .init(name: "amount", kind: .decimal(precision: 12, scale: 2), nullable: true, attnum: 3, typeName: "numeric(12,2)"),
            .init(name: "created_at", kind: .timestamptz, nullable: true, attnum: 4, typeName: "timestamp with time zone"),
        ]
        if !housekeeping {
            // Without housekeeping: no merging (an append-only writer's table, as pyiceberg's fast append leaves it).
            try sync.commitCycle(folder: folder, layouts: [columns], files: [], endLSN: LSN(1), checkpointed: LSN(0))
            if let table = try sync.load(folder: folder) {
                let unmerged = table.updateProperties([(key: "commit.manifest.min-count-to-merge", value: "1000000000")], timestampMs: start)
                _ = try store.blockingPut(unmerged.files + [unmerged.versionHint], root: directory)
            }
        }
        var seconds = 0.0
        for cycle in 1...max(1, cycles) {
            tick.withLock { $0 = start + Int64(cycle) * intervalSeconds * 1000 }
            let key = folder + String(format: "%020d.parquet", cycle)
            let file = try cdcFile(cycle: cycle, at: tick.withLock { $0 })
            let stored = try store.blockingPut([MetadataFileWrite(path: directory + "/" + key, bytes: file.bytes)], root: directory)
            let began = ContinuousClock.now
            try sync.commitCycle(
                folder: folder, layouts: [columns],
                files: [.init(key: key, rows: 10, bytes: Int64(stored), statistics: file.statistics)],
                endLSN: LSN(UInt64(cycle + 1) * 1000), checkpointed: LSN(UInt64(cycle) * 1000))
            seconds += (ContinuousClock.now - began).inSeconds
        }
        let table = try sync.load(folder: folder)
        let metadata = directory + "/" + folder + "metadata"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: metadata)) ?? []
        let bytes = names.reduce(Int64(0)) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: metadata + "/" + name)[.size] as? NSNumber)?.int64Value ?? 0)
        }
        return Outcome(
            tableFolder: directory + "/" + folder, metadataFiles: names.count, metadataBytes: bytes,
            snapshots: table?.metadata.snapshots.count ?? 0,
            currentManifests: table.flatMap { t in t.metadata.currentSnapshotID.flatMap { t.manifestLists[$0]?.count } } ?? 0,
            liveDataFiles: table?.liveDataFiles().count ?? 0, commitSeconds: seconds)
    }

    /// Ten rows of the CDC layout (`Op`, the columns, `_seq`, `_commit_ts`, `_unchanged_toast`),
    /// ids rising by cycle so that every file has its own range.
    private static func cdcFile(cycle: Int, at ms: Int64) throws -> (bytes: [UInt8], statistics: [ParquetColumnSummary]) {
        let sink = ParquetMemorySink()
        let writer = try ParquetWriter(
            schema: ParquetSchema([
                ParquetColumn(name: "Op", type: .string, nullable: false),
                ParquetColumn(name: "id", type: .int64),
                ParquetColumn(name: "status", type: .string),
                ParquetColumn(name: "amount", type: .decimal(precision: 12, scale: 2)),
                ParquetColumn(name: "created_at", type: .timestampMicros(adjustedToUTC: true)),
                ParquetColumn(name: "_seq", type: .string, nullable: false),
                ParquetColumn(name: "_commit_ts", type: .timestampMicros(adjustedToUTC: true), nullable: false),
                ParquetColumn(name: "_unchanged_toast", type: .string),
            ]), sink: sink)
        for row in 0..<10 {
            let id = Int64(cycle * 10 + row)
            try writer.appendRow([
                .string(row % 3 == 0 ? "U" : "I"), .int64(id), .string(["new", "paid", "shipped"][row % 3]),
                .decimal(id * 7), .int64(ms * 1000), .string(String(format: "%016llX%08d", UInt64(cycle) * 1000, row)),
                .int64(ms * 1000), .null,
            ])
        }
        let summary = try writer.close()
        return (sink.bytes, summary.columns)
    }
}

private extension LocalDirectoryStore {
    /// Stores files given by their full paths under `root`, blocking; returns the last one's size.
    func blockingPut(_ files: [MetadataFileWrite], root: String) throws -> Int {
        var size = 0
        for file in files {
            let key = String(file.path.dropFirst(root.count + 1))
            let store = self
            size = try BlockingCall.wait { try await store.put(key: key, bytes: file.bytes, contentType: nil) }.size
        }
        return size
    }
}
