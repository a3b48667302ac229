import Foundation
import ObjectStore
import Replication

/// `replicatord ddl`: the DDL that declares every replicated table's files to an engine and the
/// view of its current state, from the publication's tables in the source's catalog.
public enum LakeDefinitions {
    /// The engines `--engine` names.
    public static let engines = LakeDDL.Engine.allCases.map(\.rawValue)

    /// The SQL for every table of the publication, for the engine named `engineName` (one of
    /// ``engines``), objects in `database`.
    /// With `iceberg`, the objects read each table's Iceberg table (`[catalog] iceberg`), with an
    /// "as of a time" view (DuckDB).
    public static func render(
        configuration config: Configuration, engine engineName: String, database: String,
        iceberg: Bool = false
    ) async throws -> String {
        guard let engine = LakeDDL.Engine(rawValue: engineName) else { preconditionFailure("an engine of LakeDefinitions.engines") }
        let settings = config.engineSettings
        let tables = try await DedicatedThread.run(name: "replicatord-ddl") { () throws -> [TableDescription] in
            try SourceDatabase(conninfo: settings.conninfo).publicationTables(settings.publication)
        }
        // Spark takes the URL; DuckDB takes a local directory as a path.
        let root =
            switch config.target.location {
            case .directory(let path) where engine == .duckdb: path
            default: config.target.location.description
            }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        let options = LakeDDL.Options(
            location: { prefix + FileNaming.tableFolder(schema: $0.schema, table: $0.name) },
            database: database, seqColumn: config.output.seqColumn, commitTimeColumn: config.output.commitTimeColumn,
            exactLogicalTypes: config.parquet.logicalTypes == .exact, iceberg: iceberg, dateFolders: config.output.datePartition != nil)
        var out = LakeDDL.preamble(engine: engine, options: options)
        var seen: [String: String] = [:]
        for table in tables {
            let name = LakeDDL.objectName(schema: table.schema, table: table.name)
            if let other = seen[name] {
                out += "-- \(table.schema).\(table.name) is left out: its name \(name) is \(other)'s too (rename one of them)\n"
                continue
            }
            seen[name] = "\(table.schema).\(table.name)"
            out += "\n" + (try LakeDDL.statements(table, engine: engine, options: options))
        }
        return out
    }
}
