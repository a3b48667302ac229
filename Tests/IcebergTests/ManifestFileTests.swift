import Testing
@testable import Iceberg

@Suite struct ManifestFileTests {
    static let schema = IcebergSchema(
        schemaID: 2,
        fields: [
            IcebergField(id: 1, name: "id", type: .long, required: true), IcebergField(id: 2, name: "name", type: .string),
        ])

    static func file(_ n: Int) -> DataFile {
        var f = DataFile(path: "s3://b/p/public/t/LOAD0000000\(n).parquet", recordCount: Int64(10 * n), fileSizeInBytes: 1000)
        f.columnSizes = [1: 80, 2: 120]
        f.valueCounts = [2: 10, 1: 10]
        f.nullValueCounts = [1: 0, 2: 3]
        f.lowerBounds = [1: .long(-5), 2: .string("apple")]
        f.upperBounds = [1: .long(99), 2: .string("pear")]
        f.splitOffsets = [4]
        return f
    }

    @Test func metadataKeysAreTheOnesTheSpecRequires() throws {
        let bytes = try ManifestFile(entries: []).encoded(schema: Self.schema, syncMarker: Array(repeating: 7, count: 16))
        let file = try AvroContainerFile.decode(bytes)
        #expect(file.metadata.map(\.key) == ["schema", "schema-id", "partition-spec", "partition-spec-id", "format-version", "content"])
        #expect(file.metadataValue("schema") == Self.schema.json.serialized)
        #expect(file.metadataValue("schema-id") == "2")
        #expect(file.metadataValue("partition-spec") == "[]")
        #expect(file.metadataValue("format-version") == "2")
        #expect(file.metadataValue("content") == "data")
        #expect(file.schema == ManifestFile.avroSchema)
    }

    @Test func entryRecordHoldsStatusIdsAndStatisticsByFieldID() throws {
        let entry = ManifestEntry(status: .added, snapshotID: 42, sequenceNumber: 3, fileSequenceNumber: 3, dataFile: Self.file(1))
        let bytes = try ManifestFile(entries: [entry]).encoded(
            schema: Self.schema, syncMarker: Array(repeating: 1, count: 16),
            codec: .null)
        let record = try AvroContainerFile.decode(bytes).records[0]
        guard let fields = record.recordFields, let data = fields[4].recordFields else {
            Issue.record("not a record"); return
        }
        #expect(fields[0] == .int(1) && fields[1] == .long(42) && fields[2] == .long(3) && fields[3] == .long(3))
        #expect(data[0] == .int(0))  // content: data
        #expect(data[1] == .string("s3://b/p/public/t/LOAD00000001.parquet"))
        #expect(data[2] == .string("PARQUET"))
        #expect(data[3] == .record([]))
        #expect(data[4] == .long(10) && data[5] == .long(1000))
        // Maps are arrays of key/value records, sorted by field id.
        #expect(data[7] == .array([.record([.int(1), .long(10)]), .record([.int(2), .long(10)])]))
        #expect(data[9] == .null)  // no NaN counts given
        #expect(
            data[10]
                == .array([
                    .record([.int(1), .bytes([0xFB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])]),
                    .record([.int(2), .bytes(Array("apple".utf8))]),
                ]))
        #expect(data[13] == .array([.long(4)]))
    }

    @Test func decodeReadsEntriesBack() throws {
        let entries = [
            ManifestEntry(status: .added, snapshotID: 7, sequenceNumber: 2, fileSequenceNumber: 2, dataFile: Self.file(1)),
            ManifestEntry(status: .deleted, snapshotID: 8, sequenceNumber: 1, fileSequenceNumber: 1, dataFile: Self.file(2)),
        ]
        let back = try ManifestFile.decode(
            try ManifestFile(entries: entries)
                .encoded(schema: Self.schema, syncMarker: Array(repeating: 2, count: 16)))
        #expect(back.entries.count == 2)
        #expect(back.entries[1].status == .deleted && back.entries[1].snapshotID == 8 && back.entries[1].sequenceNumber == 1)
        #expect(back.entries[0].dataFile.valueCounts == [1: 10, 2: 10])
        #expect(back.entries[0].dataFile.lowerBounds[2] == .binary(Array("apple".utf8)))
        #expect(back.entries[0].dataFile.splitOffsets == [4])
    }

    @Test func decodeRejectsAManifestList() throws {
        let list = try ManifestList(manifests: []).encoded(
            snapshotID: 1, parentSnapshotID: nil, sequenceNumber: 1,
            syncMarker: Array(repeating: 0, count: 16))
        #expect(throws: IcebergError.self) { try ManifestFile.decode(list) }
    }

    @Test func decodeInheritsNullSnapshotAndSequenceNumbersOfAddedEntries() throws {
        // A manifest as another writer leaves it: ids and sequence numbers null, to be inherited.
        var record = ManifestFile.record(
            ManifestEntry(
                status: .added, snapshotID: 0, sequenceNumber: 0, fileSequenceNumber: 0,
                dataFile: Self.file(1)))
        guard case .record(var fields) = record else { Issue.record("not a record"); return }
        fields[1] = .null; fields[2] = .null; fields[3] = .null
        record = .record(fields)
        let metadata: [(key: String, value: String)] = [
            ("schema", Self.schema.json.serialized), ("schema-id", "2"),
            ("partition-spec", "[]"), ("partition-spec-id", "0"), ("format-version", "2"), ("content", "data"),
        ]
        let bytes = try AvroContainerFile(schema: ManifestFile.avroSchema, metadata: metadata, records: [record])
            .encoded(syncMarker: Array(repeating: 5, count: 16))
        #expect(throws: IcebergError.self) { try ManifestFile.decode(bytes) }
        let summary = ManifestSummary(
            path: "m", length: Int64(bytes.count), manifest: ManifestFile(entries: []),
            sequenceNumber: 9, addedSnapshotID: 99)
        let entry = try ManifestFile.decode(bytes, inheritingFrom: summary).entries[0]
        #expect(entry.snapshotID == 99 && entry.sequenceNumber == 9 && entry.fileSequenceNumber == 9)
        // An EXISTING entry must carry its sequence numbers: inheritance does not apply.
        fields[0] = .int(0)
        let existing = try AvroContainerFile(schema: ManifestFile.avroSchema, metadata: metadata, records: [.record(fields)])
            .encoded(syncMarker: Array(repeating: 5, count: 16))
        #expect(throws: IcebergError.self) { try ManifestFile.decode(existing, inheritingFrom: summary) }
    }
}
