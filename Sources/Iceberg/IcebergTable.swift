import Foundation

/// The ids and time of one commit: the new snapshot's id, the UUID that names its files (and
/// seeds their Avro sync markers), and the commit time.
public struct CommitStamp: Sendable, Hashable {
    /// The commit time in milliseconds since the epoch.
    public var timestampMs: Int64
    /// The new snapshot's id (positive).
    public var snapshotID: Int64
    /// Names the commit's manifest list and manifests.
    public var uuid: UUID

    /// A stamp with chosen values (tests; a daemon uses `random`).
    public init(timestampMs: Int64, snapshotID: Int64, uuid: UUID) {
        precondition(snapshotID > 0, "snapshot ids are positive")
        self.timestampMs = timestampMs
        self.snapshotID = snapshotID
        self.uuid = uuid
    }

    /// A stamp for now with a random UUID and a snapshot id derived from it, as the spec's
    /// "Assignment of Snapshot IDs" describes (the UUID's halves XORed, the sign bit cleared).
    public static func random(now: Date = Date()) -> CommitStamp {
        let uuid = UUID()
        let b = uuidBytes(uuid)
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<8 { hi = hi << 8 | UInt64(b[i]); lo = lo << 8 | UInt64(b[8 + i]) }
        var id = Int64(bitPattern: (hi ^ lo) & UInt64(Int64.max))
        if id == 0 { id = 1 }
        return CommitStamp(timestampMs: Int64((now.timeIntervalSince1970 * 1000).rounded(.down)), snapshotID: id, uuid: uuid)
    }

    /// A 16-byte Avro sync marker for the `index`-th file of the commit.
    func syncMarker(_ index: Int) -> [UInt8] {
        var b = uuidBytes(uuid)
        b[15] ^= UInt8(truncatingIfNeeded: index)
        b[14] ^= UInt8(truncatingIfNeeded: index >> 8) ^ 0x5A
        return b
    }
}

func uuidBytes(_ uuid: UUID) -> [UInt8] {
    withUnsafeBytes(of: uuid.uuid) { Array($0) }
}

/// A file to store: its full URI and its bytes.
public struct MetadataFileWrite: Sendable, Hashable {
    /// The file's full URI.
    public var path: String
    /// The file's content.
    public var bytes: [UInt8]

    /// A file to store.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }
}

/// What one change to the table produces: the files to store, in order (manifests, then the
/// manifest list, then `vN.metadata.json`), the pointer to advance last (`version-hint.text`),
/// and the table as it is once the pointer names the new metadata.
public struct IcebergCommit: Sendable {
    /// The table after the commit.
    public var table: IcebergTable
    /// Manifests, the manifest list and the metadata file, to store before the pointer.
    public var files: [MetadataFileWrite]
    /// `metadata/version-hint.text` naming the new version: store it last, once `files` are stored.
    public var versionHint: MetadataFileWrite
    /// Metadata files (manifest lists, manifests, old `vN.metadata.json`) that no retained
    /// snapshot or log uses any more: they may be deleted once the pointer is advanced.
    public var obsoleteMetadataFiles: [String] = []
    /// Data files that no retained snapshot references any more (after an expiry). The change
    /// log's files are never deleted by this module; the caller decides.
    public var unreferencedDataFiles: [String] = []

    /// The new metadata file's URI.
    public var metadataPath: String { table.metadataPath }
}

/// An Iceberg v2 table over data files that are already stored: its metadata and the contents
/// of the manifests its live snapshots use. Every change is a pure function that returns the
/// next version and the bytes to store; nothing here does I/O.
///
/// Layout under `<location>/metadata/`: `v<N>.metadata.json`, `snap-<id>-1-<uuid>.avro`
/// (manifest lists), `<uuid>-m<k>.avro` (manifests), `version-hint.text` (`N`).
public struct IcebergTable: Sendable {
    /// The table metadata of this version.
    public private(set) var metadata: TableMetadata
    /// The `N` of `v<N>.metadata.json`.
    public private(set) var version: Int
    /// Each live snapshot's manifests, in manifest-list order.
    public private(set) var manifestLists: [Int64: [ManifestSummary]]
    /// The entries of every manifest a live snapshot uses, by manifest URI.
    public private(set) var manifests: [String: ManifestFile]
    /// Whether every live snapshot's manifest list is here (see ``LoadScope``); expiry and
    /// ``metadataFiles`` need it.
    public private(set) var isComplete = true

