import Foundation
import Testing
@testable import Iceberg

@Suite struct IcebergTableTests {
    static let location = "s3://bucket/prefix/public/orders"
    static let schema = IcebergSchema.assigningIDs([("Op", .string, false), ("id", .long, false), ("name", .string, false)])

    static func stamp(_ n: Int) -> CommitStamp {
        CommitStamp(
            timestampMs: 1_700_000_000_000 + Int64(n) * 120_000, snapshotID: Int64(1000 + n),
            uuid: UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", n))!)
    }

    static func file(_ name: String, rows: Int64 = 10) -> DataFile {
        DataFile(path: "\(location)/\(name).parquet", recordCount: rows, fileSizeInBytes: rows * 100)
    }

    static func created() -> IcebergTable {
        IcebergTable.create(
            location: location, schema: schema, tableUUID: UUID(uuidString: "5A4D0E1C-0000-4000-8000-000000000001")!,
            timestampMs: 1_700_000_000_000
        ).table
    }

    /// Stores a commit's files in `store` and reloads the table from them, as a restarted daemon would.
    static func reload(_ commit: IcebergCommit, into store: inout [String: [UInt8]]) throws -> IcebergTable {
        for f in commit.files + [commit.versionHint] { store[f.path] = f.bytes }
        let snapshot = store
        return try IcebergTable.load(metadataJSON: store[commit.metadataPath]!, version: commit.table.version) { path in
            guard let bytes = snapshot[path] else { throw IcebergError(.invalidCommit, "missing \(path)") }
            return bytes
        }
    }

    @Test func createWritesVersionOneAndHint() throws {
        let c = IcebergTable.create(location: Self.location + "/", schema: Self.schema, tableUUID: UUID(), timestampMs: 5)
        #expect(c.files.map(\.path) == ["\(Self.location)/metadata/v1.metadata.json"])
        #expect(c.versionHint.path == "\(Self.location)/metadata/version-hint.text")
        #expect(c.versionHint.bytes == Array("1".utf8))
        let m = try TableMetadata.parse(c.files[0].bytes)
        #expect(m.currentSnapshotID == nil && m.lastColumnID == 3)
        #expect(m.property(NameMapping.propertyKey)?.contains(#""names":["Op"]"#) == true)
    }

    @Test func appendWritesManifestThenListThenMetadata() throws {
        let c = try Self.created().append([Self.file("LOAD00000001"), Self.file("LOAD00000002", rows: 5)], stamp: Self.stamp(1))
        let names = c.files.map { String($0.path.dropFirst(Self.location.count + "/metadata/".count)) }
        #expect(
            names == [
                "00000000-0000-4000-8000-000000000001-m0.avro", "snap-1001-1-00000000-0000-4000-8000-000000000001.avro",
                "v2.metadata.json",
            ])
        #expect(c.versionHint.bytes == Array("2".utf8))
        let m = c.table.metadata
        #expect(m.currentSnapshotID == 1001 && m.lastSequenceNumber == 1)
        let snap = try #require(m.currentSnapshot)
        #expect(snap.parentSnapshotID == nil && snap.sequenceNumber == 1)
        #expect(snap.operation == "append")
        let summary = Dictionary(uniqueKeysWithValues: snap.summary.map { ($0.key, $0.value) })
        #expect(summary["added-data-files"] == "2" && summary["added-records"] == "15" && summary["total-records"] == "15")
        #expect(m.metadataLog.map(\.metadataFile) == ["\(Self.location)/metadata/v1.metadata.json"])
        let list = try ManifestList.decode(c.files[1].bytes)
        #expect(list.manifests.map(\.path) == [c.files[0].path])
        #expect(list.manifests[0].length == Int64(c.files[0].bytes.count))
        let manifest = try ManifestFile.decode(c.files[0].bytes)
        #expect(manifest.entries.map(\.status) == [.added, .added])
        #expect(manifest.entries.allSatisfy { $0.snapshotID == 1001 && $0.sequenceNumber == 1 })
    }

