import AWSRequests
import Foundation
import GlueCatalog
import Iceberg
import Logging
import ObjectStore
import Replication

/// `[catalog] glue_database`: keeps one AWS Glue Data Catalog table per replicated table, named
/// `<schema>_<table>_changes` (``LakeDDL/objectName(schema:table:)``, the name `replicatord ddl`'s
/// views read), over the table folder that the LOAD and CDC files share. Its columns are the files'
/// in the portable mapping (``LakeDDL/fileColumns(_:engine:options:)``, Hive types).
///
/// Part of the cycle's exactly-once protocol:
/// - Parquet tables: ``declare(_:)`` runs before any file with a new layout is stored. A column the
///   table loses stays declared (older files hold it; newer ones read null there), so after a crash
///   anywhere the catalog reads every file stored, and the redo finds nothing more to declare.
/// - With `[catalog] iceberg`, the Glue table is the Iceberg table (`table_type = ICEBERG`):
///   ``advanceIceberg(folders:store:)`` runs after `version-hint.text` is advanced and before the
///   checkpoint, and points `metadata_location` at the metadata the hint names, with Glue's optimistic
///   check (`VersionId`; on a conflict it reads the table again and retries). A crash before it leaves
///   Glue on the previous metadata, which still reads; the redo's call catches it up.
public struct GlueCatalogSync: Sendable {
    /// Where the Glue tables go.
    public struct Target: Sendable, Equatable {
        /// The Glue database (created when missing).
        public var database: String
        /// The Glue catalog's region.
        public var region: String
        /// A Glue-compatible endpoint; empty: AWS's own.
        public var endpoint: String
        /// PEM CA bundle to trust instead of the system's.
        public var caFile: String?

        public init(database: String, region: String, endpoint: String, caFile: String?) {
            self.database = database
            self.region = region
            self.endpoint = endpoint
            self.caFile = caFile
        }
    }

