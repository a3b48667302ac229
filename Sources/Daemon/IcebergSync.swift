import Foundation
import Logging
import Iceberg
import ObjectStore
import Replication

/// `[catalog] iceberg = true`: keeps an Apache Iceberg v2 table over each table folder's LOAD and
/// CDC files (`<folder>/metadata/`), one snapshot per full load and per CDC cycle that wrote files
/// for the table. Each commit stores the manifests, the manifest list and the `vN.metadata.json`
/// files first and `version-hint.text` last; the caller stores the checkpoint after it.
///
/// Recovery is the redo's: a snapshot committed by a cycle whose checkpoint was not written carries
/// the cycle's end LSN in its summary (``endLSNKey``). The redo of that cycle (same end, same file
/// names) finds its files live and commits nothing; a redo that differs, or a cycle with nothing
/// for the table, rolls the table back to the snapshot's parent first. A full load that runs again
/// replaces whatever the table holds with an `overwrite` of its new LOAD set.
///
/// Field ids: the Parquet files carry none; the table property `schema.name-mapping.default`
/// resolves their columns by name (a renamed column keeps its former names there). Which field id
/// a PostgreSQL column has is kept in the table property ``fieldIDsKey`` by `attnum`, so a rename
/// keeps the id, a dropped column's id is never reused, and a new column gets a new id.
struct IcebergSync: Sendable {
    let store: any ObjectStore
    let settings: EngineSettings
    /// Milliseconds since the epoch for snapshots, metadata versions and expiry (a simulated
    /// clock in the housekeeping benchmark).
    var clock: @Sendable () -> Int64 = IcebergSync.nowMs
    /// Whether ``housekeeping(_:)`` runs (off only to measure a table without it).
    var housekeepingOn = true
    var logger = Logger(label: "replicatord.iceberg")

    /// Snapshot summary: the LSN up to which the snapshot holds the table's changes (a CDC cycle's
    /// end, a LOAD set's snapshot LSN).
    static let endLSNKey = "replicatord.end-lsn"
    /// Snapshot summary: `load` or `cdc`.
    static let kindKey = "replicatord.kind"
    /// Table property: a JSON object from column identity (`attnum:N`, `name:X` when the attnum is
    /// unknown, `replicatord:Op` etc. for the columns replicatord adds) to field id.
    static let fieldIDsKey = "replicatord.field-ids"

    /// One stored Parquet file to add.
    struct NewFile: Sendable {
        var key: String
        var rows: Int64
        var bytes: Int64
        /// The file's column statistics as the Parquet writer gathered them (none: the manifest
        /// has no statistics for the file, and readers scan it whatever the filter).
        var statistics: [ParquetColumnSummary] = []
        /// The table columns the file was written with, when they differ from the commit's.
        var layout: [ParquetTableWriter.Column]? = nil
    }

    /// An Iceberg error on a table (the cycle fails and is retried).
    struct Failure: Error, CustomStringConvertible {
        var table: String
        var message: String
        /// The Iceberg library's error, as thrown.
        var underlying: (any Error)? = nil
        var description: String { "iceberg table \(table): \(message)" }
    }

    // MARK: Paths

    private var base: String {
        settings.icebergLocation.hasSuffix("/") ? String(settings.icebergLocation.dropLast()) : settings.icebergLocation
    }

    /// The table location of a folder (`schema/table/`).
    func location(_ folder: String) -> String { base + "/" + (folder.hasSuffix("/") ? String(folder.dropLast()) : folder) }

    /// The URI of an object key.
    func uri(_ key: String) -> String { base + "/" + key }

    /// The object key of a URI under the target.
    private func key(_ uri: String) throws -> String {
        guard uri.hasPrefix(base + "/") else { throw Failure(table: uri, message: "\(uri) is not under the target \(base)") }
        return String(uri.dropFirst(base.count + 1))
    }

    /// The folder (`schema/table/`) of an object key.
    static func folder(of key: String) -> String {
        // The table folder, whatever date folders (`[output] date_partition`) the file sits in.
        FileNaming.tableFolder(ofKey: key)
    }