    /// Property: keep at most this many previous metadata files in the metadata log (Iceberg's
    /// `write.metadata.previous-versions-max`, default 100).
    public static let previousVersionsMaxKey = "write.metadata.previous-versions-max"
    /// Property: an append folds all manifests into one when it would leave at least this many
    /// (Iceberg's `commit.manifest.min-count-to-merge`, default 100).
    public static let minCountToMergeKey = "commit.manifest.min-count-to-merge"
    /// Property: manifests at least this large are left as they are when manifests are folded
    /// (Iceberg's `commit.manifest.target-size-bytes`, default 8 MiB), so a long change log is
    /// not rewritten whole every hundred commits.
    public static let targetManifestSizeKey = "commit.manifest.target-size-bytes"
    /// Property: the codec of manifests and manifest lists (Iceberg's `write.avro.compression-codec`):
    /// `gzip` or `deflate` (the default) writes Avro's deflate codec, `uncompressed` the null codec.
    public static let avroCodecKey = "write.avro.compression-codec"

    /// `<location>/metadata`.
    public var metadataDirectory: String { Self.join(metadata.location, "metadata") }
    /// Every file under ``metadataDirectory`` this version reads or keeps for readers of an earlier
    /// one: `version-hint.text`, this metadata file and those of the metadata log, each live
    /// snapshot's manifest list and the manifests they list. Anything else there is left over
    /// (a commit killed between its files and the hint, or between the hint and its deletes).
    public var metadataFiles: Set<String> {
        precondition(isComplete, "metadataFiles of a table loaded without every manifest list")
        var files: Set<String> = [metadataPath, Self.versionHintPath(location: metadata.location)]
        for entry in metadata.metadataLog { files.insert(entry.metadataFile) }
        for snapshot in metadata.snapshots { files.insert(snapshot.manifestList) }
        files.formUnion(manifests.keys)
        for list in manifestLists.values { for manifest in list { files.insert(manifest.path) } }
        return files
    }
    /// The URI of this version's metadata file.
    public var metadataPath: String { Self.metadataPath(location: metadata.location, version: version) }

    static func join(_ base: String, _ name: String) -> String {
        base.hasSuffix("/") ? base + name : base + "/" + name
    }

    // MARK: Creating and loading

    /// A new table at `location` with `schema` and no snapshot: version 1.
    public static func create(
        location: String, schema: IcebergSchema, tableUUID: UUID, timestampMs: Int64,
        properties: [(key: String, value: String)] = []
    ) -> IcebergCommit {
        var metadata = TableMetadata(
            tableUUID: tableUUID.uuidString.lowercased(), location: location,
            lastUpdatedMs: timestampMs, schema: schema, properties: properties)
        metadata.setProperty(NameMapping.propertyKey, NameMapping.json(current: schema, history: []).serialized)
        let table = IcebergTable(metadata: metadata, version: 1, manifestLists: [:], manifests: [:])
        return table.commit(files: [], table: table)
    }

    /// The URI of `version-hint.text` of a table at `location`.
    public static func versionHintPath(location: String) -> String {
        join(join(location, "metadata"), "version-hint.text")
    }

    /// The URI of `v<version>.metadata.json` of a table at `location`.
    public static func metadataPath(location: String, version: Int) -> String {
        join(join(location, "metadata"), "v\(version).metadata.json")
    }

    /// The version a `version-hint.text` names (a positive decimal number, surrounding
    /// whitespace allowed); anything else throws.
    public static func version(fromHint bytes: [UInt8]) throws(IcebergError) -> Int {
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let v = Int(text), v >= 1 else {
            throw IcebergError(.invalidMetadata, "version-hint.text does not hold a version number")
        }
        return v
    }

    /// Which manifest lists ``load(metadataJSON:version:scope:read:)`` reads.
    public enum LoadScope: Sendable {
        /// Every live snapshot's (and their manifests): what expiring snapshots, listing the table's
        /// metadata files and reading an older snapshot's files need.
        case all
        /// The current snapshot's and its parent's: what a commit needs (append, overwrite, merge,
        /// schema change, rollback to the parent). A history of any length then costs two lists.
        case currentAndParent
    }

