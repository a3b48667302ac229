/// One manifest as a manifest list describes it (`manifest_file`).
///
/// Spec: https://iceberg.apache.org/spec/ "Manifest Lists" (v2).
public struct ManifestSummary: Sendable, Hashable {
    /// The manifest's full URI.
    public var path: String
    /// The manifest's size in bytes.
    public var length: Int64
    /// The partition spec the manifest was written with (ours: 0).
    public var partitionSpecID: Int32 = 0
    /// The sequence number of the snapshot that added the manifest.
    public var sequenceNumber: Int64
    /// The smallest data sequence number of the live files in the manifest.
    public var minSequenceNumber: Int64
    /// The snapshot that wrote the manifest.
    public var addedSnapshotID: Int64
    /// Entries with status ADDED.
    public var addedFilesCount: Int32
    /// Entries with status EXISTING.
    public var existingFilesCount: Int32
    /// Entries with status DELETED.
    public var deletedFilesCount: Int32
    /// Rows in ADDED files.
    public var addedRowsCount: Int64
    /// Rows in EXISTING files.
    public var existingRowsCount: Int64
    /// Rows in DELETED files.
    public var deletedRowsCount: Int64

    /// The summary of `manifest`, stored at `path` in `length` bytes, added by a snapshot.
    public init(path: String, length: Int64, manifest: ManifestFile, sequenceNumber: Int64, addedSnapshotID: Int64) {
        self.path = path
        self.length = length
        self.sequenceNumber = sequenceNumber
        self.addedSnapshotID = addedSnapshotID
        let live = manifest.entries.filter { $0.status != .deleted }
        minSequenceNumber = live.map(\.sequenceNumber).min() ?? sequenceNumber
        func of(_ s: ManifestEntryStatus) -> [ManifestEntry] { manifest.entries.filter { $0.status == s } }
        addedFilesCount = Int32(of(.added).count)
        existingFilesCount = Int32(of(.existing).count)
        deletedFilesCount = Int32(of(.deleted).count)
        addedRowsCount = of(.added).reduce(0) { $0 + $1.dataFile.recordCount }
        existingRowsCount = of(.existing).reduce(0) { $0 + $1.dataFile.recordCount }
        deletedRowsCount = of(.deleted).reduce(0) { $0 + $1.dataFile.recordCount }
    }
}

/// A snapshot's manifest list: an Avro container file of `manifest_file` records.
public struct ManifestList: Sendable, Hashable {
    /// The snapshot's manifests, in order.
    public var manifests: [ManifestSummary]

    /// A manifest list of `manifests`.
    public init(manifests: [ManifestSummary]) {
        self.manifests = manifests
    }

    /// The Avro schema of `manifest_file` in a v2 manifest list.
    public static let avroSchema: AvroSchema = .record(
        name: "manifest_file",
        fields: [
            AvroField("manifest_path", .string, id: 500, doc: "Location URI with FS scheme"),
            AvroField("manifest_length", .long, id: 501, doc: "Total file size in bytes"),
            AvroField("partition_spec_id", .int, id: 502, doc: "Spec ID used to write"),
            AvroField("content", .int, id: 517, doc: "Contents of the manifest: 0=data, 1=deletes"),
            AvroField("sequence_number", .long, id: 515, doc: "Sequence number when the manifest was added"),
            AvroField("min_sequence_number", .long, id: 516, doc: "Lowest sequence number in the manifest"),
            AvroField("added_snapshot_id", .long, id: 503, doc: "Snapshot ID that added the manifest"),
            AvroField("added_files_count", .int, id: 504, doc: "Added entry count"),
            AvroField("existing_files_count", .int, id: 505, doc: "Existing entry count"),
            AvroField("deleted_files_count", .int, id: 506, doc: "Deleted entry count"),
            AvroField("added_rows_count", .long, id: 512, doc: "Added rows count"),
            AvroField("existing_rows_count", .long, id: 513, doc: "Existing rows count"),
            AvroField("deleted_rows_count", .long, id: 514, doc: "Deleted rows count"),
            .optional(
                "partitions",
                .array(
                    items: .record(
                        name: "r508",
                        fields: [
                            AvroField("contains_null", .boolean, id: 509, doc: "True if any file has a null partition value"),
                            .optional("contains_nan", .boolean, id: 518, doc: "True if any file has a nan partition value"),
                            .optional("lower_bound", .bytes, id: 510, doc: "Partition lower bound for all files"),
                            .optional("upper_bound", .bytes, id: 511, doc: "Partition upper bound for all files"),
                        ]), attributes: [AvroAttribute("element-id", .int(508))]), id: 507, doc: "Summary for each partition"),
            .optional("key_metadata", .bytes, id: 519, doc: "Encryption key metadata blob"),
        ])