    @Test func appendedBoundsAreTruncatedInTheManifest() throws {
        var f = Self.file("big")
        f.lowerBounds = [3: .string(String(repeating: "a", count: 100_000))]
        f.upperBounds = [3: .string(String(repeating: "b", count: 100_000))]
        let c = try Self.created().append([f], stamp: Self.stamp(1))
        #expect(c.files[0].bytes.count < 4_000)
        let entry = try ManifestFile.decode(c.files[0].bytes).entries[0]
        #expect(entry.dataFile.lowerBounds[3] == .binary(Array(String(repeating: "a", count: 16).utf8)))
        #expect(entry.dataFile.upperBounds[3] == .binary(Array((String(repeating: "b", count: 15) + "c").utf8)))
    }

    @Test func avroCodecFollowsTheTableProperty() throws {
        let deflated = try Self.created().append([Self.file("a")], stamp: Self.stamp(1))
        let plain = try IcebergTable.create(
            location: Self.location, schema: Self.schema, tableUUID: UUID(), timestampMs: 0,
            properties: [(IcebergTable.avroCodecKey, "uncompressed")]
        )
        .table.append([Self.file("a")], stamp: Self.stamp(1))
        let codecKey = Array("avro.codec".utf8)
        for (commit, codec) in [(deflated, "deflate"), (plain, "null")] {
            for file in commit.files.dropLast() {  // the manifest and the manifest list
                let header = file.bytes
                let at = try #require(header.firstRange(of: codecKey))
                #expect(Array(header[at.upperBound + 1..<at.upperBound + 1 + codec.utf8.count]) == Array(codec.utf8))
            }
        }
    }

    @Test func eachAppendIsOneSnapshotAndKeepsEarlierManifests() throws {
        let t1 = try Self.created().append([Self.file("LOAD00000001")], stamp: Self.stamp(1)).table
        let c2 = try t1.append([Self.file("20261204-120000000")], stamp: Self.stamp(2))
        let t2 = c2.table
        #expect(t2.metadata.snapshots.map(\.snapshotID) == [1001, 1002])
        #expect(t2.metadata.currentSnapshot?.parentSnapshotID == 1001)
        #expect(t2.metadata.currentSnapshot?.sequenceNumber == 2)
        #expect(t2.manifestLists[1002]?.count == 2)
        #expect(t2.liveDataFiles().map(\.path).sorted() == [Self.file("20261204-120000000").path, Self.file("LOAD00000001").path])
        #expect(t2.liveDataFiles(snapshotID: 1001).map(\.path) == [Self.file("LOAD00000001").path])
        #expect(t2.metadata.snapshotLog.map(\.snapshotID) == [1001, 1002])
    }

    @Test func appendRefusesDuplicatesAndTakenSnapshotIDs() throws {
        let t1 = try Self.created().append([Self.file("a")], stamp: Self.stamp(1)).table
        #expect(throws: IcebergError.self) { try t1.append([Self.file("a")], stamp: Self.stamp(2)) }
        #expect(throws: IcebergError.self) { try t1.append([Self.file("b"), Self.file("b")], stamp: Self.stamp(2)) }
        #expect(throws: IcebergError.self) { try t1.append([Self.file("b")], stamp: Self.stamp(1)) }
    }

