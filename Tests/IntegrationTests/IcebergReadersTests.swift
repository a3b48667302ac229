import Foundation
import Iceberg
import Parquet
import Testing

/// An Iceberg table built by the `Iceberg` module over Parquet files written by `Parquet` (with
/// field ids) is read by pyiceberg (StaticTable and a sqlite SqlCatalog), DuckDB's iceberg
/// extension and polars, through `scripts/iceberg_read.py`: two appends, a schema change
/// (rename, drop, widen, add), a third append with the new layout and an overwrite; every
/// reader must see every row, the field ids, one snapshot per commit and each snapshot's rows.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_ICEBERG_PYTHON")))
struct IcebergReadersTests {
    static var script: String { TestEnvironment.repositoryRoot.appendingPathComponent("scripts/iceberg_read.py").path }

    /// One change-log row, with every column either schema version has.
    struct Row {
        var op: String
        var id: Int64
        var name: String?
        var amount: Int64  // unscaled, scale 2
        var updated: Int64  // microseconds, UTC
        var born: Int32  // days
        var payload: [UInt8]
        var tags: [String?]?
        var qty: Int64?
        var note: String?
        var seq: String
        var commitTs: Int64

        init(_ op: String, _ id: Int64, file: Int, position: Int) {
            self.op = op
            self.id = id
            name = id == 5 ? nil : "name-\(id)-\(file)"
            amount = id * 1234 - 5000 + Int64(file)
            updated = 1_764_800_000_000_000 + id * 1_000_001 + Int64(file)
            born = 10_000 + Int32(id)
            payload = [UInt8(id), 0xFF, UInt8(file)]
            tags = id % 3 == 0 ? nil : ["t\(id)", id % 2 == 0 ? nil : "odd", "f\(file)"]
            qty = id % 4 == 0 ? nil : id * 10 + Int64(file)
            note = file >= 4 && id % 2 == 0 ? "note \(id)" : nil
            seq = String(format: "%010d-%04d", file, position)
            commitTs = 1_764_800_000_000_000 + Int64(file) * 120_000_000
        }

        func with(amount: Int64) -> Row {
            var r = self
            r.amount = amount
            return r
        }
    }

    /// The table's first layout: field ids 1...12 (the list's element is 9).
    static let schemaV0 = IcebergSchema.assigningIDs([
        ("Op", .string, false), ("id", .long, false), ("name", .string, false), ("amount", .decimal(precision: 10, scale: 2), false),
        ("updated", .timestamptz, false), ("born", .date, false), ("payload", .binary, false),
        ("tags", .list(elementID: 0, element: .string, elementRequired: false), false), ("qty", .int, false),
        ("_seq", .string, false), ("_commit_ts", .timestamptz, false),
    ])
    /// The schema change between the second and third commit.
    static let changes: [SchemaChange] = [
        .renameColumn(from: "name", to: "title"), .dropColumn(name: "payload"), .widenColumn(name: "qty", to: .long),
        .addColumn(name: "note", type: .string, after: "qty"),
    ]

    static func parquetType(_ type: IcebergType) -> ParquetValueType {
        switch type {
        case .string: .string
        case .long: .int64
        case .int: .int32
        case .decimal(let p, let s): .decimal(precision: p, scale: s)
        case .timestamptz: .timestampMicros(adjustedToUTC: true)
        case .date: .date
        case .binary: .bytes
        default: preconditionFailure("the test uses no other type")
        }
    }

    /// The Parquet schema of an Iceberg schema, every column with its field id.
    static func parquetSchema(_ schema: IcebergSchema) -> ParquetSchema {
        ParquetSchema(
            schema.fields.map { field in
                if case .list(let elementID, let element, _) = field.type {
                    return .list(name: field.name, element: parquetType(element), fieldID: field.id, elementFieldID: elementID)
                }
                return ParquetColumn(name: field.name, type: parquetType(field.type), fieldID: field.id)
            })
    }