    private func get(_ uri: String) throws -> [UInt8] {
        let store = self.store, key = try key(uri)
        return try BlockingCall.wait { try await store.get(key: key) }
    }

    private func put(_ file: MetadataFileWrite) throws {
        let store = self.store, key = try key(file.path)
        let type = file.path.hasSuffix(".json") ? "application/json" : file.path.hasSuffix(".avro") ? "application/avro" : "text/plain"
        _ = try BlockingCall.wait { try await store.put(key: key, bytes: file.bytes, contentType: type) }
    }

    // MARK: Loading and storing

    /// The table the folder's `version-hint.text` names, nil when there is none. A commit needs the
    /// current snapshot's manifest list and its parent's only; every live snapshot's is read when
    /// `complete`, or when snapshots are due to expire (``expiryDue(_:)``).
    func load(folder: String, complete: Bool = false) throws -> IcebergTable? {
        let location = location(folder)
        let store = self.store, hintKey = try key(IcebergTable.versionHintPath(location: location))
        guard try BlockingCall.wait({ try await store.head(key: hintKey) }) != nil else { return nil }
        let version = try IcebergTable.version(fromHint: try BlockingCall.wait { try await store.get(key: hintKey) })
        let json = try get(IcebergTable.metadataPath(location: location, version: version))
        let scope: (TableMetadata) -> IcebergTable.LoadScope = { [self] in
            complete || expiryDue($0) ? .all : .currentAndParent
        }
        return try IcebergTable.load(metadataJSON: json, version: version, scope: scope) { try get($0) }
    }

    /// Stores a chain of commits: every commit's files (manifests, manifest list, metadata), then
    /// the last commit's `version-hint.text`; then removes metadata files the log no longer keeps.
    private func store(_ commits: [IcebergCommit]) throws {
        guard let last = commits.last else { return }
        for commit in commits { for file in commit.files { try put(file) } }
        CrashPoint.reach(.afterIcebergMetadataStored)
        try put(last.versionHint)
        CrashPoint.reach(.afterIcebergHintAdvanced)
        let store = self.store
        for path in commits.flatMap(\.obsoleteMetadataFiles) {
            if let key = try? key(path) { try? BlockingCall.wait { try await store.delete(key: key) } }
        }
        if settings.icebergMetadataSwept.firstTime(last.table.metadataDirectory) { removeLeftoverMetadata(of: last.table) }
    }