    /// The manifest list's bytes for snapshot `snapshotID`.
    public func encoded(
        snapshotID: Int64, parentSnapshotID: Int64?, sequenceNumber: Int64, syncMarker: [UInt8],
        codec: AvroCodec = .deflate
    ) throws(IcebergError) -> [UInt8] {
        var metadata: [(key: String, value: String)] = [("snapshot-id", String(snapshotID))]
        if let parentSnapshotID { metadata.append(("parent-snapshot-id", String(parentSnapshotID))) }
        metadata += [("sequence-number", String(sequenceNumber)), ("format-version", "2")]
        let records: [AvroValue] = manifests.map { m in
            .record([
                .string(m.path), .long(m.length), .int(m.partitionSpecID), .int(0), .long(m.sequenceNumber),
                .long(m.minSequenceNumber), .long(m.addedSnapshotID), .int(m.addedFilesCount), .int(m.existingFilesCount),
                .int(m.deletedFilesCount), .long(m.addedRowsCount), .long(m.existingRowsCount), .long(m.deletedRowsCount),
                .array([]), .null,
            ])
        }
        return try AvroContainerFile(schema: Self.avroSchema, metadata: metadata, records: records)
            .encoded(codec: codec, syncMarker: syncMarker)
    }

    /// Reads the manifest paths and counts back from a manifest list's bytes.
    public static func decode(_ bytes: [UInt8]) throws(IcebergError) -> ManifestList {
        let file = try AvroContainerFile.decode(bytes)
        guard case .record(_, let fields) = file.schema else { throw IcebergError(.invalidMetadata, "manifest list schema is not a record") }
        var out: [ManifestSummary] = []
        for record in file.records {
            guard let values = record.recordFields else { throw IcebergError(.invalidMetadata, "manifest_file is not a record") }
            func field(_ id: Int32) -> AvroValue { fields.firstIndex { $0.fieldID == id }.map { values[$0] } ?? .null }
            guard let path = field(500).stringValue, let length = field(501).integerValue,
                let seq = field(515).integerValue, let minSeq = field(516).integerValue,
                let added = field(503).integerValue
            else {
                throw IcebergError(.invalidMetadata, "manifest_file misses a required value")
            }
            var m = ManifestSummary(
                path: path, length: length, manifest: ManifestFile(entries: []), sequenceNumber: seq,
                addedSnapshotID: added)
            func int32(_ id: Int32) throws(IcebergError) -> Int32 {
                guard let v = Int32(exactly: field(id).integerValue ?? 0) else {
                    throw IcebergError(.invalidMetadata, "manifest_file field \(id) is not a 32-bit integer")
                }
                return v
            }
            m.partitionSpecID = try int32(502)
            m.minSequenceNumber = minSeq
            m.addedFilesCount = try int32(504)
            m.existingFilesCount = try int32(505)
            m.deletedFilesCount = try int32(506)
            m.addedRowsCount = field(512).integerValue ?? 0
            m.existingRowsCount = field(513).integerValue ?? 0
            m.deletedRowsCount = field(514).integerValue ?? 0
            out.append(m)
        }
        return ManifestList(manifests: out)
    }
}
