/// The SQL that declares a replicated table's files to an engine, and the view of its current state
/// (`replicatord ddl`; see the README's "Tables for the engines"). One place decides how each
/// ``ColumnKind`` is declared per engine, next to the file mapping it follows.
///
/// Per table it writes two objects, named by ``objectName(schema:table:)``:
/// - `<name>_changes`: every row of every file (LOAD and CDC share the folder), with `Op`, the
///   table's columns, `_seq`, `_commit_ts` and `_unchanged_toast`;
/// - `<name>`: the current state, from `_seq` alone (no file name, no row position): per key the
///   row with the greatest `_seq` unless it is a `D`; rows at or before the last `T` are gone; a
///   column listed in `_unchanged_toast` keeps the key's last value that was not. A table without
///   a primary key is a multiset over all its columns: inserts minus deletes.
public enum LakeDDL {
    /// The engines `ddl` writes for.
    public enum Engine: String, Sendable, CaseIterable {
        case athena, spark, redshift, duckdb
    }

    /// What the files look like and where they are.
    public struct Options: Sendable {
        /// The table folder's location: `s3://bucket/prefix/schema/table/` or a local directory.
        public var location: @Sendable (TableDescription) -> String
        /// The database (Athena, Spark) or external schema (Redshift) the objects go to; DuckDB: none.
        public var database: String
        public var seqColumn: String
        public var commitTimeColumn: String
        public var exactLogicalTypes = false
        /// Read the table folder's Iceberg table (`[catalog] iceberg`) instead of its Parquet files,
        /// and add the "as of a time" view over its snapshots (DuckDB only: the engines that read
        /// Iceberg here).
        public var iceberg = false
        /// Whether CDC files sit in date folders inside the table folder (`[output] date_partition`):
        /// DuckDB's glob and Spark's table then look into the subfolders too (Athena and Redshift
        /// Spectrum read an unpartitioned table's subfolders as they are).
        public var dateFolders = false

        public init(
            location: @escaping @Sendable (TableDescription) -> String, database: String,
            seqColumn: String, commitTimeColumn: String, exactLogicalTypes: Bool = false, iceberg: Bool = false,
            dateFolders: Bool = false
        ) {
            self.location = location; self.database = database
            self.seqColumn = seqColumn; self.commitTimeColumn = commitTimeColumn; self.exactLogicalTypes = exactLogicalTypes
            self.iceberg = iceberg
            self.dateFolders = dateFolders
        }
    }

    /// Why a table's current state cannot be written from its files.
    public struct Unsupported: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// `schema_table`, lower case, every character but `a-z`, `0-9` and `_` as `_`: what Glue,
    /// Athena and Redshift accept unquoted (they fold names to lower case). `public.Order Items` is
    /// `public_order_items`; two tables that map to one name are told apart by the caller.
    public static func objectName(schema: String, table: String) -> String {
        func clean(_ s: String) -> String {
            String(s.lowercased().unicodeScalars.map { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "_" ? Character($0) : "_" })
        }
        return clean(schema) + "_" + clean(table)
    }

    /// The DDL of `table` for `engine`: the changes table (or view) and the current-state view.
    public static func statements(_ table: TableDescription, engine: Engine, options: Options) throws -> String {
        guard !options.seqColumn.isEmpty else {
            throw Unsupported(description: "the current state needs the order column: set [output] seq_column")
        }
        if options.iceberg { return try icebergStatements(table, engine: engine, options: options) }
        let name = objectName(schema: table.schema, table: table.name)
        let changes = qualified(name + "_changes", engine: engine, database: options.database)
        let view = qualified(name, engine: engine, database: options.database)
        var out = "-- \(table.schema).\(table.name)\n"
        // Athena's DDL is Hive's: backquoted names; its views are Trino SQL.
        let changesName =
            engine == .athena
            ? ddlIdentifier(options.database, engine: engine) + "." + ddlIdentifier(name + "_changes", engine: engine) : changes
        out += changesObject(table, engine: engine, name: changesName, options: options) + ";\n"
        let select = currentState(table, from: changes, engine: engine, options: options)
        switch engine {
        case .redshift: out += "CREATE OR REPLACE VIEW \(view) AS\n\(select)\nWITH NO SCHEMA BINDING;\n"
        default: out += "CREATE OR REPLACE VIEW \(view) AS\n\(select);\n"
        }
        return out
    }

