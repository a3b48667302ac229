import Foundation
import Iceberg
import Logging
import Replication
import ObjectStore
import Testing
@testable import Daemon

/// Housekeeping over many cycles through the daemon's commit path (`IcebergDaySimulation`): with
/// it the snapshots stay within the retention, the current snapshot reads at most the merge
/// threshold's manifests and metadata/ stops growing, and no data file leaves the table; without
/// it every cycle adds a snapshot and a manifest.
struct IcebergDaySimulationTests {
    /// The simulation on a thread of its own (its store calls block).
    func run(cycles: Int, housekeeping: Bool, retention: Int64 = 3600) async throws -> (IcebergDaySimulation.Outcome, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("iceberg-day-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let outcome = try await DedicatedThread.run(name: "test") {
            try IcebergDaySimulation.run(
                directory: dir, cycles: cycles, intervalSeconds: 120, housekeeping: housekeeping,
                retentionSeconds: retention)
        }
        return (outcome, dir)
    }

    @Test func housekeepingKeepsTheRetainedSnapshotsAndFewManifestsAndEveryDataFile() async throws {
        let (outcome, dir) = try await run(cycles: 150, housekeeping: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An hour of cycles 2 minutes apart: 30 snapshots within it, the one at its edge, and those
        // that passed it since expiry last ran (it runs once a snapshot is 1.1 hours old: 3 cycles).
        #expect((30...34).contains(outcome.snapshots), "\(outcome.snapshots) snapshots")
        #expect(outcome.currentManifests <= IcebergSync.manifestsBeforeMerge, "\(outcome.currentManifests) manifests")
        #expect(outcome.liveDataFiles == 150, "expiry never removes a data file from the table")
        let data = try FileManager.default.contentsOfDirectory(atPath: dir + "/public/orders").filter { $0.hasSuffix(".parquet") }
        #expect(data.count == 150, "nor from the store")
        // metadata/: 10 old metadata versions, the current one and its hint, and the retained snapshots' lists and manifests.
        #expect(outcome.metadataFiles <= 10 + 2 + 34 * 2 + IcebergSync.manifestsBeforeMerge, "\(outcome.metadataFiles) files")
        // Every manifest list and manifest the current metadata names is there; no other Avro file is left.
        var settings = EngineSettings(conninfo: "", publication: "", slot: "")
        settings.icebergLocation = dir
        let sync = IcebergSync(store: try LocalDirectoryStore(root: dir, logger: Logger(label: "test")), settings: settings)
        let table = try #require(try await DedicatedThread.run(name: "test") { try sync.load(folder: "public/orders/", complete: true) })
        var named = Set(table.metadata.snapshots.map(\.manifestList))
        for list in table.manifestLists.values { for m in list { named.insert(m.path) } }
        let avro = Set(
            try FileManager.default.contentsOfDirectory(atPath: dir + "/public/orders/metadata").filter { $0.hasSuffix(".avro") }
                .map { dir + "/public/orders/metadata/" + $0 })
        #expect(avro == named, "\(avro.subtracting(named).count) Avro files no snapshot uses, \(named.subtracting(avro).count) missing")
    }

    @Test func aCommitReadsTwoManifestListsUnlessExpiryIsDue() async throws {
        let (outcome, dir) = try await run(cycles: 40, housekeeping: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(outcome.snapshots == 41)
        var settings = EngineSettings(conninfo: "", publication: "", slot: "")
        settings.icebergLocation = dir
        settings.icebergSnapshotRetentionSeconds = 10 * 365 * 86_400  // nothing due: a commit's load
        let sync = IcebergSync(store: try LocalDirectoryStore(root: dir, logger: Logger(label: "test")), settings: settings)
        let partial = try #require(try await DedicatedThread.run(name: "test") { try sync.load(folder: "public/orders/") })
        #expect(!partial.isComplete && partial.manifestLists.count == 2, "\(partial.manifestLists.count) manifest lists read")
        #expect(partial.liveDataFiles().count == 40, "the current snapshot reads whole")
        let complete = try #require(try await DedicatedThread.run(name: "test") { try sync.load(folder: "public/orders/", complete: true) })
        #expect(complete.isComplete && complete.manifestLists.count == 41)
        // Due: a snapshot older than 1.1 times the retention makes the commit's load read them all.
        settings.icebergSnapshotRetentionSeconds = 60
        let due = IcebergSync(store: try LocalDirectoryStore(root: dir, logger: Logger(label: "test")), settings: settings)
        #expect(due.expiryDue(partial.metadata))
        let expiring = try #require(try await DedicatedThread.run(name: "test") { try due.load(folder: "public/orders/") })
        #expect(expiring.isComplete)
    }

    @Test func withoutHousekeepingEveryCycleAddsASnapshotAndAManifest() async throws {
        let (outcome, dir) = try await run(cycles: 60, housekeeping: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(outcome.snapshots == 61, "the table's first empty snapshot and one per cycle")
        #expect(outcome.currentManifests == 60)
        #expect(outcome.liveDataFiles == 60)
    }
}