    /// A Glue call failed, or the target cannot be declared in Glue (the cycle fails and is retried).
    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// Glue's optimistic check refused the update: another writer changed the table.
        var conflict = false
        /// The identity may not make the call (a permission is missing).
        var refused = false
    }

    /// Optimistic-check conflicts tolerated in a row before the cycle fails (and is retried).
    static let conflictRetries = 5

    let target: Target
    let client: GlueClient
    /// `s3://bucket[/prefix]`.
    let root: String
    let iceberg: Bool
    let options: LakeDDL.Options
    let logger: Logger

    /// The sync of `settings`, nil when `[catalog] glue_database` is off.
    static func make(_ settings: EngineSettings, logger: Logger) throws -> GlueCatalogSync? {
        guard let target = settings.glue else { return nil }
        guard settings.icebergLocation.hasPrefix("s3://") else {
            throw Failure(description: "[catalog] glue_database needs an s3:// [target] url: Glue tables name S3 locations")
        }
        let client = try GlueClient(
            region: target.region, endpoint: target.endpoint.isEmpty ? nil : target.endpoint,
            caFile: target.caFile, logger: logger)
        return GlueCatalogSync(target: target, client: client, settings: settings, logger: logger)
    }

    init(target: Target, client: GlueClient, settings: EngineSettings, logger: Logger) {
        self.target = target
        self.client = client
        root = settings.icebergLocation.hasSuffix("/") ? String(settings.icebergLocation.dropLast()) : settings.icebergLocation
        iceberg = settings.iceberg
        let base = root
        options = LakeDDL.Options(
            location: { base + "/" + FileNaming.tableFolder(schema: $0.schema, table: $0.name) },
            database: target.database, seqColumn: settings.parquet.seqColumn ?? "",
            commitTimeColumn: settings.parquet.commitTimeColumn ?? "",
            exactLogicalTypes: settings.parquet.exactLogicalTypes)
        self.logger = logger
    }

    /// The Glue table name of a replicated table.
    static func tableName(schema: String, table: String) -> String {
        LakeDDL.objectName(schema: schema, table: table) + "_changes"
    }

    /// One replicated table and the layouts its next files have, oldest first.
    struct TableLayouts: Sendable {
        var schema: String
        var name: String
        var layouts: [[ParquetTableWriter.Column]]
    }

    // MARK: Parquet tables

    /// Before files with these layouts are stored: each table's Glue table declares every column
    /// of them (and keeps those it had). Nothing is called when every table is declared already but
    /// one GetTable per table. With `[catalog] iceberg` this does nothing: the Iceberg commit declares.
    func declare(_ tables: [TableLayouts]) async throws {
        guard !iceberg, !tables.isEmpty else { return }
        try await ensureDatabase()
        var changed = false
        for table in tables {
            let name = Self.tableName(schema: table.schema, table: table.name)
            let location = root + "/" + FileNaming.tableFolder(schema: table.schema, table: table.name)
            let existing = try await glue { try await client.getTable(database: target.database, name: name) }
            if let existing, existing.location != location {
                logOtherTable(name, existing: existing.location, table: "\(table.schema).\(table.name)")
                continue
            }
            let wanted = GlueTable.parquet(name: name, columns: columns(table.layouts, keeping: existing?.columns ?? []), location: location)
            guard try await put(wanted, over: existing) else { continue }
            changed = true
            logger.info(
                "glue table declared",
                metadata: [
                    "glue.database": "\(target.database)", "glue.table": "\(name)", "table": "\(table.schema).\(table.name)",
                    "columns": "\(wanted.columns.count)", "created": "\(existing == nil)",
                ])
        }
        if changed { CrashPoint.reach(.afterGlueTablesDeclared) }
    }

    // MARK: Iceberg tables

    /// After `version-hint.text` of each folder (`schema/table/`) is advanced: its Glue table is an
    /// Iceberg table whose `metadata_location` is the metadata the hint names, columns the folder's
    /// layouts. Glue's optimistic check guards the update; a conflict re-reads and retries.
    func advanceIceberg(folders: [(table: TableLayouts, folder: String)], store: any ObjectStore) async throws {
        guard iceberg, !folders.isEmpty else { return }
        try await ensureDatabase()
        var changed = false
        for (table, folder) in folders {
            let location = root + "/" + folder
            let hintKey = folder + "metadata/version-hint.text"
            // No hint yet: the table has no Iceberg commit to point at (nothing to declare yet).
            guard try await store.head(key: hintKey) != nil else { continue }
            let version = try IcebergTable.version(fromHint: try await store.get(key: hintKey))
            let metadata = IcebergTable.metadataPath(location: String(location.dropLast()), version: version)
            let name = Self.tableName(schema: table.schema, table: table.name)
            var conflicts = 0
            while true {
                let existing = try await glue { try await client.getTable(database: target.database, name: name) }
                if let existing, existing.location != location {
                    logOtherTable(name, existing: existing.location, table: "\(table.schema).\(table.name)")
                    break
                }
                let previous = existing?.parameters["metadata_location"]
                let wanted = GlueTable.iceberg(
                    name: name, columns: columns(table.layouts, keeping: existing?.columns ?? []), location: location,
                    metadataLocation: metadata, previousMetadataLocation: previous == metadata ? existing?.parameters["previous_metadata_location"] : previous)
                do {
                    guard try await put(wanted, over: existing) else { break }
                    changed = true
                    logger.info(
                        "glue iceberg table advanced",
                        metadata: [
                            "glue.database": "\(target.database)", "glue.table": "\(name)", "iceberg.metadata": "\(metadata)",
                        ])
                    break
                } catch let e as Failure where e.conflict && conflicts < Self.conflictRetries {
                    conflicts += 1
                    logger.notice(
                        "glue table changed by another writer; reading it again",
                        metadata: [
                            "glue.table": "\(name)", "glue.conflicts": "\(conflicts)",
                        ])
                }
            }
        }
        if changed { CrashPoint.reach(.afterGlueIcebergAdvanced) }
    }

    // MARK: Columns

    /// The columns for `layouts` (the newest last): the newest layout's, in file order, its types
    /// winning; then columns of earlier layouts and of `existing` it no longer has, before the
    /// trailing order, time and TOAST columns. Names lower case, as Glue and Athena keep them.
    func columns(_ layouts: [[ParquetTableWriter.Column]], keeping existing: [GlueTable.Column]) -> [GlueTable.Column] {
        guard let newest = layouts.last else { return existing }
        let declared = LakeDDL.fileColumns(newest.map { ($0.name, $0.kind) }, engine: .athena, options: options)
            .map { GlueTable.Column(name: $0.name.lowercased(), type: $0.type) }
        let trailing = 1 + newest.count  // Op and the table's columns come first; the rest is replicatord's trailer
        var head = Array(declared.prefix(trailing))
        let tail = Array(declared.dropFirst(trailing))
        var seen = Set(declared.map(\.name))
        var kept: [GlueTable.Column] = []
        let earlier = layouts.dropLast().reversed().flatMap { layout in
            LakeDDL.fileColumns(layout.map { ($0.name, $0.kind) }, engine: .athena, options: options)
                .map { GlueTable.Column(name: $0.name.lowercased(), type: $0.type) }
        }
        for column in existing + earlier where !seen.contains(column.name) {
            seen.insert(column.name)
            kept.append(column)
        }
        head += kept
        return head + tail
    }

    // MARK: Calls

    /// A Glue table of the name over another folder is not ours to change: two replicated tables map
    /// to one name (``LakeDDL/objectName(schema:table:)``), or someone else made it. The table's
    /// files go on; only its Glue table is left out, as `ddl` leaves it out.
    func logOtherTable(_ name: String, existing: String, table: String) {
        logger.error(
            "a Glue table of this name is over another folder: this table gets no Glue table (rename one of the tables, or drop the Glue table)",
            metadata: [
                "glue.database": "\(target.database)", "glue.table": "\(name)", "glue.location": "\(existing)", "table": "\(table)",
            ])
    }

    /// Makes the Glue table `wanted`: created when there is none, updated at the version read
    /// (Glue's optimistic check) when it differs from `existing`. False when nothing was to change.
    func put(_ wanted: GlueTable, over existing: GlueTable?) async throws -> Bool {
        guard let existing else {
            try await glue { try await client.createTable(database: target.database, wanted) }
            return true
        }
        if existing.sameDefinition(as: wanted) { return false }
        try await glue { try await client.updateTable(database: target.database, wanted, expectedVersion: existing.versionId) }
        return true
    }

    func ensureDatabase() async throws {
        try await glue { try await client.ensureDatabase(target.database, description: "replicatord: the change log of each replicated table") }
    }

    /// Runs a Glue call, turning its error into a `Failure` that says what to do.
    func glue<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let e as GlueError {
            throw Failure(description: e.description, conflict: e.code == .concurrentModification, refused: e.code == .accessDenied)
        }
    }
}