    @Test func overwriteMarksRemovedFilesDeletedAndOthersExisting() throws {
        var t = try Self.created().append([Self.file("LOAD1"), Self.file("LOAD2")], stamp: Self.stamp(1)).table
        t = try t.append([Self.file("cdc1")], stamp: Self.stamp(2)).table
        let c = try t.overwrite(
            removing: [Self.file("LOAD1").path, Self.file("LOAD2").path],
            adding: [Self.file("LOAD3", rows: 7)], stamp: Self.stamp(3))
        let snap = try #require(c.table.metadata.currentSnapshot)
        #expect(snap.operation == "overwrite")
        let summary = Dictionary(uniqueKeysWithValues: snap.summary.map { ($0.key, $0.value) })
        #expect(summary["deleted-data-files"] == "2" && summary["deleted-records"] == "20" && summary["total-records"] == "17")
        #expect(Set(c.table.liveDataFiles().map(\.path)) == [Self.file("LOAD3").path, Self.file("cdc1").path])
        // Time travel: the appends still see their files.
        #expect(Set(c.table.liveDataFiles(snapshotID: 1002).map(\.path)) == [Self.file("LOAD1").path, Self.file("LOAD2").path, Self.file("cdc1").path])
        let rewritten = try ManifestFile.decode(c.files[1].bytes)
        #expect(rewritten.entries.map(\.status) == [.deleted, .deleted])
        #expect(rewritten.entries.allSatisfy { $0.snapshotID == 1003 && $0.sequenceNumber == 1 })
        #expect(throws: IcebergError.self) { try c.table.overwrite(removing: [Self.file("LOAD1").path], adding: [], stamp: Self.stamp(4)) }
    }

    @Test func overwriteWithNothingAddedIsADelete() throws {
        let t = try Self.created().append([Self.file("a"), Self.file("b")], stamp: Self.stamp(1)).table
        let c = try t.overwrite(removing: [Self.file("a").path], adding: [], stamp: Self.stamp(2))
        #expect(c.table.metadata.currentSnapshot?.operation == "delete")
        let m = try ManifestFile.decode(c.files[0].bytes)
        #expect(m.entries.map(\.status) == [.deleted, .existing])
        #expect(m.entries[1].snapshotID == 1001)
    }

    @Test func schemaUpdateKeepsIDsAndAdvancesVersionWithoutSnapshot() throws {
        let t = try Self.created().append([Self.file("a")], stamp: Self.stamp(1)).table
        let c = try t.updateSchema(
            [.renameColumn(from: "name", to: "title"), .addColumn(name: "qty", type: .int)],
            timestampMs: 1_800_000_000_000)
        let m = c.table.metadata
        #expect(c.table.version == 3 && m.snapshots.count == 1)
        #expect(m.currentSchemaID == 1 && m.schemas.count == 2 && m.lastColumnID == 4)
        #expect(m.currentSchema.field(named: "title")?.id == 3)
        #expect(m.property(NameMapping.propertyKey)?.contains(#""names":["title","name"]"#) == true)
        let c2 = try c.table.updateSchema([.widenColumn(name: "qty", to: .long)], timestampMs: 1_800_000_000_001)
        #expect(c2.table.metadata.currentSchema.field(id: 4)?.type == .long)
        // Snapshots written after the change carry the new schema id.
        let c3 = try c2.table.append([Self.file("b")], stamp: Self.stamp(5))
        #expect(c3.table.metadata.currentSnapshot?.schemaID == 2)
        #expect(throws: IcebergError.self) { try c3.table.updateSchema([.widenColumn(name: "qty", to: .int)], timestampMs: 0) }
    }

    @Test func summaryExtrasFollowIcebergsOwnKeys() throws {
        let c = try Self.created().append(
            [Self.file("a")], stamp: Self.stamp(1),
            summary: [("replicatord.checkpoint-lsn", "0/16B3748"), ("operation", "delete")])
        let summary = c.table.metadata.currentSnapshot!.summary
        #expect(summary.first?.key == "operation" && summary.first?.value == "append")
        #expect(summary.last?.key == "replicatord.checkpoint-lsn" && summary.last?.value == "0/16B3748")
        #expect(summary.filter { $0.key == "operation" }.count == 1)
    }

