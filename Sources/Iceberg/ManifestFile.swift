/// An Iceberg v2 manifest: an Avro container file of `manifest_entry` records for one partition
/// spec (ours: unpartitioned), with the key-value metadata the spec requires.
///
/// Spec: https://iceberg.apache.org/spec/ "Manifests", "Manifest Entry Fields", "Data File Fields" (v2).
/// Sequence numbers and snapshot ids are written explicitly on every entry (never left to
/// inheritance), which the spec allows for added files and requires for the others.
public struct ManifestFile: Sendable, Hashable {
    /// The manifest's rows, in order.
    public var entries: [ManifestEntry]

    /// A manifest of `entries`.
    public init(entries: [ManifestEntry]) {
        self.entries = entries
    }

    /// The Avro schema of `manifest_entry` in a v2 manifest of an unpartitioned table.
    public static let avroSchema: AvroSchema = {
        func intMap(_ name: String, id: Int32, keyID: Int32, valueID: Int32, value: AvroSchema) -> AvroField {
            .optional(
                name,
                .array(
                    items: .record(
                        name: "k\(keyID)_v\(valueID)",
                        fields: [
                            AvroField("key", .int, id: keyID), AvroField("value", value, id: valueID),
                        ]), attributes: [AvroAttribute("logicalType", .string("map"))]), id: id)
        }
        let dataFile: AvroSchema = .record(
            name: "r2",
            fields: [
                AvroField("content", .int, id: 134, doc: "Contents of the file: 0=data, 1=position deletes, 2=equality deletes"),
                AvroField("file_path", .string, id: 100, doc: "Location URI with FS scheme"),
                AvroField("file_format", .string, id: 101, doc: "File format name: avro, orc, or parquet"),
                AvroField("partition", .record(name: "r102", fields: []), id: 102, doc: "Partition data tuple, schema based on the partition spec"),
                AvroField("record_count", .long, id: 103, doc: "Number of records in the file"),
                AvroField("file_size_in_bytes", .long, id: 104, doc: "Total file size in bytes"),
                intMap("column_sizes", id: 108, keyID: 117, valueID: 118, value: .long),
                intMap("value_counts", id: 109, keyID: 119, valueID: 120, value: .long),
                intMap("null_value_counts", id: 110, keyID: 121, valueID: 122, value: .long),
                intMap("nan_value_counts", id: 137, keyID: 138, valueID: 139, value: .long),
                intMap("lower_bounds", id: 125, keyID: 126, valueID: 127, value: .bytes),
                intMap("upper_bounds", id: 128, keyID: 129, valueID: 130, value: .bytes),
                .optional("key_metadata", .bytes, id: 131),
                .optional("split_offsets", .array(items: .long, attributes: [AvroAttribute("element-id", .int(133))]), id: 132),
                .optional("equality_ids", .array(items: .int, attributes: [AvroAttribute("element-id", .int(136))]), id: 135),
                .optional("sort_order_id", .int, id: 140),
            ])
        return .record(
            name: "manifest_entry",
            fields: [
                AvroField("status", .int, id: 0),
                .optional("snapshot_id", .long, id: 1),
                .optional("sequence_number", .long, id: 3),
                .optional("file_sequence_number", .long, id: 4),
                AvroField("data_file", dataFile, id: 2),
            ])
    }()

    /// The manifest's bytes, for a table whose schema is `schema`.
    public func encoded(schema: IcebergSchema, syncMarker: [UInt8], codec: AvroCodec = .deflate) throws(IcebergError) -> [UInt8] {
        let metadata: [(key: String, value: String)] = [
            ("schema", schema.json.serialized),
            ("schema-id", String(schema.schemaID)),
            ("partition-spec", "[]"),
            ("partition-spec-id", "0"),
            ("format-version", "2"),
            ("content", "data"),
        ]
        return try AvroContainerFile(schema: Self.avroSchema, metadata: metadata, records: entries.map(Self.record))
            .encoded(codec: codec, syncMarker: syncMarker)
    }

    static func record(_ entry: ManifestEntry) -> AvroValue {
        let f = entry.dataFile
        func map(_ values: [Int32: Int64]) -> AvroValue {
            values.isEmpty ? .null : .array(values.keys.sorted().map { .record([.int($0), .long(values[$0]!)]) })
        }
        func bounds(_ values: [Int32: IcebergLiteral]) -> AvroValue {
            values.isEmpty ? .null : .array(values.keys.sorted().map { .record([.int($0), .bytes(values[$0]!.serialized)]) })
        }
        return .record([
            .int(entry.status.rawValue),
            .long(entry.snapshotID),
            .long(entry.sequenceNumber),
            .long(entry.fileSequenceNumber),
            .record([
                .int(0),
                .string(f.path),
                .string(f.format),
                .record([]),
                .long(f.recordCount),
                .long(f.fileSizeInBytes),
                map(f.columnSizes),
                map(f.valueCounts),
                map(f.nullValueCounts),
                map(f.nanValueCounts),
                bounds(f.lowerBounds),
                bounds(f.upperBounds),
                .null,
                f.splitOffsets.map { .array($0.map { .long($0) }) } ?? .null,
                .null,
                .null,
            ]),
        ])
    }