    /// Continues a stored table: its metadata file's bytes (version `version`), and `read`
    /// returning the bytes of a manifest list or manifest by URI. Only `read` touches storage.
    /// `scope` picks, from the parsed metadata, which manifest lists are read.
    public static func load(
        metadataJSON: [UInt8], version: Int, scope: (TableMetadata) -> LoadScope = { _ in .all },
        read: (String) throws -> [UInt8]
    ) throws -> IcebergTable {
        let metadata = try TableMetadata.parse(metadataJSON)
        var snapshots = metadata.snapshots
        if scope(metadata) == .currentAndParent, let current = metadata.currentSnapshot {
            let wanted = Set([current.snapshotID, current.parentSnapshotID].compactMap { $0 })
            snapshots = snapshots.filter { wanted.contains($0.snapshotID) }
        }
        var lists: [Int64: [ManifestSummary]] = [:]
        var manifests: [String: ManifestFile] = [:]
        for snapshot in snapshots {
            let list = try ManifestList.decode(try read(snapshot.manifestList)).manifests
            lists[snapshot.snapshotID] = list
            for m in list where manifests[m.path] == nil {
                manifests[m.path] = try ManifestFile.decode(try read(m.path), inheritingFrom: m)
            }
        }
        var table = IcebergTable(metadata: metadata, version: version, manifestLists: lists, manifests: manifests)
        table.isComplete = snapshots.count == metadata.snapshots.count
        return table
    }

    // MARK: Reading

    /// The live data files of a snapshot (default: the current one), in manifest order.
    public func liveDataFiles(snapshotID: Int64? = nil) -> [DataFile] {
        liveEntries(snapshotID: snapshotID).map(\.dataFile)
    }

    func liveEntries(snapshotID: Int64? = nil) -> [ManifestEntry] {
        guard let id = snapshotID ?? metadata.currentSnapshotID, let list = manifestLists[id] else { return [] }
        return list.flatMap { manifests[$0.path]?.entries.filter { $0.status != .deleted } ?? [] }
    }

    // MARK: Changes

    /// One `append` snapshot that adds `files`. When the snapshot would use at least
    /// `commit.manifest.min-count-to-merge` manifests, they are folded into one. `summary`
    /// entries (e.g. the cycle's checkpoint, so a restart can tell which cycle a snapshot holds)
    /// go into the snapshot summary after Iceberg's own.
    public func append(
        _ files: [DataFile], stamp: CommitStamp,
        summary: [(key: String, value: String)] = []
    ) throws(IcebergError) -> IcebergCommit {
        try checkNew(files, stamp: stamp)
        return try makeSnapshot(operation: "append", adding: files, removing: [], stamp: stamp, extraSummary: summary)
    }

    /// One `overwrite` snapshot that removes `removing` (URIs of live files) and adds `adding`,
    /// atomically: a reader sees the old set or the new one. With nothing to add it is a `delete`.
    public func overwrite(
        removing: [String], adding: [DataFile], stamp: CommitStamp,
        summary: [(key: String, value: String)] = []
    ) throws(IcebergError) -> IcebergCommit {
        try checkNew(adding, stamp: stamp)
        let live = Set(liveEntries().map(\.dataFile.path))
        for path in removing where !live.contains(path) {
            throw IcebergError(.invalidCommit, "\(path) is not a live file of the table")
        }
        return try makeSnapshot(
            operation: adding.isEmpty ? "delete" : "overwrite", adding: adding,
            removing: Set(removing), stamp: stamp, extraSummary: summary)
    }

    /// A `replace` snapshot that folds the current snapshot's manifests smaller than
    /// `commit.manifest.target-size-bytes` into one (same data, fewer manifests); nil when
    /// fewer than two such manifests exist.
    public func mergeManifests(stamp: CommitStamp) throws(IcebergError) -> IcebergCommit? {
        guard let current = metadata.currentSnapshotID,
            (manifestLists[current] ?? []).filter({ $0.length < targetManifestSize }).count > 1
        else { return nil }
        try checkNew([], stamp: stamp)
        return try makeSnapshot(operation: "replace", adding: [], removing: [], stamp: stamp, forceMerge: true)
    }

    /// A new current schema after `changes` (no snapshot); field ids of kept columns stay, and
    /// the name mapping property follows. Data files written before keep resolving by id.
    public func updateSchema(_ changes: [SchemaChange], timestampMs: Int64) throws(IcebergError) -> IcebergCommit {
        var lastColumnID = metadata.lastColumnID
        let newID = (metadata.schemas.map(\.schemaID).max() ?? 0) + 1
        var schema = try metadata.currentSchema.applying(changes, schemaID: newID, lastColumnID: &lastColumnID)
        var next = self
        if let same = metadata.schemas.first(where: { $0.fields == schema.fields }) {
            schema = same  // back to a schema the table had: reuse its id, as Iceberg does
        } else {
            next.metadata.schemas.append(schema)
        }
        next.metadata.currentSchemaID = schema.schemaID
        next.metadata.lastColumnID = lastColumnID
        next.metadata.setProperty(
            NameMapping.propertyKey,
            NameMapping.json(current: schema, history: metadata.schemas).serialized)
        return advance(next, timestampMs: timestampMs)
    }