    /// The DuckDB variable the `<name>_as_of` views read their time from.
    public static let asOfVariable = "replicatord_as_of"

    /// `--iceberg`: `<name>_changes` is the table's Iceberg table (its current snapshot), `<name>`
    /// its current state, `<name>_as_of` the current state of the snapshot current at the time in
    /// the variable ``asOfVariable`` (a TIMESTAMP, UTC): one snapshot per cycle, so the table as
    /// the cycle before that time left it.
    static func icebergStatements(_ table: TableDescription, engine: Engine, options: Options) throws -> String {
        guard engine == .duckdb else {
            throw Unsupported(
                description: "--iceberg: the engine that reads the Iceberg tables here is duckdb "
                    + "(Athena and Trino read them through Glue, Spark with the Iceberg runtime: docs/iceberg.md)")
        }
        let name = objectName(schema: table.schema, table: table.name)
        var location = options.location(table)
        while location.hasSuffix("/") { location.removeLast() }
        let changes = qualified(name + "_changes", engine: engine, database: options.database)
        var out = "-- \(table.schema).\(table.name)\n"
        out += "CREATE OR REPLACE VIEW \(changes) AS SELECT * FROM iceberg_scan(\(literal(location)));\n"
        let current = currentState(table, from: changes, engine: engine, options: options)
        out += "CREATE OR REPLACE VIEW \(qualified(name, engine: engine, database: options.database)) AS\n\(current);\n"
        let asOf = "iceberg_scan(\(literal(location)), snapshot_from_timestamp => getvariable(\(literal(asOfVariable))))"
        let past = currentState(table, from: asOf, engine: engine, options: options)
        out += "CREATE OR REPLACE VIEW \(qualified(name + "_as_of", engine: engine, database: options.database)) AS\n\(past);\n"
        return out
    }

    /// What goes before the tables' statements: the database they go to.
    public static func preamble(engine: Engine, options: Options) -> String {
        if options.iceberg && engine == .duckdb {
            return "-- The iceberg extension reads the tables: INSTALL iceberg; LOAD iceberg;\n"
                + "-- <name>_as_of is the current state as of the time in the variable \(asOfVariable) (UTC); set it first, e.g.\n"
                + "-- SET VARIABLE \(asOfVariable) = TIMESTAMP '2026-12-04 14:02:00';\n"
                + "SET VARIABLE \(asOfVariable) = now() AT TIME ZONE 'UTC';\n"
        }
        return switch engine {
        case .athena: "CREATE DATABASE IF NOT EXISTS \(ddlIdentifier(options.database, engine: engine));\n"
        case .spark: "CREATE DATABASE IF NOT EXISTS \(queryIdentifier(options.database, engine: engine));\n"
        case .redshift:
            "-- The external schema \(options.database) comes first, e.g.: CREATE EXTERNAL SCHEMA \(options.database) FROM DATA CATALOG\n"
                + "--   DATABASE '\(options.database)' IAM_ROLE 'arn:aws:iam::ACCOUNT:role/ROLE' CREATE EXTERNAL DATABASE IF NOT EXISTS;\n"
        case .duckdb: ""
        }
    }

    // MARK: The changes object