// MARK: The cycle's hooks (one call each where the full load and the CDC cycle store files)

extension GlueCatalogSync {
    /// Full load, before any LOAD file is stored: the tables' Glue tables declare their columns
    /// (Parquet tables; with `[catalog] iceberg`, ``afterIcebergLoadCommit(_:settings:store:logger:)`` does),
    /// and with date folders their `_cdc` tables are declared (no partition yet: LOAD files have none).
    static func beforeLoadFiles(_ tables: [TableDescription], settings: EngineSettings, logger: Logger) async throws {
        guard let sync = try make(settings, logger: logger) else { return }
        let layouts = tables.map { TableLayouts(schema: $0.schema, name: $0.name, layouts: [ParquetTableWriter.columns(for: $0)]) }
        if let partition = settings.datePartition {
            try await sync.declareDateFolders(layouts.map { ($0, []) }, partition: partition, declared: settings.declaredGluePartitions)
        }
        try await sync.declare(layouts)
    }

    /// Full load with `[catalog] iceberg`, after a table's LOAD snapshot is committed (hint advanced).
    static func afterIcebergLoadCommit(_ table: TableDescription, settings: EngineSettings, store: any ObjectStore, logger: Logger) async throws {
        guard let sync = try make(settings, logger: logger) else { return }
        let layouts = TableLayouts(schema: table.schema, name: table.name, layouts: [ParquetTableWriter.columns(for: table)])
        try await sync.advanceIceberg(folders: [(layouts, FileNaming.tableFolder(schema: table.schema, table: table.name))], store: store)
    }