    /// Makes an ancestor of the current snapshot current again (no new snapshot; the snapshot
    /// log records it), e.g. to drop a cycle committed to the table but not checkpointed when
    /// the daemon stopped. The later snapshots stay listed until they expire; the next commit's
    /// parent is `snapshotID`.
    public func rollback(to snapshotID: Int64, timestampMs: Int64) throws(IcebergError) -> IcebergCommit {
        var cursor = metadata.currentSnapshotID
        var steps = 0  // a parent chain longer than the snapshot list is a loop in bad metadata
        while let id = cursor, id != snapshotID, steps <= metadata.snapshots.count {
            cursor = metadata.snapshot(id: id)?.parentSnapshotID
            steps += 1
        }
        guard cursor == snapshotID else {
            throw IcebergError(.invalidCommit, "snapshot \(snapshotID) is not an ancestor of the current snapshot")
        }
        var next = self
        next.metadata.currentSnapshotID = snapshotID
        next.metadata.snapshotLog.append((max(timestampMs, metadata.lastUpdatedMs), snapshotID))
        return advance(next, timestampMs: timestampMs)
    }

    /// Sets table properties (merging, retention of metadata files, ...): a new metadata version,
    /// no snapshot.
    public func updateProperties(_ properties: [(key: String, value: String)], timestampMs: Int64) -> IcebergCommit {
        var next = self
        for (key, value) in properties { next.metadata.setProperty(key, value) }
        return advance(next, timestampMs: timestampMs)
    }

    /// Removes the snapshots older than `olderThanMs`, keeping the current snapshot and its
    /// newest `minSnapshotsToKeep` ancestors whatever their age (spec "Snapshot Retention
    /// Policy"). Returns nil when nothing expires. The commit lists the manifest lists and
    /// manifests only expired snapshots used, and the data files no retained snapshot
    /// references (the caller decides about those: change-log files stay).
    public func expireSnapshots(olderThanMs: Int64, minSnapshotsToKeep: Int = 1, timestampMs: Int64) -> IcebergCommit? {
        precondition(isComplete, "expiring snapshots of a table loaded without every manifest list")
        var retained = Set<Int64>()
        var cursor = metadata.currentSnapshotID
        var depth = 0
        while let id = cursor, let snapshot = metadata.snapshot(id: id), !retained.contains(id) {
            if depth < max(1, minSnapshotsToKeep) || snapshot.timestampMs >= olderThanMs { retained.insert(id) } else { break }
            depth += 1
            cursor = snapshot.parentSnapshotID
        }
        for s in metadata.snapshots where s.timestampMs >= olderThanMs { retained.insert(s.snapshotID) }
        let expired = metadata.snapshots.filter { !retained.contains($0.snapshotID) }
        guard !expired.isEmpty else { return nil }

        var next = self
        next.metadata.snapshots.removeAll { !retained.contains($0.snapshotID) }
        let expiredIDs = Set(expired.map(\.snapshotID))
        if let lastExpired = metadata.snapshotLog.lastIndex(where: { expiredIDs.contains($0.snapshotID) }) {
            next.metadata.snapshotLog.removeFirst(lastExpired + 1)
        }
        for id in expiredIDs { next.manifestLists[id] = nil }
        let keptManifests = Set(next.manifestLists.values.flatMap { $0.map(\.path) })
        let droppedManifests = Set(manifests.keys).subtracting(keptManifests)
        for path in droppedManifests { next.manifests[path] = nil }

        // A kept manifest is used by a retained snapshot, in which its non-deleted entries are
        // live; every file an expired snapshot had is in a dropped manifest or a kept one. So one
        // pass over the manifests (not over every snapshot's files) finds what is left unused.
        var keptData = Set<String>()
        for path in keptManifests {
            for e in next.manifests[path]?.entries ?? [] where e.status != .deleted { keptData.insert(e.dataFile.path) }
        }
        var unreferenced = Set<String>()
        for path in droppedManifests { for e in manifests[path]?.entries ?? [] { unreferenced.insert(e.dataFile.path) } }
        unreferenced.subtract(keptData)

        var commit = advance(next, timestampMs: timestampMs)
        commit.obsoleteMetadataFiles = expired.map(\.manifestList) + droppedManifests.sorted() + commit.obsoleteMetadataFiles
        commit.unreferencedDataFiles = unreferenced.sorted()
        return commit
    }