    static func changesObject(_ table: TableDescription, engine: Engine, name: String, options: Options) -> String {
        let location = options.location(table)
        if engine == .duckdb {
            let files = options.dateFolders ? "**/*.parquet" : "*.parquet"
            let glob = location.hasSuffix("/") ? location + files : location + "/" + files
            // LOAD files have no `Op` (unless `IncludeOpForFullLoad`) and no `_unchanged_toast`: until a
            // table's first CDC file the glob finds neither, so an empty row set that has both (null)
            // joins by name, and the current-state view reads the same columns either way.
            let always = [ParquetTableWriter.opColumnName, ParquetTableWriter.unchangedToastColumnName]
                .map { "CAST(NULL AS VARCHAR) AS \(queryIdentifier($0, engine: engine))" }.joined(separator: ", ")
            return "CREATE OR REPLACE VIEW \(name) AS SELECT * FROM read_parquet(\(literal(glob)), union_by_name = true)"
                + " UNION ALL BY NAME SELECT \(always) WHERE false"
        }
        let columns = fileColumns(table.columns.map { ($0.name, ColumnKind($0)) }, engine: engine, options: options)
        let list = columns.map { "  \(ddlIdentifier($0.0, engine: engine)) \($0.1)" }.joined(separator: ",\n")
        switch engine {
        case .spark:
            let recursive = options.dateFolders ? " OPTIONS (recursiveFileLookup 'true')" : ""
            return "CREATE TABLE IF NOT EXISTS \(name) (\n\(list)\n) USING parquet\(recursive) LOCATION \(literal(location))"
        case .athena, .redshift:
            return "CREATE EXTERNAL TABLE \(engine == .athena ? "IF NOT EXISTS " : "")\(name) (\n\(list)\n) STORED AS PARQUET LOCATION \(literal(location))"
        case .duckdb:
            preconditionFailure("DuckDB reads the files through a view")
        }
    }

    /// The columns of the table's files as `engine` declares them, in file order: `Op`, `columns`,
    /// the order and commit-time columns (unless turned off), `_unchanged_toast`. The DDL above and
    /// the Glue tables the daemon keeps (Hive types: `engine` `.athena`) both come from here.
    public static func fileColumns(
        _ columns: [(name: String, kind: ColumnKind)], engine: Engine,
        options: Options
    ) -> [(name: String, type: String)] {
        var out = [(ParquetTableWriter.opColumnName, "string")]
        out += columns.map { ($0.name, type($0.kind, engine: engine, exact: options.exactLogicalTypes)) }
        if !options.seqColumn.isEmpty { out.append((options.seqColumn, type(.text, engine: engine, exact: false))) }
        if !options.commitTimeColumn.isEmpty { out.append((options.commitTimeColumn, type(.timestamptz, engine: engine, exact: false))) }
        out.append((ParquetTableWriter.unchangedToastColumnName, type(.text, engine: engine, exact: false)))
        return out
    }

    /// The engine's type for a column of `kind` (the portable mapping of the files).
    static func type(_ kind: ColumnKind, engine: Engine, exact: Bool) -> String {
        let text = engine == .redshift ? "varchar(65535)" : "string"
        switch kind {
        case .bool: return "boolean"
        case .int16: return "smallint"
        case .int32: return "int"
        case .int64: return "bigint"
        case .float32: return engine == .redshift ? "real" : "float"
        case .float64: return engine == .redshift ? "double precision" : "double"
        case .decimal(let p, let s): return "decimal(\(p),\(s))"
        case .numericText, .text, .json, .jsonb, .interval, .timetz, .textCast: return text
        case .bytea: return engine == .redshift ? "varbyte(1024000)" : "binary"
        case .uuid: return exact ? "binary" : text
        case .time: return exact ? "bigint" : text
        case .date: return "date"
        case .timestamp: return engine == .spark ? "timestamp_ntz" : "timestamp"
        case .timestamptz: return "timestamp"
        case .list(let element): return "array<\(type(element, engine: engine, exact: exact))>"
        }
    }

    // MARK: The current state

