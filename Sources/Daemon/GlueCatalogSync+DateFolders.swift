import Foundation
import GlueCatalog
import Replication
import Synchronization

/// DMS's date folders (`[output] date_partition`, `DatePartitionEnabled`) in the Glue catalog.
///
/// With date folders each replicated table gets a second Glue table, `<schema>_<table>_cdc`, over
/// the same table folder but partitioned by the folders (``DatePartition/columnNames``: `year`,
/// `month`, `day`[, `hour`] with `SLASH`, else one `date_partition`, all strings), one partition per
/// date folder. It holds the CDC files only: a partitioned table reads its partitions' folders, and
/// the LOAD files lie in the table folder itself. A query over a time range then reads only its
/// days (`WHERE year = '2026' AND month = '11' AND day = '24'`). `<schema>_<table>_changes` stays
/// unpartitioned and reads every file (Athena and Redshift Spectrum read its subfolders), so the
/// current-state views of `replicatord ddl` are unchanged.
///
/// Like the columns, a partition is declared **before** the first file of its folder is stored:
/// after a crash anywhere, every stored file is in a declared partition.
extension GlueCatalogSync {
    /// The Glue table name of a table's CDC files by date folder.
    static func dateFolderTableName(schema: String, table: String) -> String {
        LakeDDL.objectName(schema: schema, table: table) + "_cdc"
    }

    /// Partitions this process has seen declared, so a folder costs one call the first time only
    /// (kept for the engine's life; a restart asks Glue again, which keeps what it has).
    public final class DeclaredPartitions: Sendable {
        private let known = Mutex<Set<String>>([])

        public init() {}

        func contains(_ key: String) -> Bool { known.withLock { $0.contains(key) } }
        func insert(_ keys: some Sequence<String>) { known.withLock { $0.formUnion(keys) } }
    }

    /// Before files go into `folders` (per table, the date folders inside its table folder, `2026/11/24/`):
    /// each table's `_cdc` table declares the layouts' columns (keeping those it had), then a
    /// partition for each folder not declared yet. With no folders, only the table is declared
    /// (the full load: every table has its `_cdc` table from the start).
    func declareDateFolders(
        _ tables: [(table: TableLayouts, folders: [String])], partition: DatePartition,
        declared: DeclaredPartitions
    ) async throws {
        guard !tables.isEmpty else { return }
        try await ensureDatabase()
        let keys = partition.columnNames.map { GlueTable.Column(name: $0, type: "string") }
        var changed = false
        for (table, folders) in tables {
            let name = Self.dateFolderTableName(schema: table.schema, table: table.name)
            let location = root + "/" + FileNaming.tableFolder(schema: table.schema, table: table.name)
            let memo = { (folder: String) in "\(target.endpoint)\u{0}\(target.database)\u{0}\(name)\u{0}\(folder)" }
            let missing = folders.filter { !declared.contains(memo($0)) }
            let existing = try await glue { try await client.getTable(database: target.database, name: name) }
            if let existing, existing.location != location {
                logOtherTable(name, existing: existing.location, table: "\(table.schema).\(table.name)")
                continue
            }
            if let existing, existing.partitionKeys != keys {
                // The folder scheme changed (date_partition_sequence or _delimiter): Glue's partitions
                // of the old keys cannot take the new folders, and are not ours to drop.
                logger.error(
                    "the Glue table's partition keys are not those of [output] date_partition_sequence and _delimiter: its partitions are left as they are (drop the Glue table to have it declared again)",
                    metadata: [
                        "glue.database": "\(target.database)", "glue.table": "\(name)", "table": "\(table.schema).\(table.name)",
                        "glue.partition_keys": "\(existing.partitionKeys.map(\.name).joined(separator: ","))",
                        "wanted": "\(keys.map(\.name).joined(separator: ","))",
                    ])
                continue
            }
            let wanted = GlueTable.parquet(
                name: name, columns: columns(table.layouts, keeping: existing?.columns ?? []),
                location: location, partitionKeys: keys)
            if try await put(wanted, over: existing) { changed = true }
            guard !missing.isEmpty else { continue }
            let partitions = missing.map { GluePartition(of: wanted, values: Self.partitionValues(folder: $0), location: location + $0) }
            try await glue { try await client.createPartitions(database: target.database, table: name, partitions) }
            declared.insert(missing.map(memo))
            changed = true
            logger.info(
                "glue partitions declared",
                metadata: [
                    "glue.database": "\(target.database)", "glue.table": "\(name)", "table": "\(table.schema).\(table.name)",
                    "partitions": "\(missing.joined(separator: " "))",
                ])
        }
        if changed { CrashPoint.reach(.afterGlueTablesDeclared) }
    }

    /// A date folder's partition values, one per folder level: `2026/11/24/` is `2026`, `11`, `24`.
    static func partitionValues(folder: String) -> [String] {
        folder.split(separator: "/").map(String.init)
    }
}