    // MARK: Internals

    private var avroCodec: AvroCodec {
        switch metadata.property(Self.avroCodecKey)?.lowercased() {
        case "uncompressed", "none", "null": .null
        default: .deflate
        }
    }

    private var targetManifestSize: Int64 {
        Int64(metadata.property(Self.targetManifestSizeKey) ?? "") ?? 8 * 1024 * 1024
    }

    private func checkNew(_ files: [DataFile], stamp: CommitStamp) throws(IcebergError) {
        guard metadata.snapshot(id: stamp.snapshotID) == nil else {
            throw IcebergError(.invalidCommit, "snapshot id \(stamp.snapshotID) is taken")
        }
        let live = Set(liveEntries().map(\.dataFile.path))
        var seen = Set<String>()
        for f in files {
            guard seen.insert(f.path).inserted, !live.contains(f.path) else {
                throw IcebergError(.invalidCommit, "\(f.path) would be in the table twice")
            }
            guard f.recordCount >= 0, f.fileSizeInBytes >= 0 else {
                throw IcebergError(.invalidCommit, "\(f.path) has a negative size or count")
            }
        }
    }

    private func makeSnapshot(
        operation: String, adding: [DataFile], removing: Set<String>, stamp: CommitStamp,
        forceMerge: Bool = false, extraSummary: [(key: String, value: String)] = []
    )
        throws(IcebergError) -> IcebergCommit
    {
        let sequenceNumber = metadata.lastSequenceNumber + 1
        let previous = metadata.currentSnapshotID.flatMap { manifestLists[$0] } ?? []
        let schema = metadata.currentSchema
        var next = self
        var writes: [MetadataFileWrite] = []
        var fileIndex = 0
        var manifestsCreated = 0, manifestsReplaced = 0
        let namePrefix = stamp.uuid.uuidString.lowercased()

        func store(_ manifest: ManifestFile) throws(IcebergError) -> ManifestSummary {
            let path = Self.join(metadataDirectory, "\(namePrefix)-m\(manifestsCreated).avro")
            let bytes = try manifest.encoded(schema: schema, syncMarker: stamp.syncMarker(fileIndex), codec: avroCodec)
            fileIndex += 1
            manifestsCreated += 1
            writes.append(MetadataFileWrite(path: path, bytes: bytes))
            next.manifests[path] = manifest
            return ManifestSummary(
                path: path, length: Int64(bytes.count), manifest: manifest,
                sequenceNumber: sequenceNumber, addedSnapshotID: stamp.snapshotID)
        }

        let added = adding.map {
            ManifestEntry(
                status: .added, snapshotID: stamp.snapshotID, sequenceNumber: sequenceNumber,
                fileSequenceNumber: sequenceNumber, dataFile: $0.withTruncatedBounds())
        }
        // Manifests holding a removed file are rewritten: the file DELETED, the others EXISTING.
        var kept: [ManifestSummary] = []
        var removedEntries: [ManifestEntry] = []
        var rewritten: [ManifestEntry] = []
        for summary in previous {
            let entries = manifests[summary.path]?.entries ?? []
            if entries.contains(where: { $0.status != .deleted && removing.contains($0.dataFile.path) }) {
                manifestsReplaced += 1
                for var e in entries where e.status != .deleted {
                    if removing.contains(e.dataFile.path) {
                        e.status = .deleted
                        e.snapshotID = stamp.snapshotID
                        removedEntries.append(e)
                    } else {
                        e.status = .existing
                    }
                    rewritten.append(e)
                }
            } else {
                kept.append(summary)
            }
        }
        let minCount = Int(metadata.property(Self.minCountToMergeKey) ?? "") ?? 100
        let manifestCount = kept.count + (rewritten.isEmpty ? 0 : 1) + (added.isEmpty ? 0 : 1)
        var list: [ManifestSummary] = []
        if forceMerge || (manifestCount >= minCount && manifestCount > 1) {
            var merged = added
            let large = kept.filter { $0.length >= targetManifestSize }
            for summary in kept where summary.length < targetManifestSize {
                manifestsReplaced += 1
                for var e in manifests[summary.path]?.entries ?? [] where e.status != .deleted {
                    e.status = .existing
                    merged.append(e)
                }
            }
            merged += rewritten
            if !merged.isEmpty { list.append(try store(ManifestFile(entries: merged))) }
            list += large
        } else {
            if !added.isEmpty { list.append(try store(ManifestFile(entries: added))) }
            if !rewritten.isEmpty { list.append(try store(ManifestFile(entries: rewritten))) }
            list += kept
        }
        // Manifests the new list no longer uses stay: the parent snapshot still uses them (only
        // expiry removes snapshots, and with them manifests).
        next.manifestLists[stamp.snapshotID] = list

        let live = next.liveEntries(snapshotID: stamp.snapshotID)
        func size(_ entries: [ManifestEntry]) -> Int64 { entries.reduce(0) { $0 + $1.dataFile.fileSizeInBytes } }
        func rows(_ entries: [ManifestEntry]) -> Int64 { entries.reduce(0) { $0 + $1.dataFile.recordCount } }
        var summary: [(key: String, value: String)] = [("operation", operation)]
        if !added.isEmpty {
            summary += [
                ("added-data-files", String(added.count)), ("added-records", String(rows(added))),
                ("added-files-size", String(size(added))),
            ]
        }
        if !removedEntries.isEmpty {
            summary += [
                ("deleted-data-files", String(removedEntries.count)), ("deleted-records", String(rows(removedEntries))),
                ("removed-files-size", String(size(removedEntries))),
            ]
        }
        if !added.isEmpty || !removedEntries.isEmpty { summary.append(("changed-partition-count", "1")) }
        summary += [
            ("manifests-created", String(manifestsCreated)), ("manifests-kept", String(list.count - manifestsCreated)),
            ("manifests-replaced", String(manifestsReplaced)),
            ("total-data-files", String(live.count)), ("total-delete-files", "0"), ("total-records", String(rows(live))),
            ("total-files-size", String(size(live))), ("total-position-deletes", "0"), ("total-equality-deletes", "0"),
        ]

        for (key, value) in extraSummary where !summary.contains(where: { $0.key == key }) { summary.append((key, value)) }

        let listPath = Self.join(metadataDirectory, "snap-\(stamp.snapshotID)-1-\(namePrefix).avro")
        let listBytes = try ManifestList(manifests: list).encoded(
            snapshotID: stamp.snapshotID, parentSnapshotID: metadata.currentSnapshotID, sequenceNumber: sequenceNumber,
            syncMarker: stamp.syncMarker(fileIndex), codec: avroCodec)
        writes.append(MetadataFileWrite(path: listPath, bytes: listBytes))

        next.metadata.snapshots.append(
            Snapshot(
                snapshotID: stamp.snapshotID, parentSnapshotID: metadata.currentSnapshotID, sequenceNumber: sequenceNumber,
                timestampMs: stamp.timestampMs, manifestList: listPath, summary: summary, schemaID: schema.schemaID))
        next.metadata.currentSnapshotID = stamp.snapshotID
        next.metadata.lastSequenceNumber = sequenceNumber
        next.metadata.snapshotLog.append((stamp.timestampMs, stamp.snapshotID))
        var commit = advance(next, timestampMs: stamp.timestampMs)
        commit.files = writes + commit.files
        return commit
    }

