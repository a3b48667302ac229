import Testing
import TestSupport
@testable import Iceberg

@Suite struct AvroContainerFileTests {
    private let sync: [UInt8] = Array(0..<16)

    @Test func nullCodecFileIsHeaderThenOneBlock() throws {
        let bytes = try AvroContainerFile(schema: .long, records: [.long(1)]).encoded(codec: .null, syncMarker: sync)
        var expected: [UInt8] = Array("Obj".utf8) + [0x01, 0x04]
        expected += [0x16] + Array("avro.schema".utf8) + [0x0C] + Array("\"long\"".utf8)
        expected += [0x14] + Array("avro.codec".utf8) + [0x08] + Array("null".utf8)
        expected += [0x00] + sync
        expected += [0x02, 0x02, 0x02] + sync  // count 1, size 1, the value 1
        #expect(bytes == expected)
    }

    @Test func emptyFileHasNoBlock() throws {
        let bytes = try AvroContainerFile(schema: .string, metadata: [("k", "v")], records: []).encoded(syncMarker: sync)
        #expect(Array(bytes.suffix(17)) == [0x00] + sync)
        let back = try AvroContainerFile.decode(bytes)
        #expect(back.records.isEmpty && back.metadataValue("k") == "v")
    }

    @Test func deflateRoundTripsAndCompresses() throws {
        let records = (0..<500).map { AvroValue.string("s3://bucket/prefix/public/orders/LOAD\($0 % 7).parquet") }
        let file = AvroContainerFile(schema: .string, metadata: [("schema", "{}")], records: records)
        let plain = try file.encoded(codec: .null, syncMarker: sync)
        let deflated = try file.encoded(codec: .deflate, syncMarker: sync, recordsPerBlock: 128)
        #expect(deflated.count < plain.count / 4)
        let back = try AvroContainerFile.decode(deflated)
        #expect(back.records == records)
        #expect(back.schema == .string)
        #expect(back.metadata.map(\.key) == ["schema"])
    }

    @Test func blocksAreCutAtTheRecordLimit() throws {
        let bytes = try AvroContainerFile(schema: .long, records: (0..<5).map { .long($0) })
            .encoded(codec: .null, syncMarker: sync, recordsPerBlock: 2)
        // Header, then three blocks each followed by the marker.
        let markers = (0...(bytes.count - 16)).filter { Array(bytes[$0..<$0 + 16]) == sync }
        #expect(markers.count == 4)
        #expect(try AvroContainerFile.decode(bytes).records == (0..<5).map { .long($0) })
    }

    @Test func decodeRejectsBadMagicWrongSyncAndUnknownCodec() throws {
        var bytes = try AvroContainerFile(schema: .long, records: [.long(1)]).encoded(codec: .null, syncMarker: sync)
        var badMagic = bytes
        badMagic[3] = 2
        #expect(throws: IcebergError.self) { try AvroContainerFile.decode(badMagic) }
        bytes[bytes.count - 1] ^= 0xFF
        #expect(throws: IcebergError.self) { try AvroContainerFile.decode(bytes) }
        var e = AvroBinaryEncoder()
        e.writeRaw(AvroContainerFile.magic)
        e.writeLong(2)
        e.writeString("avro.schema"); e.writeBytes(Array("\"long\"".utf8))
        e.writeString("avro.codec"); e.writeBytes(Array("snappy".utf8))
        e.writeLong(0)
        e.writeRaw(sync)
        #expect(throws: IcebergError.self) { try AvroContainerFile.decode(e.bytes) }
    }

    @Test func decodeRefusesABlockClaimingEndlessRecords() throws {
        var e = AvroBinaryEncoder()
        e.writeRaw(AvroContainerFile.magic)
        e.writeLong(1)
        e.writeString("avro.schema"); e.writeBytes(Array("\"null\"".utf8))
        e.writeLong(0)
        e.writeRaw(sync)
        e.writeLong(Int64.max)  // records of "null" take no bytes
        e.writeLong(0)
        e.writeRaw(sync)
        #expect(throws: IcebergError.self) { try AvroContainerFile.decode(e.bytes) }
    }

    @Test func manifestWithAForgedMapRecordDoesNotTrap() throws {
        // A manifest whose value_counts map records have one field: decoded without those counts.
        let forged = AvroSchema.record(
            name: "manifest_entry",
            fields: [
                AvroField("status", .int, id: 0), .optional("snapshot_id", .long, id: 1), .optional("sequence_number", .long, id: 3),
                .optional("file_sequence_number", .long, id: 4),
                AvroField(
                    "data_file",
                    .record(
                        name: "r2",
                        fields: [
                            AvroField("file_path", .string, id: 100), AvroField("file_format", .string, id: 101),
                            AvroField("record_count", .long, id: 103), AvroField("file_size_in_bytes", .long, id: 104),
                            AvroField("value_counts", .array(items: .record(name: "k", fields: [AvroField("key", .int, id: 119)])), id: 109),
                        ]), id: 2),
            ])
        let bytes = try AvroContainerFile(
            schema: forged, metadata: [("format-version", "2"), ("content", "data")],
            records: [
                .record([
                    .int(1), .long(1), .long(1), .long(1),
                    .record([
                        .string("p"), .string("PARQUET"), .long(1), .long(1),
                        .array([.record([.int(5)])]),
                    ]),
                ])
            ]
        ).encoded(syncMarker: sync)
        let manifest = try ManifestFile.decode(bytes)
        #expect(manifest.entries.count == 1 && manifest.entries[0].dataFile.valueCounts.isEmpty)
    }

    @Test func mutatedManifestsThrowOrDecodeButNeverTrap() throws {
        var file = DataFile(path: "s3://b/t/LOAD00000001.parquet", recordCount: 3, fileSizeInBytes: 10)
        file.valueCounts = [1: 3]
        file.lowerBounds = [1: .long(1)]
        let manifest = ManifestFile(entries: [
            ManifestEntry(
                status: .added, snapshotID: 1, sequenceNumber: 1,
                fileSequenceNumber: 1, dataFile: file)
        ])
        let schema = IcebergSchema(fields: [IcebergField(id: 1, name: "id", type: .long)])
        var random = FuzzSeed.generator(for: "mutatedManifestsThrowOrDecodeButNeverTrap")
        func next() -> Int { Int(truncatingIfNeeded: random.next() >> 33) }
        var decoded = 0
        for codec in [AvroCodec.null, .deflate] {
            let valid = try manifest.encoded(schema: schema, syncMarker: sync, codec: codec)
            for _ in 0..<1500 {
                var bytes = valid
                switch next() % 3 {
                case 0: for _ in 0...(next() % 4) { bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next()) }
                case 1: bytes.removeLast(1 + next() % (bytes.count - 1))
                default: bytes.insert(UInt8(truncatingIfNeeded: next()), at: next() % bytes.count)
                }
                if (try? ManifestFile.decode(bytes)) != nil { decoded += 1 }
                _ = try? ManifestList.decode(bytes)
            }
        }
        // Some mutations land in places that do not matter (doc strings, the path's text).
        #expect(decoded > 0 && decoded < 3000)
    }
}