    /// Reads a v2 data manifest back (bounds come back as `.binary` of their serialized bytes,
    /// since a manifest does not record their types). Entries that leave their snapshot id or
    /// sequence numbers to inheritance, as other writers do, take them from `inheritingFrom`
    /// (the manifest's summary in the manifest list); without it they throw.
    public static func decode(_ bytes: [UInt8], inheritingFrom list: ManifestSummary? = nil) throws(IcebergError) -> ManifestFile {
        let file = try AvroContainerFile.decode(bytes)
        guard file.metadataValue("content") == "data", file.metadataValue("format-version") == "2" else {
            throw IcebergError(.invalidMetadata, "not a v2 data manifest")
        }
        guard case .record(_, let fields) = file.schema else { throw IcebergError(.invalidMetadata, "manifest schema is not a record") }
        func position(_ id: Int32, in fields: [AvroField]) -> Int? { fields.firstIndex { $0.fieldID == id } }
        guard let statusAt = position(0, in: fields), let snapshotAt = position(1, in: fields),
            let seqAt = position(3, in: fields), let fileSeqAt = position(4, in: fields),
            let dataAt = position(2, in: fields), case .record(_, let dataFields) = fields[dataAt].type
        else {
            throw IcebergError(.invalidMetadata, "manifest schema lacks manifest_entry fields")
        }
        var entries: [ManifestEntry] = []
        for record in file.records {
            guard let values = record.recordFields, let data = values[dataAt].recordFields else {
                throw IcebergError(.invalidMetadata, "manifest entry is not a record")
            }
            func field(_ id: Int32) -> AvroValue { position(id, in: dataFields).map { data[$0] } ?? .null }
            func counts(_ id: Int32) -> [Int32: Int64] {
                var out: [Int32: Int64] = [:]
                for kv in field(id).arrayElements ?? [] {
                    if let pair = kv.recordFields, pair.count == 2, let k = pair[0].integerValue.flatMap({ Int32(exactly: $0) }),
                        let v = pair[1].integerValue
                    {
                        out[k] = v
                    }
                }
                return out
            }
            func bounds(_ id: Int32) -> [Int32: IcebergLiteral] {
                var out: [Int32: IcebergLiteral] = [:]
                for kv in field(id).arrayElements ?? [] {
                    if let pair = kv.recordFields, pair.count == 2, let k = pair[0].integerValue.flatMap({ Int32(exactly: $0) }),
                        let v = pair[1].bytesValue
                    {
                        out[k] = .binary(v)
                    }
                }
                return out
            }
            guard let status = values[statusAt].integerValue.flatMap({ Int32(exactly: $0) }).flatMap({ ManifestEntryStatus(rawValue: $0) }) else {
                throw IcebergError(.invalidMetadata, "manifest entry has no valid status")
            }
            // Spec "Sequence Number Inheritance": null snapshot ids are inherited always, null
            // sequence numbers only by ADDED entries.
            let inheritsSequence = status == .added ? list?.sequenceNumber : nil
            guard let snapshot = values[snapshotAt].integerValue ?? list?.addedSnapshotID,
                let seq = values[seqAt].integerValue ?? inheritsSequence,
                let fileSeq = values[fileSeqAt].integerValue ?? inheritsSequence,
                let path = field(100).stringValue, let format = field(101).stringValue,
                let count = field(103).integerValue, let size = field(104).integerValue
            else {
                throw IcebergError(.invalidMetadata, "manifest entry misses a required value (or relies on inheritance)")
            }
            var file = DataFile(path: path, recordCount: count, fileSizeInBytes: size)
            file.format = format
            file.columnSizes = counts(108)
            file.valueCounts = counts(109)
            file.nullValueCounts = counts(110)
            file.nanValueCounts = counts(137)
            file.lowerBounds = bounds(125)
            file.upperBounds = bounds(128)
            file.splitOffsets = field(132).arrayElements?.compactMap(\.integerValue)
            entries.append(
                ManifestEntry(
                    status: status, snapshotID: snapshot, sequenceNumber: seq,
                    fileSequenceNumber: fileSeq, dataFile: file))
        }
        return ManifestFile(entries: entries)
    }
}
