import Foundation
import Testing
import TestSupport
@testable import Iceberg

@Suite struct TableMetadataTests {
    static func sample() -> TableMetadata {
        var m = TableMetadata(
            tableUUID: "fb072c92-a02b-11e9-ae9c-1bb7bc9eca94", location: "s3://b/wh/t", lastUpdatedMs: 1000,
            schema: IcebergSchema(fields: [IcebergField(id: 1, name: "id", type: .long, required: true)]),
            properties: [("owner", "replicatord")])
        m.snapshots = [
            Snapshot(
                snapshotID: 11, parentSnapshotID: nil, sequenceNumber: 1, timestampMs: 1500,
                manifestList: "s3://b/wh/t/metadata/snap-11-1-a.avro",
                summary: [("operation", "append"), ("added-records", "3")], schemaID: 0)
        ]
        m.currentSnapshotID = 11
        m.lastSequenceNumber = 1
        m.snapshotLog = [(1500, 11)]
        m.metadataLog = [(1000, "s3://b/wh/t/metadata/v1.metadata.json")]
        return m
    }

    @Test func jsonHasEveryRequiredV2Field() throws {
        let json = try JSONValue.parse(Self.sample().encoded)
        for key in [
            "format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms", "last-column-id",
            "schemas", "current-schema-id", "partition-specs", "default-spec-id", "last-partition-id", "sort-orders",
            "default-sort-order-id", "properties", "current-snapshot-id", "refs", "snapshots", "snapshot-log",
            "metadata-log",
        ] {
            #expect(json[key] != nil, "\(key)")
        }
        #expect(json["format-version"] == .int(2))
        #expect(json["refs"]?["main"] == .object([("snapshot-id", .int(11)), ("type", .string("branch"))]))
        #expect(json["partition-specs"]?.serialized == #"[{"spec-id":0,"fields":[]}]"#)
        #expect(json["snapshots"]?.arrayValue?.first?["summary"]?["operation"] == .string("append"))
    }

    @Test func tableWithoutSnapshotWritesMinusOneAndNoRefs() throws {
        var m = Self.sample()
        m.currentSnapshotID = nil
        m.snapshots = []
        let json = try JSONValue.parse(m.encoded)
        #expect(json["current-snapshot-id"] == .int(-1) && json["refs"] == nil)
        #expect(try TableMetadata.parse(m.encoded).currentSnapshotID == nil)
    }

    @Test func parseRoundTrips() throws {
        let m = Self.sample()
        let back = try TableMetadata.parse(m.encoded)
        #expect(back == m)
        #expect(back.currentSnapshot?.operation == "append")
        #expect(back.property("owner") == "replicatord")
    }

    @Test func parseRejectsV1PartitionedAndDanglingSnapshot() throws {
        let text = String(decoding: Self.sample().encoded, as: UTF8.self)
        let v1 = text.replacingOccurrences(of: #""format-version":2"#, with: #""format-version":1"#)
        #expect(throws: IcebergError.self) { try TableMetadata.parse(Array(v1.utf8)) }
        let partitioned = text.replacingOccurrences(
            of: #""fields":[]}]"#,
            with: #""fields":[{"source-id":1,"field-id":1000,"name":"x","transform":"identity"}]}]"#)
        #expect(throws: IcebergError.self) { try TableMetadata.parse(Array(partitioned.utf8)) }
        let dangling = text.replacingOccurrences(of: #""current-snapshot-id":11"#, with: #""current-snapshot-id":12"#)
        #expect(throws: IcebergError.self) { try TableMetadata.parse(Array(dangling.utf8)) }
    }

    @Test func parseRejectsIDsBeyond32BitsInsteadOfTrapping() throws {
        let text = String(decoding: Self.sample().encoded, as: UTF8.self)
        for (from, to) in [
            (#""last-column-id":1"#, #""last-column-id":4294967296"#),
            (#""current-schema-id":0"#, #""current-schema-id":-4294967296"#),
            (#"{"id":1,"name":"id""#, #"{"id":9999999999,"name":"id""#),
            (#""schema-id":0}],"snapshot-log""#, #""schema-id":3000000000}],"snapshot-log""#),
        ] {
            let bad = text.replacingOccurrences(of: from, with: to)
            #expect(bad != text, "\(from) found")
            #expect(throws: IcebergError.self, "\(to)") { try TableMetadata.parse(Array(bad.utf8)) }
        }
    }

    @Test func mutatedMetadataJSONThrowsOrParsesButNeverTraps() {
        let valid = Self.sample().encoded
        var random = FuzzSeed.generator(for: "mutatedMetadataJSONThrowsOrParsesButNeverTraps")
        let start = random.seed
        var parsed = 0
        for _ in 0..<3000 {
            let seed = random.next()
            var bytes = valid
            let at = Int(seed >> 33) % bytes.count
            switch seed % 3 {
            case 0: bytes[at] = UInt8(truncatingIfNeeded: seed >> 17)
            case 1: bytes.removeSubrange(at..<min(bytes.count, at + Int(seed >> 60) + 1))
            default: bytes.insert(contentsOf: Array("[{\"".utf8), at: at)
            }
            if (try? TableMetadata.parse(bytes)) != nil { parsed += 1 }
        }
        #expect(parsed < 3000, "seed \(start)")
    }

    @Test func snapshotAsOfATimeComesFromTheLog() {
        var m = Self.sample()
        m.snapshotLog = [(1500, 11), (2000, 12), (2600, 13)]
        #expect(m.snapshotID(asOf: 1499) == nil)
        #expect(m.snapshotID(asOf: 1500) == 11)
        #expect(m.snapshotID(asOf: 2599) == 12)
        #expect(m.snapshotID(asOf: 9999) == 13)
    }
}
