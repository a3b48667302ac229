import Foundation
import Iceberg
import Logging
import ObjectStore
import PGClient
import PGOutput
import Replication
import Testing
@testable import Daemon

/// The daemon's Iceberg commits against a directory store, without a database: field ids kept by
/// attnum through renames, widening, drops and type changes; the redo of a committed cycle commits
/// nothing; a redo that differs and a cycle with nothing for the table roll it back.
struct IcebergSyncTests {
    typealias Column = ParquetTableWriter.Column

    func withSync(location: String? = nil, _ body: @escaping @Sendable (IcebergSync, String) throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("iceberg-sync-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var settings = EngineSettings(conninfo: "", publication: "p", slot: "s")
        settings.iceberg = true
        settings.icebergLocation = location ?? dir
        let sync = IcebergSync(store: try LocalDirectoryStore(root: dir, logger: Logger(label: "test")), settings: settings)
        try await DedicatedThread.run(name: "test") { try body(sync, dir) }
    }

    static let v1 = [
        Column(name: "id", kind: .int64, nullable: false, attnum: 1), Column(name: "name", kind: .text, nullable: true, attnum: 2),
        Column(name: "qty", kind: .int32, nullable: true, attnum: 3), Column(name: "gone", kind: .text, nullable: true, attnum: 4),
    ]
    /// `name` renamed to `title`, `qty` widened, `gone` dropped, `extra` added.
    static let v2 = [
        Column(name: "id", kind: .int64, nullable: true, attnum: 1), Column(name: "title", kind: .text, nullable: true, attnum: 2),
        Column(name: "qty", kind: .int64, nullable: true, attnum: 3), Column(name: "extra", kind: .jsonb, nullable: true, attnum: 5),
    ]

    func ids(_ table: IcebergTable) -> [String: Int32] {
        Dictionary(uniqueKeysWithValues: table.metadata.currentSchema.fields.map { ($0.name, $0.id) })
    }

    @Test func fieldIDsFollowAttnumsThroughSchemaChanges() async throws {
        try await withSync { sync, dir in
            try sync.commitLoad(
                folder: "public/t/", columns: Self.v1,
                files: [.init(key: "public/t/LOAD00000001.parquet", rows: 3, bytes: 100)], snapshotLSN: "0/10")
            let loaded = try #require(try sync.load(folder: "public/t/"))
            #expect(loaded.metadata.currentSchema.fields.map(\.name) == ["Op", "id", "name", "qty", "gone", "_seq", "_commit_ts", "_unchanged_toast"])
            let before = ids(loaded)
            #expect(loaded.liveDataFiles().map(\.recordCount) == [3])
            #expect(loaded.liveDataFiles().map(\.path) == [dir + "/public/t/LOAD00000001.parquet"])
            #expect(loaded.metadata.currentSnapshot?.operation == "append")

            try sync.commitCycle(
                folder: "public/t/", layouts: [Self.v2], files: [.init(key: "public/t/20260101-000000000.parquet", rows: 7, bytes: 50)],
                endLSN: LSN(0x20), checkpointed: LSN(0x10))
            let after = try #require(try sync.load(folder: "public/t/"))
            let now = ids(after)
            #expect(after.metadata.currentSchema.fields.map(\.name) == ["Op", "id", "title", "qty", "extra", "_seq", "_commit_ts", "_unchanged_toast"])
            #expect(now["title"] == before["name"], "a rename keeps the field id")
            #expect(now["qty"] == before["qty"], "widening keeps the field id")
            #expect(after.metadata.currentSchema.field(named: "qty")?.type == .long)
            #expect(after.metadata.currentSchema.field(named: "extra")?.type == .binary)
            #expect(now["extra"]! > before.values.max()!, "a new column gets a new id, the dropped one's is not reused")
            #expect(now["Op"] == before["Op"] && now["_seq"] == before["_seq"] && now["_unchanged_toast"] == before["_unchanged_toast"])
            #expect(after.metadata.property(NameMapping.propertyKey)?.contains("\"name\"") == true, "the former name still resolves old files")
            #expect(after.liveDataFiles().map(\.recordCount).sorted() == [3, 7])

            // A type Iceberg cannot promote to: the column comes back under a new id.
            let v3 = Self.v2.map { $0.name == "qty" ? Column(name: "qty", kind: .text, nullable: true, attnum: 3) : $0 }
            try sync.commitCycle(
                folder: "public/t/", layouts: [v3], files: [.init(key: "public/t/20260101-000001000.parquet", rows: 1, bytes: 50)],
                endLSN: LSN(0x30), checkpointed: LSN(0x20))
            let retyped = try #require(try sync.load(folder: "public/t/"))
            #expect(retyped.metadata.currentSchema.field(named: "qty")?.type == .string)
            #expect(ids(retyped)["qty"] != now["qty"])
            #expect(ids(retyped)["title"] == now["title"])
            #expect(retyped.metadata.snapshots.count == 3)
        }
    }

    @Test func anS3TargetNamesFilesByURIAndStoresThemByKey() async throws {
        // The store's keys are relative to the target; the metadata names s3:// URIs.
        try await withSync(location: "s3://bucket/some/prefix") { sync, dir in
            try sync.commitLoad(
                folder: "public/t/", columns: Self.v1,
                files: [.init(key: "public/t/LOAD00000001.parquet", rows: 3, bytes: 100)], snapshotLSN: "0/10")
            #expect(FileManager.default.fileExists(atPath: dir + "/public/t/metadata/version-hint.text"))
            let table = try #require(try sync.load(folder: "public/t/"))
            #expect(table.metadata.location == "s3://bucket/some/prefix/public/t")
            #expect(table.liveDataFiles().map(\.path) == ["s3://bucket/some/prefix/public/t/LOAD00000001.parquet"])
            #expect(table.metadata.currentSnapshot?.manifestList.hasPrefix("s3://bucket/some/prefix/public/t/metadata/snap-") == true)
        }
    }

    @Test func aColumnFirstDescribedByNameKeepsItsIDOnceItsAttnumIsKnown() async throws {
        try await withSync { sync, _ in
            try sync.commitLoad(
                folder: "public/t/", columns: [Self.v1[0]], files: [.init(key: "public/t/LOAD00000001.parquet", rows: 1, bytes: 10)],
                snapshotLSN: "0/10")
            // Added mid-transaction: the relation names the new column without its attnum, the next one with it.
            let byName = [Self.v1[0], Column(name: "note", kind: .text, nullable: true, attnum: 0)]
            let byAttnum = [Self.v1[0], Column(name: "note", kind: .text, nullable: true, attnum: 8)]
            try sync.commitCycle(
                folder: "public/t/", layouts: [byName], files: [.init(key: "public/t/20260101-000000001.parquet", rows: 1, bytes: 10)],
                endLSN: LSN(0x20), checkpointed: LSN(0x10))
            let first = try #require(try sync.load(folder: "public/t/"))
            try sync.commitCycle(
                folder: "public/t/", layouts: [byAttnum], files: [.init(key: "public/t/20260101-000000002.parquet", rows: 1, bytes: 10)],
                endLSN: LSN(0x30), checkpointed: LSN(0x20))
            let second = try #require(try sync.load(folder: "public/t/"))
            #expect(ids(first)["note"] != nil && ids(second)["note"] == ids(first)["note"], "one column, one field id")
            #expect(IcebergSync.parseFieldIDs(second.metadata.property(IcebergSync.fieldIDsKey))["attnum:8"] == ids(first)["note"])
        }
    }

    @Test func aCycleOfATableWithoutIcebergTableCreatesIt() async throws {
        // The `cdc` migration type: no full load made the table.
        try await withSync { sync, dir in
            #expect(try sync.load(folder: "public/t/") == nil)
            try sync.commitCycle(
                folder: "public/t/", layouts: [Self.v1, Self.v2],
                files: [
                    .init(key: "public/t/20260101-000000000.parquet", rows: 2, bytes: 10),
                    .init(key: "public/t/20260101-000000001.parquet", rows: 3, bytes: 10),
                ],
                endLSN: LSN(0x20), checkpointed: LSN(0x10))
            let table = try #require(try sync.load(folder: "public/t/"))
            #expect(table.metadata.snapshots.count == 1, "one snapshot for the cycle, both layouts' files in it")
            #expect(table.liveDataFiles().map(\.recordCount).sorted() == [2, 3])
            #expect(table.metadata.currentSchema.field(named: "title") != nil && table.metadata.currentSchema.field(named: "name") == nil)
            #expect(FileManager.default.fileExists(atPath: dir + "/public/t/metadata/version-hint.text"))
        }
    }

    @Test func aRedoOfACommittedCycleCommitsNothingAndOneThatDiffersRollsBack() async throws {
        try await withSync { sync, dir in
            try sync.commitLoad(
                folder: "public/t/", columns: Self.v1,
                files: [.init(key: "public/t/LOAD00000001.parquet", rows: 3, bytes: 100)], snapshotLSN: "0/10")
            let loadSnapshot = try #require(try sync.load(folder: "public/t/")?.metadata.currentSnapshotID)
            let cycle = [IcebergSync.NewFile(key: "public/t/20260101-000000000.parquet", rows: 2, bytes: 10)]
            try sync.commitCycle(folder: "public/t/", layouts: [Self.v1], files: cycle, endLSN: LSN(0x20), checkpointed: LSN(0x10))
            let committed = try #require(try sync.load(folder: "public/t/"))

            // The checkpoint still says 0/10: the redo to the same end with the same files finds them.
            try sync.commitCycle(folder: "public/t/", layouts: [Self.v1], files: cycle, endLSN: LSN(0x20), checkpointed: LSN(0x10))
            let redone = try #require(try sync.load(folder: "public/t/"))
            #expect(redone.version == committed.version)
            #expect(redone.metadata.currentSnapshotID == committed.metadata.currentSnapshotID)

            // A redo that differs: the uncheckpointed snapshot is rolled back, the new one's parent is the LOAD snapshot.
            let other = [IcebergSync.NewFile(key: "public/t/20260101-000000500.parquet", rows: 4, bytes: 10)]
            try sync.commitCycle(folder: "public/t/", layouts: [Self.v1], files: other, endLSN: LSN(0x28), checkpointed: LSN(0x10))
            let differed = try #require(try sync.load(folder: "public/t/"))
            #expect(differed.metadata.currentSnapshot?.parentSnapshotID == loadSnapshot)
            #expect(Set(differed.liveDataFiles().map(\.path)) == [dir + "/public/t/LOAD00000001.parquet", dir + "/public/t/20260101-000000500.parquet"])

            // A cycle beyond the checkpoint with nothing for the table: rolled back to the LOAD snapshot.
            try sync.rollBackUncheckpointed(folder: "public/t/", checkpointed: LSN(0x10))
            let rolled = try #require(try sync.load(folder: "public/t/"))
            #expect(rolled.metadata.currentSnapshotID == loadSnapshot)
            // Checkpointed cycles are never rolled back.
            try sync.commitCycle(folder: "public/t/", layouts: [Self.v1], files: cycle, endLSN: LSN(0x20), checkpointed: LSN(0x10))
            let kept = try #require(try sync.load(folder: "public/t/"))
            try sync.rollBackUncheckpointed(folder: "public/t/", checkpointed: LSN(0x20))
            #expect(try sync.load(folder: "public/t/")?.metadata.currentSnapshotID == kept.metadata.currentSnapshotID)

            // A load again (reload-table): an overwrite of everything the table holds.
            try sync.commitLoad(
                folder: "public/t/", columns: Self.v1,
                files: [.init(key: "public/t/LOAD00000002.parquet", rows: 5, bytes: 100)], snapshotLSN: "0/40")
            let reloaded = try #require(try sync.load(folder: "public/t/"))
            #expect(reloaded.metadata.currentSnapshot?.operation == "overwrite")
            #expect(reloaded.liveDataFiles().map(\.path) == [dir + "/public/t/LOAD00000002.parquet"])
        }
    }
}
