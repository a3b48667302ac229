import Testing
@testable import Iceberg

@Suite struct ManifestListTests {
    @Test func summaryCountsFilesAndRowsByStatus() {
        let f = { (n: Int64) in DataFile(path: "f\(n)", recordCount: n, fileSizeInBytes: 1) }
        let manifest = ManifestFile(entries: [
            ManifestEntry(status: .added, snapshotID: 5, sequenceNumber: 4, fileSequenceNumber: 4, dataFile: f(10)),
            ManifestEntry(status: .existing, snapshotID: 3, sequenceNumber: 2, fileSequenceNumber: 2, dataFile: f(20)),
            ManifestEntry(status: .existing, snapshotID: 3, sequenceNumber: 2, fileSequenceNumber: 2, dataFile: f(30)),
            ManifestEntry(status: .deleted, snapshotID: 5, sequenceNumber: 1, fileSequenceNumber: 1, dataFile: f(40)),
        ])
        let s = ManifestSummary(path: "m", length: 99, manifest: manifest, sequenceNumber: 4, addedSnapshotID: 5)
        #expect(s.addedFilesCount == 1 && s.existingFilesCount == 2 && s.deletedFilesCount == 1)
        #expect(s.addedRowsCount == 10 && s.existingRowsCount == 50 && s.deletedRowsCount == 40)
        #expect(s.minSequenceNumber == 2)  // deleted files do not count
    }

    @Test func listBytesCarryMetadataAndFieldIDs() throws {
        let s = ManifestSummary(
            path: "s3://b/t/metadata/x-m0.avro", length: 1234, manifest: ManifestFile(entries: []),
            sequenceNumber: 3, addedSnapshotID: 77)
        let bytes = try ManifestList(manifests: [s]).encoded(
            snapshotID: 77, parentSnapshotID: 76, sequenceNumber: 3,
            syncMarker: Array(repeating: 3, count: 16))
        let file = try AvroContainerFile.decode(bytes)
        #expect(file.metadata.map(\.key) == ["snapshot-id", "parent-snapshot-id", "sequence-number", "format-version"])
        #expect(file.metadataValue("parent-snapshot-id") == "76")
        guard case .record(let name, let fields) = file.schema else { Issue.record("not a record"); return }
        #expect(name == "manifest_file")
        #expect(fields.map(\.fieldID) == [500, 501, 502, 517, 515, 516, 503, 504, 505, 506, 512, 513, 514, 507, 519])
        let back = try ManifestList.decode(bytes)
        #expect(back.manifests == [s])
    }

    @Test func firstSnapshotHasNoParentKey() throws {
        let bytes = try ManifestList(manifests: []).encoded(
            snapshotID: 1, parentSnapshotID: nil, sequenceNumber: 1,
            syncMarker: Array(repeating: 3, count: 16))
        #expect(try AvroContainerFile.decode(bytes).metadataValue("parent-snapshot-id") == nil)
    }
}
