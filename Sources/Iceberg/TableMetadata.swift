/// A snapshot of the table: the manifest list that names its files, and why it was made.
///
/// Spec: https://iceberg.apache.org/spec/ "Snapshots" and "Appendix C: Table Metadata and Snapshots".
public struct Snapshot: Sendable, Hashable {
    /// The snapshot's id.
    public var snapshotID: Int64
    /// The snapshot it was built on; nil for the first.
    public var parentSnapshotID: Int64?
    /// Its sequence number: the order of commits.
    public var sequenceNumber: Int64
    /// When it was committed, in milliseconds since the epoch.
    public var timestampMs: Int64
    /// The full URI of the manifest list.
    public var manifestList: String
    /// `operation` first (`append`, `overwrite`, `replace`, `delete`), then the counters.
    public var summary: [(key: String, value: String)]
    /// The table's schema when it was committed.
    public var schemaID: Int32

    /// A snapshot as stored in the metadata.
    public init(
        snapshotID: Int64, parentSnapshotID: Int64?, sequenceNumber: Int64, timestampMs: Int64,
        manifestList: String, summary: [(key: String, value: String)], schemaID: Int32
    ) {
        self.snapshotID = snapshotID
        self.parentSnapshotID = parentSnapshotID
        self.sequenceNumber = sequenceNumber
        self.timestampMs = timestampMs
        self.manifestList = manifestList
        self.summary = summary
        self.schemaID = schemaID
    }

    /// The summary's `operation`.
    public var operation: String? { summary.first { $0.key == "operation" }?.value }

    /// Equal in every field, summary order included.
    public static func == (a: Snapshot, b: Snapshot) -> Bool {
        a.snapshotID == b.snapshotID && a.parentSnapshotID == b.parentSnapshotID && a.sequenceNumber == b.sequenceNumber
            && a.timestampMs == b.timestampMs && a.manifestList == b.manifestList && a.schemaID == b.schemaID
            && a.summary.map(\.key) == b.summary.map(\.key) && a.summary.map(\.value) == b.summary.map(\.value)
    }

    /// Hashes the snapshot id.
    public func hash(into hasher: inout Hasher) { hasher.combine(snapshotID) }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [("snapshot-id", .int(snapshotID))]
        if let parentSnapshotID { members.append(("parent-snapshot-id", .int(parentSnapshotID))) }
        members += [
            ("sequence-number", .int(sequenceNumber)),
            ("timestamp-ms", .int(timestampMs)),
            ("manifest-list", .string(manifestList)),
            ("summary", .object(summary.map { ($0.key, .string($0.value)) })),
            ("schema-id", .int(Int64(schemaID))),
        ]
        return .object(members)
    }

    static func parse(_ json: JSONValue) throws(IcebergError) -> Snapshot {
        func schemaID() throws(IcebergError) -> Int32 {
            guard let raw = json["schema-id"] else { return 0 }
            guard let v = raw.int32Value else { throw IcebergError(.invalidMetadata, "snapshot schema-id is not a 32-bit integer") }
            return v
        }
        guard let id = json["snapshot-id"]?.intValue, let seq = json["sequence-number"]?.intValue,
            let ts = json["timestamp-ms"]?.intValue, let list = json["manifest-list"]?.stringValue,
            let summary = json["summary"]?.objectValue
        else {
            throw IcebergError(.invalidMetadata, "a v2 snapshot needs snapshot-id, sequence-number, timestamp-ms, manifest-list and summary")
        }
        return Snapshot(
            snapshotID: id, parentSnapshotID: json["parent-snapshot-id"]?.intValue, sequenceNumber: seq,
            timestampMs: ts, manifestList: list,
            summary: summary.map { ($0.0, $0.1.stringValue ?? $0.1.serialized) },
            schemaID: try schemaID())
    }
}