    /// Writes `rows` in `schema`'s layout and describes the file for a manifest, with counts
    /// and bounds by field id.
    static func writeDataFile(_ path: String, _ rows: [Row], schema: IcebergSchema) throws -> DataFile {
        let sink = try ParquetFileSink(path: path)
        let writer = try ParquetWriter(schema: parquetSchema(schema), sink: sink)
        for row in rows {
            var values: [ParquetValue] = []
            for field in schema.fields {
                switch field.name {
                case "Op": values.append(.string(row.op))
                case "id": values.append(.int64(row.id))
                case "name", "title": values.append(row.name.map { .string($0) } ?? .null)
                case "amount": values.append(.decimal(row.amount))
                case "updated": values.append(.int64(row.updated))
                case "born": values.append(.int32(row.born))
                case "payload": values.append(.bytes(row.payload))
                case "tags": values.append(row.tags.map { .list($0.map { $0.map { .string($0) } ?? .null }) } ?? .null)
                case "qty":
                    values.append(row.qty.map { field.type == .int ? .int32(Int32($0)) : .int64($0) } ?? .null)
                case "note": values.append(row.note.map { .string($0) } ?? .null)
                case "_seq": values.append(.string(row.seq))
                case "_commit_ts": values.append(.int64(row.commitTs))
                default: preconditionFailure("no column \(field.name)")
                }
            }
            try writer.appendRow(values)
        }
        try writer.close()
        try sink.close()
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        var file = DataFile(path: path, recordCount: Int64(rows.count), fileSizeInBytes: Int64(size))
        for field in schema.fields where field.name != "tags" {
            file.valueCounts[field.id] = Int64(rows.count)
        }
        let id = schema.field(named: "id")!.id, seq = schema.field(named: "_seq")!.id
        let op = schema.field(named: "Op")!.id, amount = schema.field(named: "amount")!.id
        let updated = schema.field(named: "updated")!.id, nameID = schema.fields[2].id
        file.nullValueCounts = [id: 0, seq: 0, op: 0, amount: 0, updated: 0, nameID: Int64(rows.filter { $0.name == nil }.count)]
        file.lowerBounds = [
            id: .long(rows.map(\.id).min()!), seq: .string(rows.map(\.seq).min()!),
            op: .string(rows.map(\.op).min()!), amount: .decimal(unscaled: rows.map(\.amount).min()!),
            updated: .timestamp(rows.map(\.updated).min()!),
        ]
        file.upperBounds = [
            id: .long(rows.map(\.id).max()!), seq: .string(rows.map(\.seq).max()!),
            op: .string(rows.map(\.op).max()!), amount: .decimal(unscaled: rows.map(\.amount).max()!),
            updated: .timestamp(rows.map(\.updated).max()!),
        ]
        return file
    }

    /// A row as the readers should show it in `schema` (canonical JSON, see iceberg_read.py).
    static func expected(_ row: Row, in schema: IcebergSchema, writtenWith: IcebergSchema) -> [JSONValue] {
        schema.fields.map { field -> JSONValue in
            guard writtenWith.field(id: field.id) != nil else { return .null }  // added later: null in older files
            switch field.id {
            case 1: return .string(row.op)
            case 2: return .int(row.id)
            case 3: return row.name.map { .string($0) } ?? .null
            case 4:
                let sign = row.amount < 0 ? "-" : "", magnitude = row.amount.magnitude
                return .string("\(sign)\(magnitude / 100).\(String(format: "%02d", Int(magnitude % 100)))")
            case 5: return .int(row.updated)
            case 6: return .int(Int64(row.born))
            case 7: return .string(row.payload.map { String(format: "%02x", $0) }.joined())
            case 8: return row.tags.map { .array($0.map { $0.map { .string($0) } ?? .null }) } ?? .null
            case 10: return row.qty.map { .int($0) } ?? .null
            case 11: return .string(row.seq)
            case 12: return .int(row.commitTs)
            case 13: return row.note.map { .string($0) } ?? .null
            default: preconditionFailure("no field \(field.id)")
            }
        }
    }