    @Test func rollbackMakesAnAncestorCurrentAndTheNextCommitBuildsOnIt() throws {
        var t = Self.created()
        for n in 1...3 { t = try t.append([Self.file("f\(n)")], stamp: Self.stamp(n)).table }
        let c = try t.rollback(to: 1002, timestampMs: Self.stamp(4).timestampMs)
        #expect(c.table.metadata.currentSnapshotID == 1002)
        #expect(c.table.metadata.snapshots.count == 3)
        #expect(c.table.metadata.snapshotLog.map(\.snapshotID) == [1001, 1002, 1003, 1002])
        #expect(c.files.map(\.path) == [c.table.metadataPath])
        #expect(Set(c.table.liveDataFiles().map(\.path)) == [Self.file("f1").path, Self.file("f2").path])
        // f3 is no longer live: it can be appended again by the cycle that is redone.
        let redo = try c.table.append([Self.file("f3")], stamp: Self.stamp(5))
        #expect(redo.table.metadata.currentSnapshot?.parentSnapshotID == 1002)
        #expect(redo.table.metadata.currentSnapshot?.sequenceNumber == 4)
        #expect(throws: IcebergError.self) { try redo.table.rollback(to: 1003, timestampMs: 0) }  // not an ancestor
        #expect(throws: IcebergError.self) { try redo.table.rollback(to: 42, timestampMs: 0) }
    }

    @Test func mergeFoldsManifestsIntoOneKeepingSequenceNumbers() throws {
        var t = Self.created()
        for n in 1...4 { t = try t.append([Self.file("f\(n)")], stamp: Self.stamp(n)).table }
        #expect(t.manifestLists[1004]?.count == 4)
        let c = try #require(try t.mergeManifests(stamp: Self.stamp(5)))
        #expect(c.table.metadata.currentSnapshot?.operation == "replace")
        #expect(c.table.manifestLists[1005]?.count == 1)
        let merged = try ManifestFile.decode(c.files[0].bytes)
        #expect(merged.entries.allSatisfy { $0.status == .existing })
        #expect(merged.entries.map(\.sequenceNumber).sorted() == [1, 2, 3, 4])
        #expect(Set(c.table.liveDataFiles().map(\.path)) == Set(t.liveDataFiles().map(\.path)))
        #expect(try c.table.mergeManifests(stamp: Self.stamp(6)) == nil)
    }

    @Test func appendMergesAutomaticallyAtTheConfiguredCount() throws {
        var t = IcebergTable.create(
            location: Self.location, schema: Self.schema, tableUUID: UUID(), timestampMs: 0,
            properties: [(IcebergTable.minCountToMergeKey, "3")]
        ).table
        for n in 1...2 { t = try t.append([Self.file("f\(n)")], stamp: Self.stamp(n)).table }
        #expect(t.manifestLists[1002]?.count == 2)
        t = try t.append([Self.file("f3")], stamp: Self.stamp(3)).table
        #expect(t.manifestLists[1003]?.count == 1)
        let entries = t.manifests[t.manifestLists[1003]![0].path]!.entries
        #expect(entries.filter { $0.status == .added }.map(\.dataFile.path) == [Self.file("f3").path])
        #expect(entries.count == 3)
    }

    @Test func mergingLeavesManifestsAtTheTargetSizeAlone() throws {
        var t = IcebergTable.create(
            location: Self.location, schema: Self.schema, tableUUID: UUID(), timestampMs: 0,
            properties: [(IcebergTable.minCountToMergeKey, "3")]
        ).table
        let big = (0..<40).map { Self.file("big\($0)") }
        t = try t.append(big, stamp: Self.stamp(1)).table
        let bigManifest = t.manifestLists[1001]![0]
        t = t.updateProperties([(IcebergTable.targetManifestSizeKey, String(bigManifest.length))], timestampMs: 1).table
        #expect(t.metadata.property(IcebergTable.targetManifestSizeKey) == String(bigManifest.length))
        t = try t.append([Self.file("s2")], stamp: Self.stamp(2)).table
        t = try t.append([Self.file("s3")], stamp: Self.stamp(3)).table
        // Three manifests reached: the two small ones fold, the one at the target size stays.
        let list = t.manifestLists[1003]!
        #expect(list.count == 2)
        #expect(list.contains(bigManifest))
        #expect(t.liveDataFiles().count == 42)
        #expect(try t.mergeManifests(stamp: Self.stamp(4)) == nil)  // one small manifest: nothing to fold
    }