/// The table metadata of a v2 table, as stored in `vN.metadata.json`.
///
/// Spec: https://iceberg.apache.org/spec/ "Table Metadata Fields" and "Appendix C". The table is unpartitioned
/// (one spec with no fields) and unsorted (one order with no fields).
public struct TableMetadata: Sendable, Hashable {
    /// The table's UUID, lowercase.
    public var tableUUID: String
    /// The table folder's URI (data files and `metadata/` under it).
    public var location: String
    /// The highest sequence number given to a snapshot.
    public var lastSequenceNumber: Int64
    /// When this version was made, in milliseconds since the epoch.
    public var lastUpdatedMs: Int64
    /// The highest field id ever given: new columns get higher ones.
    public var lastColumnID: Int32
    /// Every schema the table has had.
    public var schemas: [IcebergSchema]
    /// The id of the current schema.
    public var currentSchemaID: Int32
    /// Table properties, in the order they were set.
    public var properties: [(key: String, value: String)]
    /// The current snapshot; nil before the first commit.
    public var currentSnapshotID: Int64?
    /// The valid snapshots, oldest first.
    public var snapshots: [Snapshot]
    /// When each snapshot became current.
    public var snapshotLog: [(timestampMs: Int64, snapshotID: Int64)]
    /// The previous metadata files, oldest first.
    public var metadataLog: [(timestampMs: Int64, metadataFile: String)]

    /// The metadata of a new table with one schema and no snapshot.
    public init(
        tableUUID: String, location: String, lastUpdatedMs: Int64, schema: IcebergSchema,
        properties: [(key: String, value: String)]
    ) {
        self.tableUUID = tableUUID
        self.location = location
        self.lastSequenceNumber = 0
        self.lastUpdatedMs = lastUpdatedMs
        self.lastColumnID = schema.highestFieldID
        self.schemas = [schema]
        self.currentSchemaID = schema.schemaID
        self.properties = properties
        self.currentSnapshotID = nil
        self.snapshots = []
        self.snapshotLog = []
        self.metadataLog = []
    }

    /// The current schema.
    public var currentSchema: IcebergSchema { schemas.first { $0.schemaID == currentSchemaID } ?? schemas[0] }

    /// The current snapshot, or nil for a table without one.
    public var currentSnapshot: Snapshot? { currentSnapshotID.flatMap { id in snapshots.first { $0.snapshotID == id } } }

    /// The snapshot with id `id`, or nil.
    public func snapshot(id: Int64) -> Snapshot? { snapshots.first { $0.snapshotID == id } }

    /// The snapshot that was current at `timestampMs` ("the table as of 14:02"), from the
    /// snapshot log; nil before the first snapshot or when the log no longer reaches back that far.
    public func snapshotID(asOf timestampMs: Int64) -> Int64? {
        guard let first = snapshotLog.first, first.timestampMs <= timestampMs else { return nil }
        return snapshotLog.last { $0.timestampMs <= timestampMs }?.snapshotID
    }

    /// The value of a table property, or nil.
    public func property(_ key: String) -> String? { properties.first { $0.key == key }?.value }

    /// Sets (or adds) a table property.
    public mutating func setProperty(_ key: String, _ value: String) {
        if let i = properties.firstIndex(where: { $0.key == key }) { properties[i].value = value } else { properties.append((key, value)) }
    }

    /// Equal JSON forms.
    public static func == (a: TableMetadata, b: TableMetadata) -> Bool { a.json == b.json }
    /// Hashes the UUID and last update time.
    public func hash(into hasher: inout Hasher) { hasher.combine(tableUUID); hasher.combine(lastUpdatedMs) }