    /// The current-state SELECT over `source` (the changes object); `asOf` adds the "as of a time"
    /// form (rows committed at or before it; LOAD rows carry the snapshot's time).
    public static func currentState(
        _ table: TableDescription, from source: String, engine: Engine, options: Options,
        asOf: String? = nil
    ) -> String {
        let q = { (name: String) in queryIdentifier(name, engine: engine) }
        let op = "COALESCE(\(q(ParquetTableWriter.opColumnName)), 'I')"
        let seq = q(options.seqColumn)
        let toast = q(ParquetTableWriter.unchangedToastColumnName)
        let keys = table.primaryKey.map { q($0.name) }
        let columns = table.columns.map { q($0.name) }
        let time = asOf.map { " WHERE \(q(options.commitTimeColumn)) <= \($0)" } ?? ""
        var sql = """
              WITH changes AS (SELECT * FROM \(source)\(time)),
              live AS (
                SELECT * FROM changes
                WHERE \(op) <> 'T' AND \(seq) > (SELECT COALESCE(MAX(\(seq)), '') FROM changes WHERE \(op) = 'T')
              )
            """
        if keys.isEmpty {
            // No key: the table is a multiset of whole rows (REPLICA IDENTITY FULL sends whole rows).
            let all = columns.joined(separator: ", ")
            sql += """
                ,
                counted AS (
                  SELECT live.*,
                    ROW_NUMBER() OVER (PARTITION BY \(all), \(op) ORDER BY \(seq) DESC) AS _rn,
                    SUM(CASE WHEN \(op) = 'D' THEN -1 ELSE 1 END) OVER (PARTITION BY \(all)) AS _n
                  FROM live
                )
                SELECT \(all) FROM counted WHERE \(op) <> 'D' AND _rn <= _n
                """
            return sql
        }
        let partition = keys.joined(separator: ", ")
        // Columns whose value an update may leave out as unchanged TOAST (variable-length, not key).
        let toastable = table.columns.enumerated().filter { !$0.element.isPrimaryKey && isVariableLength(ColumnKind($0.element)) }
        func listed(_ name: String, in column: String) -> String {
            "POSITION(\(literal("," + name + ",")) IN ',' || COALESCE(\(column), '') || ',') > 0"
        }
        var sources = toastable.map { i, c in
            "MAX(CASE WHEN NOT (\(listed(c.name, in: toast))) THEN \(seq) END) OVER (PARTITION BY \(partition)) AS _src\(i)"
        }
        sources.append("ROW_NUMBER() OVER (PARTITION BY \(partition) ORDER BY \(seq) DESC) AS _rn")
        let values = toastable.map { i, c in
            "MAX(CASE WHEN \(seq) = _src\(i) THEN \(q(c.name)) END) OVER (PARTITION BY \(partition)) AS _val\(i)"
        }
        let output = table.columns.enumerated().map { i, c in
            toastable.contains(where: { $0.offset == i }) ? "_val\(i) AS \(q(c.name))" : q(c.name)
        }
        sql += """
            ,
            ranked AS (
              SELECT live.*,
                \(sources.joined(separator: ",\n    "))
              FROM live
            ),
            filled AS (
              SELECT ranked.*\(values.isEmpty ? "" : ",\n    " + values.joined(separator: ",\n    "))
              FROM ranked
            )
            SELECT \(output.joined(separator: ", "))
            FROM filled WHERE _rn = 1 AND \(op) <> 'D'
            """
        return sql
    }

    static func isVariableLength(_ kind: ColumnKind) -> Bool {
        switch kind {
        case .numericText, .text, .json, .jsonb, .bytea, .textCast, .list, .interval, .timetz: true
        default: false
        }
    }

    // MARK: Names and literals

    /// An identifier in a query: backquoted for Spark, double-quoted elsewhere.
    static func queryIdentifier(_ name: String, engine: Engine) -> String {
        engine == .spark
            ? "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
            : "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// An identifier in a column list of DDL: Athena's DDL (Hive) takes backquotes.
    static func ddlIdentifier(_ name: String, engine: Engine) -> String {
        engine == .athena ? "`" + name.replacingOccurrences(of: "`", with: "``") + "`" : queryIdentifier(name, engine: engine)
    }

    static func qualified(_ name: String, engine: Engine, database: String) -> String {
        engine == .duckdb || database.isEmpty
            ? queryIdentifier(name, engine: engine)
            : queryIdentifier(database, engine: engine) + "." + queryIdentifier(name, engine: engine)
    }

    /// A string literal.
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
}