    @Test func expiryDropsOldSnapshotsAndOnlyTheirMetadataFiles() throws {
        var t = Self.created()
        var commits: [IcebergCommit] = []
        for n in 1...3 {
            let c = try t.append([Self.file("f\(n)")], stamp: Self.stamp(n))
            commits.append(c)
            t = c.table
        }
        let over = try t.overwrite(removing: [Self.file("f1").path], adding: [Self.file("g")], stamp: Self.stamp(4))
        t = over.table
        // Keep snapshots from stamp 3 on: f1 is still live in 1003, so no data file is unreferenced.
        let c = try #require(t.expireSnapshots(olderThanMs: Self.stamp(3).timestampMs, timestampMs: Self.stamp(9).timestampMs))
        #expect(c.table.metadata.snapshots.map(\.snapshotID) == [1003, 1004])
        #expect(c.table.metadata.snapshotLog.map(\.snapshotID) == [1003, 1004])
        #expect(c.obsoleteMetadataFiles == [commits[0], commits[1]].map { $0.table.metadata.currentSnapshot!.manifestList })
        #expect(c.unreferencedDataFiles.isEmpty)
        #expect(Set(c.table.liveDataFiles().map(\.path)) == Set(t.liveDataFiles().map(\.path)))
        #expect(c.table.expireSnapshots(olderThanMs: Self.stamp(3).timestampMs, timestampMs: 0) == nil)
        // Keep only the overwrite: f1's first manifest (rewritten by the overwrite) goes, f2's stays.
        let d = try #require(c.table.expireSnapshots(olderThanMs: Self.stamp(4).timestampMs, timestampMs: Self.stamp(9).timestampMs))
        #expect(d.table.metadata.snapshots.map(\.snapshotID) == [1004])
        #expect(d.obsoleteMetadataFiles.contains(commits[2].table.metadata.currentSnapshot!.manifestList))
        #expect(d.obsoleteMetadataFiles.contains(commits[0].files[0].path))
        #expect(!d.obsoleteMetadataFiles.contains(commits[1].files[0].path))
        #expect(d.unreferencedDataFiles == [Self.file("f1").path])
        #expect(d.table.manifests.keys.sorted() == d.table.manifestLists[1004]!.map(\.path).sorted())
    }

    @Test func expiryKeepsTheCurrentSnapshotWhateverItsAge() throws {
        var t = Self.created()
        for n in 1...2 { t = try t.append([Self.file("f\(n)")], stamp: Self.stamp(n)).table }
        let c = try #require(t.expireSnapshots(olderThanMs: Int64.max, timestampMs: Self.stamp(9).timestampMs))
        #expect(c.table.metadata.snapshots.map(\.snapshotID) == [1002])
        #expect(c.unreferencedDataFiles.isEmpty)  // f1 is still live in 1002
        #expect(c.table.liveDataFiles().count == 2)
    }

    @Test func metadataLogIsTrimmedToPreviousVersionsMax() throws {
        var t = IcebergTable.create(
            location: Self.location, schema: Self.schema, tableUUID: UUID(), timestampMs: 0,
            properties: [(IcebergTable.previousVersionsMaxKey, "2")]
        ).table
        var obsolete: [String] = []
        for n in 1...4 {
            let c = try t.append([Self.file("f\(n)")], stamp: Self.stamp(n))
            obsolete += c.obsoleteMetadataFiles
            t = c.table
        }
        #expect(t.metadata.metadataLog.map(\.metadataFile) == ["v3", "v4"].map { "\(Self.location)/metadata/\($0).metadata.json" })
        #expect(obsolete == ["v1", "v2"].map { "\(Self.location)/metadata/\($0).metadata.json" })
    }