    /// CDC, before the cycle's files (`keys`, one per segment) are stored: the Glue tables of the
    /// tables they write declare their columns (Parquet tables), and with date folders their `_cdc`
    /// tables the folders as partitions. Blocking.
    static func beforeCycleFiles(_ segments: [ChangeSegment], keys: [String], settings: EngineSettings, logger: Logger) throws {
        guard settings.glue != nil, !segments.isEmpty else { return }
        let tables = layouts(of: segments)
        var folders: [String: Set<String>] = [:]
        for (segment, key) in zip(segments, keys) {
            let folder = FileNaming.dateFolder(ofKey: key)
            if !folder.isEmpty { folders["\(segment.relation.schema).\(segment.relation.name)", default: []].insert(folder) }
        }
        let withFolders = tables.map { ($0, (folders["\($0.schema).\($0.name)"] ?? []).sorted()) }
        try BlockingCall.wait {
            guard let sync = try make(settings, logger: logger) else { return }
            if let partition = settings.datePartition {
                try await sync.declareDateFolders(withFolders, partition: partition, declared: settings.declaredGluePartitions)
            }
            try await sync.declare(tables)
        }
    }

    /// CDC with `[catalog] iceberg`, after the cycle's Iceberg commits: the Glue tables of the tables
    /// the segments wrote point at their new metadata. Blocking.
    static func afterIcebergCycleCommits(_ segments: [ChangeSegment], settings: EngineSettings, store: any ObjectStore, logger: Logger) throws {
        guard settings.glue != nil, settings.iceberg, !segments.isEmpty else { return }
        let tables = layouts(of: segments)
        try BlockingCall.wait {
            guard let sync = try make(settings, logger: logger) else { return }
            try await sync.advanceIceberg(folders: tables.map { ($0, FileNaming.tableFolder(schema: $0.schema, table: $0.name)) }, store: store)
        }
    }

    /// The tables `segments` write and their layouts, in the segments' order.
    private static func layouts(of segments: [ChangeSegment]) -> [TableLayouts] {
        var order: [String] = []
        var byTable: [String: TableLayouts] = [:]
        for segment in segments {
            let key = "\(segment.relation.schema).\(segment.relation.name)"
            if byTable[key] == nil {
                order.append(key)
                byTable[key] = TableLayouts(schema: segment.relation.schema, name: segment.relation.name, layouts: [])
            }
            let columns = ParquetTableWriter.columns(for: segment.relation)
            if byTable[key]!.layouts.last != columns { byTable[key]!.layouts.append(columns) }
        }
        return order.map { byTable[$0]! }
    }
}

// MARK: replicatord check

extension GlueCatalogSync {
    /// `replicatord check`: reads the Glue database and its tables as the daemon will; a refused
    /// permission or an unreachable endpoint is one problem line naming the permission. Returns the
    /// line to print and the problem, either nil.
    static func check(_ settings: EngineSettings, logger: Logger) async -> (line: String?, problem: String?) {
        guard let target = settings.glue else { return (nil, nil) }
        do {
            guard let sync = try make(settings, logger: logger) else { return (nil, nil) }
            guard try await sync.client.databaseExists(target.database) else {
                return ("glue database \(target.database) (\(target.region)): does not exist yet; the first run creates it", nil)
            }
            let tables = try await sync.client.getTables(database: target.database)
            return ("glue database \(target.database) (\(target.region)): reachable, \(tables.count) table(s)", nil)
        } catch let e as GlueError where e.code == .accessDenied {
            return (
                nil,
                "glue: permission glue:\(e.operation) refused on database \(target.database): \(oneLine(e.underlying.message)) (the daemon needs glue:GetDatabase, glue:CreateDatabase, glue:GetTable, glue:GetTables, glue:CreateTable, glue:UpdateTable and, with date folders, glue:BatchCreatePartition)"
            )
        } catch {
            return (
                nil,
                "glue database \(target.database) cannot be used: \(oneLine(SecretScrubber.scrub("\(error)"))) (check [catalog] glue_region, glue_endpoint and the AWS credentials)"
            )
        }
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