    static func stamp(_ n: Int) -> CommitStamp {
        CommitStamp(timestampMs: 1_764_800_000_000 + Int64(n) * 120_000, snapshotID: 7_000_000_000_000_000 + Int64(n), uuid: UUID())
    }

    static func store(_ commit: IcebergCommit) throws {
        for file in commit.files + [commit.versionHint] {
            try FileManager.default.createDirectory(
                atPath: (file.path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try Data(file.bytes).write(to: URL(fileURLWithPath: file.path))
        }
    }

    /// What pyiceberg's `inspect.files()` should decode from a file's manifest entry.
    static func metrics(_ rows: [Row]) -> JSONValue {
        let count = JSONValue.int(Int64(rows.count))
        func decimal(_ unscaled: Int64) -> JSONValue {
            Self.expected(Row("I", 0, file: 0, position: 0).with(amount: unscaled), in: schemaV0, writtenWith: schemaV0)[3]
        }
        return .object([
            (
                "id",
                .object([
                    ("lower", .int(rows.map(\.id).min()!)), ("upper", .int(rows.map(\.id).max()!)),
                    ("values", count), ("nulls", .int(0)),
                ])
            ),
            (
                "_seq",
                .object([
                    ("lower", .string(rows.map(\.seq).min()!)), ("upper", .string(rows.map(\.seq).max()!)),
                    ("values", count), ("nulls", .int(0)),
                ])
            ),
            (
                "amount",
                .object([
                    ("lower", decimal(rows.map(\.amount).min()!)), ("upper", decimal(rows.map(\.amount).max()!)),
                    ("values", count), ("nulls", .int(0)),
                ])
            ),
            (
                "updated",
                .object([
                    ("lower", .int(rows.map(\.updated).min()!)), ("upper", .int(rows.map(\.updated).max()!)),
                    ("values", count), ("nulls", .int(0)),
                ])
            ),
            (
                "title",
                .object([
                    ("lower", .null), ("upper", .null), ("values", count),
                    ("nulls", .int(Int64(rows.filter { $0.name == nil }.count))),
                ])
            ),
        ])
    }

    /// Writes the expectation next to the table, runs iceberg_read.py on it and returns its report
    /// (nil, with an issue recorded, when a check failed: the folder is then kept).
    static func runReaders(python: String, expectation: JSONValue, root: URL) throws -> String? {
        let expectationPath = root.appendingPathComponent("expected.json")
        try Data(expectation.serialized.utf8).write(to: expectationPath)
        let report = root.appendingPathComponent("report.txt")
        _ = FileManager.default.createFile(atPath: report.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.script, expectationPath.path]
        let handle = try FileHandle(forWritingTo: report)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let text = (try? String(contentsOf: report, encoding: .utf8)) ?? ""
        print(text)
        guard process.terminationStatus == 0 else {
            Issue.record("iceberg_read.py failed (table kept in \(root.path)):\n\(text.suffix(20_000))")
            return nil
        }
        return text
    }

    @Test func readersSeeEveryCommitOfATableBuiltFromOurFiles() throws {
        let python = try TestEnvironment.require("REPLICATORD_TEST_ICEBERG_PYTHON")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-iceberg-\(UUID().uuidString)")
        let location = root.appendingPathComponent("public/orders").path
        try FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)

        // Rows of each file: two LOAD files, a CDC file, then (new layout) a CDC file and a new full load.
        let load1 = (1...5).enumerated().map { Row("I", Int64($1), file: 1, position: $0) }
        let load2 = (6...8).enumerated().map { Row("I", Int64($1), file: 2, position: $0) }
        let cdc1 = [Row("U", 2, file: 3, position: 0), Row("D", 3, file: 3, position: 1), Row("I", 9, file: 3, position: 2)]
        let cdc2 = [Row("I", 10, file: 4, position: 0), Row("U", 6, file: 4, position: 1)]
        let load3 = (1...8).enumerated().map { Row("I", Int64($1), file: 5, position: $0) }

        var table = IcebergTable.create(location: location, schema: Self.schemaV0, tableUUID: UUID(), timestampMs: 1_764_800_000_000)
        try Self.store(table)
        var t = table.table
        let f1 = try Self.writeDataFile("\(location)/LOAD00000001.parquet", load1, schema: Self.schemaV0)
        let f2 = try Self.writeDataFile("\(location)/LOAD00000002.parquet", load2, schema: Self.schemaV0)
        table = try t.append([f1, f2], stamp: Self.stamp(1)); try Self.store(table); t = table.table
        let f3 = try Self.writeDataFile("\(location)/20261204-120000000.parquet", cdc1, schema: Self.schemaV0)
        table = try t.append([f3], stamp: Self.stamp(2)); try Self.store(table); t = table.table
        table = try t.updateSchema(Self.changes, timestampMs: 1_764_800_300_000); try Self.store(table)
        // A restart: the table is continued from what is stored, found through version-hint.text.
        func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
        let hint = try IcebergTable.version(fromHint: try read(IcebergTable.versionHintPath(location: location)))
        t = try IcebergTable.load(
            metadataJSON: try read(IcebergTable.metadataPath(location: location, version: hint)),
            version: hint, read: read)
        #expect(t.version == table.table.version && t.metadata == table.table.metadata)
        #expect(t.liveDataFiles().map(\.path) == table.table.liveDataFiles().map(\.path))
        let schemaV1 = t.metadata.currentSchema
        #expect(schemaV1.fields.map(\.id) == [1, 2, 3, 4, 5, 6, 8, 10, 13, 11, 12])
        let f4 = try Self.writeDataFile("\(location)/20261204-120200000.parquet", cdc2, schema: schemaV1)
        table = try t.append([f4], stamp: Self.stamp(3)); try Self.store(table); t = table.table
        let f5 = try Self.writeDataFile("\(location)/LOAD00000003.parquet", load3, schema: schemaV1)
        table = try t.overwrite(removing: [f1.path, f2.path], adding: [f5], stamp: Self.stamp(4)); try Self.store(table)
        t = table.table
        #expect(t.version == 6)

        func project(_ rows: [Row], _ written: IcebergSchema) -> [JSONValue] {
            rows.map { .array(Self.expected($0, in: schemaV1, writtenWith: written)) }
        }
        func travel(_ rows: [Row]) -> [JSONValue] {
            rows.map { .array([.string($0.op), .int($0.id), .string($0.seq)]) }
        }
        func snapshot(_ n: Int, _ operation: String, _ rows: [Row]) -> JSONValue {
            .object([
                ("id", .int(Self.stamp(n).snapshotID)), ("timestamp_ms", .int(Self.stamp(n).timestampMs)),
                ("operation", .string(operation)), ("rows", .array(travel(rows))),
            ])
        }
        let expectation: [(String, JSONValue)] = [
            ("table_dir", .string(location)),
            ("schema", .array(schemaV1.fields.map { .object([("name", .string($0.name)), ("id", .int(Int64($0.id)))]) })),
            ("current", .array(project(cdc1, Self.schemaV0) + project(cdc2, schemaV1) + project(load3, schemaV1))),
            ("travel_columns", .array([.string("Op"), .string("id"), .string("_seq")])),
            (
                "snapshots",
                .array([
                    snapshot(1, "append", load1 + load2), snapshot(2, "append", load1 + load2 + cdc1),
                    snapshot(3, "append", load1 + load2 + cdc1 + cdc2), snapshot(4, "overwrite", cdc1 + cdc2 + load3),
                ])
            ),
            (
                "parquet_field_ids",
                .object([
                    (f1.path, .object(Self.schemaV0.fields.map { ($0.name, .int(Int64($0.id))) })),
                    (f5.path, .object(schemaV1.fields.map { ($0.name, .int(Int64($0.id))) })),
                ])
            ),
            ("file_metrics", .object([(f3.path, Self.metrics(cdc1)), (f5.path, Self.metrics(load3))])),
            ("check_empty_first_version", .bool(true)),
        ]
        // The metadata's own answer to "as of when" agrees with the snapshots the readers pick.
        for n in 1...4 { #expect(t.metadata.snapshotID(asOf: Self.stamp(n).timestampMs) == Self.stamp(n).snapshotID) }
        guard let text = try Self.runReaders(python: python, expectation: .object(expectation), root: root) else { return }
        for reader in [
            "pyiceberg StaticTable", "pyiceberg SqlCatalog", "DuckDB iceberg_scan(metadata file)",
            "DuckDB iceberg_scan(table folder)", "DuckDB time travel", "polars scan_iceberg", "polars time travel",
        ] {
            #expect(text.contains("ok \(reader)"), "\(reader) checked")
        }
        #expect(text.hasSuffix("all checks passed\n"))
        try? FileManager.default.removeItem(at: root)
    }

    /// Many small appends with manifest merging, a data file without field ids (resolved through
    /// `schema.name-mapping.default`), snapshot expiry and a manifest merge, deleting every file
    /// a commit reports obsolete as soon as its pointer is stored: every reader still opens the
    /// table, the retained snapshots are the ones expected, and the metadata stays bounded.
    @Test func housekeepingKeepsTheTableReadableAndBounded() throws {
        let python = try TestEnvironment.require("REPLICATORD_TEST_ICEBERG_PYTHON")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-iceberg-\(UUID().uuidString)")
        let location = root.appendingPathComponent("public/events").path
        try FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)
        let schema = IcebergSchema.assigningIDs([("Op", .string, false), ("id", .long, false), ("_seq", .string, false)])
        var commit = IcebergTable.create(
            location: location, schema: schema, tableUUID: UUID(), timestampMs: 1_764_800_000_000,
            properties: [
                (IcebergTable.minCountToMergeKey, "4"),
                (IcebergTable.previousVersionsMaxKey, "3"),
                (IcebergTable.avroCodecKey, "uncompressed"),
            ])  // the null codec
        var deleted: [String] = []
        func apply(_ c: IcebergCommit) throws {
            try Self.store(c)
            for path in c.obsoleteMetadataFiles {
                try FileManager.default.removeItem(atPath: path)
                deleted.append(path)
            }
            commit = c
        }
        try apply(commit)
        var rowsByFile: [[Row]] = []
        for n in 1...8 {
            let rows = [Row(n % 2 == 0 ? "U" : "I", Int64(2 * n), file: n, position: 0), Row("I", Int64(2 * n + 1), file: n, position: 1)]
            rowsByFile.append(rows)
            let path = "\(location)/2026120\(n)-000000000.parquet"
            // The last file is written without field ids: readers map its columns by name.
            let parquet =
                n == 8
                ? ParquetSchema([
                    ParquetColumn(name: "Op", type: .string), ParquetColumn(name: "id", type: .int64),
                    ParquetColumn(name: "_seq", type: .string),
                ])
                : Self.parquetSchema(schema)
            let sink = try ParquetFileSink(path: path)
            let writer = try ParquetWriter(schema: parquet, sink: sink)
            for row in rows { try writer.appendRow([.string(row.op), .int64(row.id), .string(row.seq)]) }
            try writer.close()
            try sink.close()
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
            var file = DataFile(path: path, recordCount: 2, fileSizeInBytes: Int64(size))
            file.lowerBounds = [2: .long(rows[0].id)]
            file.upperBounds = [2: .long(rows[1].id)]
            try apply(try commit.table.append([file], stamp: Self.stamp(n)))
        }
        // Merging at 4 manifests: appends 4 and 7 folded everything into one.
        #expect(commit.table.manifestLists[Self.stamp(8).snapshotID]?.count == 2)
        #expect(commit.table.manifestLists[Self.stamp(7).snapshotID]?.count == 1)
        let expired = try #require(
            commit.table.expireSnapshots(
                olderThanMs: Self.stamp(6).timestampMs,
                timestampMs: Self.stamp(8).timestampMs + 1))
        try apply(expired)
        #expect(expired.unreferencedDataFiles.isEmpty)  // an append-only change log: every file is still live
        try apply(try #require(try commit.table.mergeManifests(stamp: Self.stamp(9))))
        #expect(commit.table.manifestLists[Self.stamp(9).snapshotID]?.count == 1)
        // A cycle committed but (say) not checkpointed is rolled back: snapshot 10 stays listed,
        // the table's current state is snapshot 9 again.
        let extra = [Row("I", 99, file: 9, position: 0)]
        let extraPath = "\(location)/20261209-000000000.parquet"
        let extraSink = try ParquetFileSink(path: extraPath)
        let extraWriter = try ParquetWriter(schema: Self.parquetSchema(schema), sink: extraSink)
        try extraWriter.appendRow([.string("I"), .int64(99), .string(extra[0].seq)])
        try extraWriter.close()
        try extraSink.close()
        let extraSize = try FileManager.default.attributesOfItem(atPath: extraPath)[.size] as! Int
        try apply(
            try commit.table.append(
                [DataFile(path: extraPath, recordCount: 1, fileSizeInBytes: Int64(extraSize))],
                stamp: Self.stamp(10), summary: [("replicatord.cycle", "10")]))
        try apply(try commit.table.rollback(to: Self.stamp(9).snapshotID, timestampMs: Self.stamp(10).timestampMs + 1))
        #expect(commit.table.metadata.currentSnapshotID == Self.stamp(9).snapshotID)

        let metadataFiles = try FileManager.default.contentsOfDirectory(atPath: "\(location)/metadata")
        #expect(metadataFiles.filter { $0.hasSuffix(".metadata.json") }.count == 4)  // current + previous-versions-max
        // Manifest lists of snapshots 6...10 and the manifests they use: nothing else is left.
        let referenced = Set(commit.table.metadata.snapshots.map(\.manifestList) + commit.table.manifests.keys)
        #expect(Set(metadataFiles.filter { $0.hasSuffix(".avro") }.map { "\(location)/metadata/\($0)" }) == referenced)
        #expect(!deleted.isEmpty)

        func travel(_ rows: [Row]) -> [JSONValue] { rows.map { .array([.string($0.op), .int($0.id), .string($0.seq)]) } }
        let all = rowsByFile.flatMap { $0 }
        let expectation: JSONValue = .object([
            ("table_dir", .string(location)),
            ("schema", .array(schema.fields.map { .object([("name", .string($0.name)), ("id", .int(Int64($0.id)))]) })),
            ("current", .array(travel(all))),
            ("travel_columns", .array([.string("Op"), .string("id"), .string("_seq")])),
            (
                "snapshots",
                .array(
                    (6...10).map { n in
                        .object([
                            ("id", .int(Self.stamp(n).snapshotID)), ("operation", .string(n == 9 ? "replace" : "append")),
                            ("rows", .array(travel(rowsByFile.prefix(min(n, 8)).flatMap { $0 } + (n == 10 ? extra : [])))),
                        ])
                    })
            ),
            ("parquet_field_ids", .object([("\(location)/20261208-000000000.parquet", .object([]))])),
        ])
        guard let text = try Self.runReaders(python: python, expectation: expectation, root: root) else { return }
        #expect(text.hasSuffix("all checks passed\n"))
        try? FileManager.default.removeItem(at: root)
    }
}