    @Test func loadFromStoredFilesGivesTheSameTable() throws {
        var store: [String: [UInt8]] = [:]
        var t = Self.created()
        for n in 1...2 { t = try t.append([Self.file("f\(n)")], stamp: Self.stamp(n)).table }
        let c = try t.overwrite(removing: [Self.file("f1").path], adding: [Self.file("g")], stamp: Self.stamp(3))
        // Store every version's files as the daemon would have.
        var replay = Self.created()
        for n in 1...2 {
            let step = try replay.append([Self.file("f\(n)")], stamp: Self.stamp(n))
            _ = try Self.reload(step, into: &store)
            replay = step.table
        }
        let loaded = try Self.reload(c, into: &store)
        #expect(loaded.metadata == c.table.metadata)
        #expect(loaded.version == 4)
        #expect(loaded.manifestLists == c.table.manifestLists)
        #expect(loaded.liveDataFiles().map(\.path) == c.table.liveDataFiles().map(\.path))
        // And it continues where it left off.
        let next = try loaded.append([Self.file("h")], stamp: Self.stamp(4))
        #expect(next.table.metadata.lastSequenceNumber == 4 && next.versionHint.bytes == Array("5".utf8))
    }

    @Test func versionHintPathsAndParsing() throws {
        #expect(IcebergTable.versionHintPath(location: "s3://b/t/") == "s3://b/t/metadata/version-hint.text")
        #expect(IcebergTable.metadataPath(location: "s3://b/t", version: 12) == "s3://b/t/metadata/v12.metadata.json")
        #expect(try IcebergTable.version(fromHint: Array("12\n".utf8)) == 12)
        for bad in ["", "0", "-3", "v2", "2.metadata.json", "١٢", " \n"] {
            #expect(throws: IcebergError.self, "\(bad)") { try IcebergTable.version(fromHint: Array(bad.utf8)) }
        }
        // What a commit stores as its hint reads back as its version.
        let c = try Self.created().append([Self.file("a")], stamp: Self.stamp(1))
        #expect(try IcebergTable.version(fromHint: c.versionHint.bytes) == c.table.version)
        #expect(c.versionHint.path == IcebergTable.versionHintPath(location: Self.location))
    }

    @Test func randomStampsHavePositiveDistinctIDs() {
        let a = CommitStamp.random(), b = CommitStamp.random()
        #expect(a.snapshotID > 0 && b.snapshotID > 0 && a.snapshotID != b.snapshotID)
        #expect(a.syncMarker(0) != a.syncMarker(1))
    }

    @Test func aSimulatedDayOfCyclesKeepsMetadataBounded() throws {
        // 720 two-minute cycles, one file each, default merging (100 manifests) and hourly expiry
        // of snapshots older than six hours: snapshots, manifests and the metadata file stay bounded.
        var t = IcebergTable.create(location: Self.location, schema: Self.schema, tableUUID: UUID(), timestampMs: 0).table
        var largestMetadata = 0, largestManifestCount = 0, obsolete = 0
        let sixHours: Int64 = 6 * 3600 * 1000
        for n in 1...720 {
            let stamp = Self.stamp(n)
            var c = try t.append([Self.file(String(format: "2026120%d-%06d", n / 360, n))], stamp: stamp)
            largestManifestCount = max(largestManifestCount, c.table.manifestLists[stamp.snapshotID]!.count)
            if n % 30 == 0, let e = c.table.expireSnapshots(olderThanMs: stamp.timestampMs - sixHours, timestampMs: stamp.timestampMs) {
                obsolete += e.obsoleteMetadataFiles.count
                #expect(e.unreferencedDataFiles.isEmpty)
                c = e
            }
            largestMetadata = max(largestMetadata, c.files.last!.bytes.count)
            t = c.table
        }
        #expect(largestManifestCount < 100)
        #expect(t.metadata.snapshots.count <= 180 + 30)
        #expect(t.metadata.metadataLog.count == 100)
        #expect(t.liveDataFiles().count == 720)
        // Each retained snapshot added at most one manifest (plus a merged one now and then).
        #expect(t.manifests.count <= t.metadata.snapshots.count + 100)
        #expect(Set(t.manifests.keys) == Set(t.manifestLists.values.flatMap { $0.map(\.path) }))
        #expect(largestMetadata < 200_000, "largest metadata file \(largestMetadata) bytes")
        #expect(obsolete > 500)
    }
}