    /// The next metadata version: the previous file goes into the metadata log (trimmed to
    /// `write.metadata.previous-versions-max`), version + 1.
    private func advance(_ changed: IcebergTable, timestampMs: Int64) -> IcebergCommit {
        var next = changed
        next.metadata.metadataLog.append((metadata.lastUpdatedMs, metadataPath))
        next.metadata.lastUpdatedMs = max(timestampMs, metadata.lastUpdatedMs)
        next.version = version + 1
        let keep = max(0, Int(metadata.property(Self.previousVersionsMaxKey) ?? "") ?? 100)
        var obsolete: [String] = []
        if next.metadata.metadataLog.count > keep {
            let drop = next.metadata.metadataLog.count - keep
            obsolete = next.metadata.metadataLog.prefix(drop).map(\.metadataFile)
            next.metadata.metadataLog.removeFirst(drop)
        }
        var commit = commit(files: [], table: next)
        commit.obsoleteMetadataFiles = obsolete
        return commit
    }

    private func commit(files: [MetadataFileWrite], table: IcebergTable) -> IcebergCommit {
        let metadataFile = MetadataFileWrite(path: table.metadataPath, bytes: table.metadata.encoded)
        let hint = MetadataFileWrite(
            path: Self.versionHintPath(location: table.metadata.location),
            bytes: Array(String(table.version).utf8))
        return IcebergCommit(table: table, files: files + [metadataFile], versionHint: hint)
    }
}