    /// Removes what a killed run left in the table's `metadata/` (files of a commit killed before
    /// its hint, or files a commit killed after its hint did not get to delete): every object there
    /// that ``IcebergTable/metadataFiles`` does not name. Once per table and process, after a commit,
    /// so a table's leftovers cost one listing. Data files are never touched (they live outside
    /// `metadata/`). A failure is logged, not thrown: leftovers are unused, and the next process
    /// tries again.
    func removeLeftoverMetadata(of committed: IcebergTable) {
        let store = self.store
        do {
            guard let table = committed.isComplete ? committed : try load(folder: try key(committed.metadata.location) + "/", complete: true),
                table.version == committed.version
            else { return }
            let prefix = try key(table.metadataDirectory) + "/"
            let keep = Set(try table.metadataFiles.map { try key($0) })
            let listed = try BlockingCall.wait { try await store.list(prefix: prefix) }.map(\.key)
            // The listing must hold the current metadata file under the name the table gives it;
            // if it does not, names are not what this expects and nothing is removed.
            guard listed.contains(try key(table.metadataPath)) else {
                logger.warning(
                    "iceberg metadata listing does not hold the current metadata file; leftovers not removed",
                    metadata: ["iceberg.metadata": "\(table.metadataPath)"])
                return
            }
            let leftovers = listed.filter { !keep.contains($0) }
            for key in leftovers { try BlockingCall.wait { try await store.delete(key: key) } }
            if !leftovers.isEmpty {
                logger.notice(
                    "iceberg metadata left by an interrupted run removed", metadata: ["iceberg.metadata": "\(prefix)", "files": "\(leftovers.count)"])
            }
        } catch {
            logger.warning("cannot remove leftover iceberg metadata; the next run tries again", metadata: ["error": "\(error)"])
        }
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// A new snapshot's stamp at the clock's time.
    private func stamp() -> CommitStamp { .random(now: Date(timeIntervalSince1970: Double(clock()) / 1000)) }

    // MARK: Commits

    /// The full load of a table (or its `reload-table`, or a `full-load` re-run): its LOAD set as
    /// one `append` snapshot of a new table, or as an `overwrite` of every file a table already
    /// there holds.
    func commitLoad(folder: String, columns: [ParquetTableWriter.Column], files: [NewFile], snapshotLSN: String) throws {
        var commits: [IcebergCommit] = []
        var table: IcebergTable
        if let existing = try load(folder: folder) {
            table = existing
        } else {
            let created = try create(folder: folder, columns: columns)
            commits.append(created)
            table = created.table
        }
        commits += try evolve(&table, to: columns, folder: folder)
        let adding = files.map { dataFile($0, table: table, layout: columns) }
        let summary = [(key: Self.kindKey, value: "load"), (key: Self.endLSNKey, value: snapshotLSN)]
        let live = table.liveDataFiles().map(\.path)
        if !Set(live).isDisjoint(with: adding.map(\.path)) {
            // A resumed load writes the names of the interrupted one again (whose snapshot got as far
            // as the hint but not the checkpoint): its files go in a `delete` snapshot first.
            let cleared = try attempt(folder) { () throws(IcebergError) -> IcebergCommit in
                try table.overwrite(removing: live, adding: [], stamp: stamp(), summary: [(key: Self.kindKey, value: "load-interrupted")])
            }
            commits.append(cleared)
            table = cleared.table
        }
        let remaining = table.liveDataFiles().map(\.path)
        let commit = try attempt(folder) { () throws(IcebergError) -> IcebergCommit in
            if remaining.isEmpty { return try table.append(adding, stamp: stamp(), summary: summary) }
            return try table.overwrite(removing: remaining, adding: adding, stamp: stamp(), summary: summary)
        }
        commits.append(commit)
        commits += housekeeping(commit.table)
        try store(commits)
    }

    /// One CDC cycle's files of a table (one list of columns per layout the cycle wrote, in order)
    /// as one `append` snapshot whose summary names the cycle's end. `checkpointed` is the LSN of
    /// the checkpoint the cycle started from: a cycle snapshot beyond it was committed by a run
    /// that did not get to its checkpoint.
    /// Returns true when the table had no Iceberg table yet (it was made for this cycle).
    @discardableResult
    func commitCycle(folder: String, layouts: [[ParquetTableWriter.Column]], files: [NewFile], endLSN: LSN, checkpointed: LSN) throws -> Bool {
        guard let first = layouts.first else { return false }
        var created = false
        var commits: [IcebergCommit] = []
        var table: IcebergTable
        if let existing = try load(folder: folder) {
            table = existing
            let paths = Set(files.map { uri($0.key) })
            if let ahead = uncheckpointed(table, checkpointed: checkpointed) {
                if ahead.end == endLSN, paths.isSubset(of: Set(table.liveDataFiles().map(\.path))) {
                    return false  // the redo of a cycle whose snapshot is committed already
                }
                let undone = try undo(table, snapshot: ahead.snapshot, folder: folder)
                commits.append(undone)
                table = undone.table
            }
        } else {
            // `cdc` migration type: no full load made the table (or iceberg was turned on later).
            let made = try create(folder: folder, columns: first)
            commits.append(made)
            table = made.table
            created = true
        }
        for columns in layouts { commits += try evolve(&table, to: columns, folder: folder) }
        let summary = [(key: Self.kindKey, value: "cdc"), (key: Self.endLSNKey, value: endLSN.description)]
        let appended = try attempt(folder) { () throws(IcebergError) -> IcebergCommit in
            try table.append(files.map { dataFile($0, table: table, layout: layouts.last ?? first) }, stamp: stamp(), summary: summary)
        }
        commits.append(appended)
        commits += housekeeping(appended.table)
        try store(commits)
        return created
    }

    /// Rolls back a cycle snapshot beyond `checkpointed` (a redo that wrote nothing for the table).
    func rollBackUncheckpointed(folder: String, checkpointed: LSN) throws {
        guard let table = try load(folder: folder), let ahead = uncheckpointed(table, checkpointed: checkpointed) else { return }
        try store([try undo(table, snapshot: ahead.snapshot, folder: folder)])
    }

    /// The current snapshot when a CDC cycle committed it past `checkpointed`.
    private func uncheckpointed(_ table: IcebergTable, checkpointed: LSN) -> (snapshot: Snapshot, end: LSN)? {
        guard let current = table.metadata.currentSnapshot,
            current.summary.first(where: { $0.key == Self.kindKey })?.value == "cdc",
            let end = current.summary.first(where: { $0.key == Self.endLSNKey }).flatMap({ LSN($0.value) }),
            end > checkpointed
        else { return nil }
        return (current, end)
    }

    /// The table without `snapshot`: its parent made current again, or (a first snapshot) a
    /// `delete` of its files.
    private func undo(_ table: IcebergTable, snapshot: Snapshot, folder: String) throws -> IcebergCommit {
        try attempt(folder) { () throws(IcebergError) -> IcebergCommit in
            if let parent = snapshot.parentSnapshotID {
                return try table.rollback(to: parent, timestampMs: clock())
            }
            return try table.overwrite(
                removing: table.liveDataFiles().map(\.path), adding: [], stamp: stamp(),
                summary: [(key: Self.kindKey, value: "rollback")])
        }
    }

    // MARK: Housekeeping

    /// The number of manifests at which an append folds the small ones into one
    /// (``IcebergTable/minCountToMergeKey``, set on every table replicatord makes or commits to):
    /// a scan reads every manifest of the snapshot, so fewer than Iceberg's default of 100.
    static let manifestsBeforeMerge = 10

    /// The previous `vN.metadata.json` files the metadata log keeps (older ones are deleted):
    /// every snapshot is in the current metadata file, so old ones serve only a reader that
    /// opened one a few cycles ago; Iceberg's default of 100 made metadata/ mostly old copies.
    static let previousMetadataVersions = 10

    /// The table properties of the housekeeping, set on every table replicatord makes or commits to.
    static let housekeepingProperties: [(key: String, value: String)] = [
        (key: IcebergTable.minCountToMergeKey, value: String(manifestsBeforeMerge)),
        (key: IcebergTable.previousVersionsMaxKey, value: String(previousMetadataVersions)),
    ]

    /// What follows a snapshot in the same commit chain (stored before the one `version-hint.text`
    /// write that makes the chain visible): the merge threshold set when the table lacks it, and
    /// the expiry of snapshots older than `[catalog] iceberg_snapshot_retention`. The current
    /// snapshot and its parent always stay (a redo rolls back to the parent). Expiry removes
    /// the manifest lists and manifests only expired snapshots used, after the pointer moves;
    /// it never removes a data file: those are the change log.
    func housekeeping(_ table: IcebergTable) -> [IcebergCommit] {
        guard housekeepingOn else { return [] }
        let now = clock()
        var commits: [IcebergCommit] = []
        var table = table
        let missing = Self.housekeepingProperties.filter { table.metadata.property($0.key) == nil }
        if !missing.isEmpty {
            let set = table.updateProperties(missing, timestampMs: now)
            commits.append(set)
            table = set.table
        }
        let horizon = now - settings.icebergSnapshotRetentionSeconds * 1000
        // Expiry needs every snapshot's manifest list, read only when it is due (see expiryDue).
        if table.isComplete, var expired = table.expireSnapshots(olderThanMs: horizon, minSnapshotsToKeep: 2, timestampMs: now) {
            expired.unreferencedDataFiles = []  // the change log's files are never expiry's to remove
            commits.append(expired)
        }
        return commits
    }

    /// Whether a snapshot other than the current one and its parent is older than the retention
    /// plus a tenth of it: expiry then runs, removing every snapshot older than the retention. So
    /// the commits that read the whole history (expiry needs it) come once per tenth of the
    /// retention (12 hours at the default 5 days), the others read two manifest lists; snapshots
    /// live from the retention to 1.1 times it.
    func expiryDue(_ metadata: TableMetadata) -> Bool {
        let retention = settings.icebergSnapshotRetentionSeconds * 1000
        let due = clock() - retention - retention / 10
        let current = metadata.currentSnapshot
        let kept = Set([current?.snapshotID, current?.parentSnapshotID].compactMap { $0 })
        return metadata.snapshots.contains { $0.timestampMs < due && !kept.contains($0.snapshotID) }
    }

    private func attempt(_ folder: String, _ body: () throws(IcebergError) -> IcebergCommit) throws -> IcebergCommit {
        do { return try body() } catch { throw Failure(table: folder, message: "\(error)", underlying: error) }
    }

    /// The manifest's description of a stored file, its statistics by the field ids `table`
    /// gives the file's columns.
    private func dataFile(_ file: NewFile, table: IcebergTable, layout: [ParquetTableWriter.Column]) -> DataFile {
        var out = DataFile(path: uri(file.key), recordCount: file.rows, fileSizeInBytes: file.bytes)
        if !file.statistics.isEmpty {
            IcebergColumnMetrics.apply(
                file.statistics, layout: wanted(file.layout ?? layout),
                fieldIDs: Self.parseFieldIDs(table.metadata.property(Self.fieldIDsKey)),
                schema: table.metadata.currentSchema, to: &out)
        }
        return out
    }

    // MARK: Schema

    /// A column of the Iceberg schema: its identity (see ``fieldIDsKey``), name and type.
    struct Wanted: Equatable {
        var identity: String
        var name: String
        var type: IcebergType
    }

    /// The Iceberg columns of files with `columns`: `Op`, the table's columns, the order columns,
    /// `_unchanged_toast` (absent from LOAD files, read as null there).
    func wanted(_ columns: [ParquetTableWriter.Column]) -> [Wanted] {
        let exact = settings.parquet.exactLogicalTypes
        var out = [Wanted(identity: "replicatord:Op", name: ParquetTableWriter.opColumnName, type: .string)]
        for column in columns {
            out.append(
                Wanted(
                    identity: column.attnum != 0 ? "attnum:\(column.attnum)" : "name:\(column.name)",
                    name: column.name, type: Self.icebergType(column.kind, exact: exact)))
        }
        if let seq = settings.parquet.seqColumn { out.append(Wanted(identity: "replicatord:seq", name: seq, type: .string)) }
        if let time = settings.parquet.commitTimeColumn { out.append(Wanted(identity: "replicatord:commit_ts", name: time, type: .timestamptz)) }
        out.append(Wanted(identity: "replicatord:unchanged_toast", name: ParquetTableWriter.unchangedToastColumnName, type: .string))
        return out
    }

    /// The Iceberg type of a column as the Parquet writer stores it (README's type table).
    static func icebergType(_ kind: ColumnKind, exact: Bool) -> IcebergType {
        switch kind {
        case .bool: .boolean
        case .int16, .int32: .int
        case .int64: .long
        case .float32: .float
        case .float64: .double
        case .decimal(let p, let s): .decimal(precision: p, scale: s)
        case .numericText, .text, .interval, .timetz, .textCast: .string
        // The files annotate json/jsonb JSON, not STRING: polars reads such a column as binary and
        // refuses it as an Iceberg string (pyiceberg and DuckDB read it either way).
        case .json, .jsonb, .bytea: .binary
        case .uuid: exact ? .uuid : .string
        case .date: .date
        case .time: exact ? .time : .string
        case .timestamp: .timestamp
        case .timestamptz: .timestamptz
        case .list(let element): .list(elementID: 0, element: icebergType(element, exact: exact), elementRequired: false)
        }
    }

    /// Equal types, list element ids aside.
    static func sameType(_ a: IcebergType, _ b: IcebergType) -> Bool {
        if case .list(_, let x, let xr) = a, case .list(_, let y, let yr) = b { return xr == yr && sameType(x, y) }
        return a == b
    }

    private func create(folder: String, columns: [ParquetTableWriter.Column]) throws -> IcebergCommit {
        let wanted = wanted(columns)
        let schema = IcebergSchema.assigningIDs(wanted.map { (name: $0.name, type: $0.type, required: false) })
        let ids = Self.fieldIDs(wanted, schema)
        return IcebergTable.create(
            location: location(folder), schema: schema, tableUUID: UUID(), timestampMs: clock(),
            properties: [(key: Self.fieldIDsKey, value: ids)] + (housekeepingOn ? Self.housekeepingProperties : []))
    }

    /// The ``fieldIDsKey`` property for `wanted` columns as `schema` names them.
    static func fieldIDs(_ wanted: [Wanted], _ schema: IcebergSchema) -> String {
        var object: [String: Int] = [:]
        for w in wanted { if let field = schema.field(named: w.name) { object[w.identity] = Int(field.id) } }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func parseFieldIDs(_ text: String?) -> [String: Int32] {
        guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return object.compactMapValues { ($0 as? NSNumber).map { Int32(truncating: $0) } }
    }

    /// The schema updates that make the table's current schema the one of `columns` (nothing when
    /// it is already): a column whose attnum the table knows keeps its field id (renamed, widened);
    /// a column it does not know is added with a new id; a column gone is dropped. A type change
    /// Iceberg cannot express drops the column and adds it again under a new id; a change the
    /// schema cannot take in one step (names swapped) makes every table column new. Then the
    /// ``fieldIDsKey`` property is updated.
    func evolve(_ table: inout IcebergTable, to columns: [ParquetTableWriter.Column], folder: String) throws -> [IcebergCommit] {
        let wanted = wanted(columns)
        let current = table.metadata.currentSchema
        let known = Self.parseFieldIDs(table.metadata.property(Self.fieldIDsKey))
        let matches =
            wanted.count == current.fields.count
            && zip(wanted, current.fields).allSatisfy { w, f in
                known[w.identity] == f.id && w.name == f.name && Self.sameType(w.type, f.type)
            }
        if matches { return [] }
        var drops: [SchemaChange] = [], widens: [SchemaChange] = [], renames: [SchemaChange] = [], adds: [SchemaChange] = []
        var kept: Set<Int32> = []
        var previous: String?
        // A column added in the middle of a transaction is described by name (attnum 0) until a
        // later relation message gives its attnum, or the other way round: one identity by name,
        // the other by attnum, of a current field with that name, is the same column (a new id
        // for it would leave the snapshots before it reading nulls through the name mapping).
        let claimed = Set(wanted.compactMap { known[$0.identity] })
        var identityOf: [Int32: String] = [:]
        for (identity, id) in known { identityOf[id] = identity }
        func resolve(_ w: Wanted) -> Int32? {
            if let id = known[w.identity] { return id }
            guard let field = current.field(named: w.name), !claimed.contains(field.id),
                w.identity.hasPrefix("name:") || identityOf[field.id]?.hasPrefix("name:") == true
            else { return nil }
            return field.id
        }
        for w in wanted {
            if let id = resolve(w), let field = current.field(id: id), !kept.contains(id),
                Self.sameType(field.type, w.type) || field.type.canPromote(to: w.type)
            {
                kept.insert(id)
                if !Self.sameType(field.type, w.type) { widens.append(.widenColumn(name: field.name, to: w.type)) }
                if field.name != w.name { renames.append(.renameColumn(from: field.name, to: w.name)) }
            } else {
                adds.append(.addColumn(name: w.name, type: w.type, after: previous))
            }
            previous = w.name
        }
        for field in current.fields where !kept.contains(field.id) { drops.append(.dropColumn(name: field.name)) }
        let table0 = table
        var commit: IcebergCommit
        do {
            commit = try table0.updateSchema(drops + widens + renames + adds, timestampMs: clock())
        } catch {
            // Not expressible in one step: every column is new (files resolve by name through the mapping).
            var all: [SchemaChange] = current.fields.map { .dropColumn(name: $0.name) }
            all += wanted.map { .addColumn(name: $0.name, type: $0.type, after: nil) }
            commit = try attempt(folder) { () throws(IcebergError) -> IcebergCommit in try table0.updateSchema(all, timestampMs: clock()) }
        }
        let properties = commit.table.updateProperties(
            [(key: Self.fieldIDsKey, value: Self.fieldIDs(wanted, commit.table.metadata.currentSchema))], timestampMs: clock())
        table = properties.table
        return [commit, properties]
    }
}