    /// The metadata's JSON form.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("format-version", .int(2)),
            ("table-uuid", .string(tableUUID)),
            ("location", .string(location)),
            ("last-sequence-number", .int(lastSequenceNumber)),
            ("last-updated-ms", .int(lastUpdatedMs)),
            ("last-column-id", .int(Int64(lastColumnID))),
            ("current-schema-id", .int(Int64(currentSchemaID))),
            ("schemas", .array(schemas.map(\.json))),
            ("default-spec-id", .int(0)),
            ("partition-specs", .array([.object([("spec-id", .int(0)), ("fields", .array([]))])])),
            ("last-partition-id", .int(999)),
            ("default-sort-order-id", .int(0)),
            ("sort-orders", .array([.object([("order-id", .int(0)), ("fields", .array([]))])])),
            ("properties", .object(properties.map { ($0.key, .string($0.value)) })),
        ]
        if let currentSnapshotID {
            members.append(("current-snapshot-id", .int(currentSnapshotID)))
            members.append(
                (
                    "refs",
                    .object([
                        (
                            "main",
                            .object([
                                ("snapshot-id", .int(currentSnapshotID)),
                                ("type", .string("branch")),
                            ])
                        )
                    ])
                ))
        } else {
            // No snapshot yet: -1, as Java writes for v1 and v2 tables and older readers expect.
            members.append(("current-snapshot-id", .int(-1)))
        }
        members += [
            ("snapshots", .array(snapshots.map(\.json))),
            ("snapshot-log", .array(snapshotLog.map { .object([("timestamp-ms", .int($0.timestampMs)), ("snapshot-id", .int($0.snapshotID))]) })),
            ("metadata-log", .array(metadataLog.map { .object([("timestamp-ms", .int($0.timestampMs)), ("metadata-file", .string($0.metadataFile))]) })),
        ]
        return .object(members)
    }

    /// The bytes of `vN.metadata.json`.
    public var encoded: [UInt8] { json.utf8 }

    /// Parses a v2 table's metadata JSON. Other format versions, partitioned tables and missing
    /// required fields throw: this module continues only tables it can describe.
    public static func parse(_ bytes: [UInt8]) throws(IcebergError) -> TableMetadata {
        let json = try JSONValue.parse(bytes)
        guard json["format-version"]?.intValue == 2 else { throw IcebergError(.invalidMetadata, "format-version is not 2") }
        guard let uuid = json["table-uuid"]?.stringValue, let location = json["location"]?.stringValue,
            let lastSeq = json["last-sequence-number"]?.intValue, let updated = json["last-updated-ms"]?.intValue,
            let lastColumn = json["last-column-id"]?.int32Value, let schemasJSON = json["schemas"]?.arrayValue,
            let currentSchema = json["current-schema-id"]?.int32Value
        else {
            throw IcebergError(.invalidMetadata, "table metadata misses a required v2 field")
        }
        for spec in json["partition-specs"]?.arrayValue ?? [] where !(spec["fields"]?.arrayValue ?? []).isEmpty {
            throw IcebergError(.invalidMetadata, "partitioned tables are not supported")
        }
        var schemas: [IcebergSchema] = []
        for s in schemasJSON { schemas.append(try IcebergSchema.parse(s)) }
        guard let first = schemas.first, schemas.contains(where: { $0.schemaID == currentSchema }) else {
            throw IcebergError(.invalidMetadata, "current-schema-id names no schema")
        }
        var m = TableMetadata(
            tableUUID: uuid, location: location, lastUpdatedMs: updated, schema: first,
            properties: (json["properties"]?.objectValue ?? []).map { ($0.0, $0.1.stringValue ?? "") })
        m.schemas = schemas
        m.currentSchemaID = currentSchema
        m.lastSequenceNumber = lastSeq
        m.lastColumnID = lastColumn
        if let current = json["current-snapshot-id"]?.intValue, current != -1 { m.currentSnapshotID = current }
        for s in json["snapshots"]?.arrayValue ?? [] { m.snapshots.append(try Snapshot.parse(s)) }
        for e in json["snapshot-log"]?.arrayValue ?? [] {
            guard let ts = e["timestamp-ms"]?.intValue, let id = e["snapshot-id"]?.intValue else {
                throw IcebergError(.invalidMetadata, "bad snapshot-log entry")
            }
            m.snapshotLog.append((ts, id))
        }
        for e in json["metadata-log"]?.arrayValue ?? [] {
            guard let ts = e["timestamp-ms"]?.intValue, let file = e["metadata-file"]?.stringValue else {
                throw IcebergError(.invalidMetadata, "bad metadata-log entry")
            }
            m.metadataLog.append((ts, file))
        }
        if let current = m.currentSnapshotID, m.snapshot(id: current) == nil {
            throw IcebergError(.invalidMetadata, "current-snapshot-id names no snapshot")
        }
        return m
    }
}
