import AWSRequests
import AWSTestSupport
import Foundation
import GlueCatalog
import Logging
import ObjectStore
import Replication
import Synchronization
import Testing
@testable import Daemon

@Suite struct GlueCatalogSyncTests {
    func sync(_ glue: ScriptedTransport, iceberg: Bool = false) throws -> GlueCatalogSync {
        var settings = EngineSettings(conninfo: "", publication: "p", slot: "s")
        settings.iceberg = iceberg
        settings.icebergLocation = "s3://bucket/lake"
        let target = GlueCatalogSync.Target(database: "lake", region: "us-east-1", endpoint: "http://127.0.0.1:1", caFile: nil)
        settings.glue = target
        let service = try AWSServiceClient(
            service: "glue", region: "us-east-1", endpoint: target.endpoint,
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "A", secretAccessKey: "S")),
            retry: .none, logger: Logger(label: "t"), transport: glue)
        return GlueCatalogSync(target: target, client: GlueClient(service: service), settings: settings, logger: Logger(label: "t"))
    }

    func layout(_ columns: [(String, ColumnKind)]) -> [ParquetTableWriter.Column] {
        ParquetTableWriter.columns(names: columns.map(\.0), kinds: columns.map(\.1), nullable: true)
    }

    @Test func columnsFollowTheNewestLayoutKeepDroppedOnesAndEndWithReplicatordsColumns() throws {
        let s = try sync(ScriptedTransport([]))
        let old = layout([("ID", .int64), ("note", .text)])
        let new = layout([("ID", .int64), ("note", .int32), ("added", .date)])
        let existing = [GlueTable.Column(name: "gone", type: "string")]
        let names = s.columns([old, new], keeping: existing).map { "\($0.name) \($0.type)" }
        #expect(
            names == [
                "op string", "id bigint", "note int", "added date", "gone string", "_seq string", "_commit_ts timestamp",
                "_unchanged_toast string",
            ])
    }

    @Test func anUnchangedTableIsNotUpdated() async throws {
        let s = try sync(ScriptedTransport([]))
        let columns = s.columns([layout([("id", .int64)])], keeping: [])
        let current = GlueTable.parquet(name: "public_t_changes", columns: columns, location: "s3://bucket/lake/public/t/")
        let answer = try JSONEncoder().encode(["Table": current])
        let glue = ScriptedTransport([HTTPResponse(status: 200, body: Array("{}".utf8)), HTTPResponse(status: 200, body: Array(answer))])
        try await sync(glue).declare([.init(schema: "public", name: "t", layouts: [layout([("id", .int64)])])])
        #expect(glue.targets == ["AWSGlue.GetDatabase", "AWSGlue.GetTable"])
    }

    @Test func aNewColumnUpdatesTheTableAtTheVersionRead() async throws {
        let s = try sync(ScriptedTransport([]))
        var current = GlueTable.parquet(
            name: "public_t_changes", columns: s.columns([layout([("id", .int64)])], keeping: []),
            location: "s3://bucket/lake/public/t/")
        current.versionId = "3"
        let answer = try JSONEncoder().encode(["Table": current]).withVersion("3")
        let glue = ScriptedTransport([HTTPResponse(status: 200, body: Array("{}".utf8)), HTTPResponse(status: 200, body: answer)])
        try await sync(glue).declare([.init(schema: "public", name: "t", layouts: [layout([("id", .int64), ("v", .text)])])])
        #expect(glue.targets == ["AWSGlue.GetDatabase", "AWSGlue.GetTable", "AWSGlue.UpdateTable"])
        let update = try glue.json(2)
        #expect(update["VersionId"] as? String == "3")
        let columns = ((update["TableInput"] as? [String: Any])?["StorageDescriptor"] as? [String: Any])?["Columns"] as? [[String: String]]
        #expect(columns?.map { $0["Name"] ?? "" } == ["op", "id", "v", "_seq", "_commit_ts", "_unchanged_toast"])
    }

    @Test func dateFoldersGetAPartitionedCDCTableAndEachFolderIsDeclaredOnce() async throws {
        let notFound = HTTPResponse(status: 400, body: Array(#"{"__type":"EntityNotFoundException","Message":"m"}"#.utf8))
        let ok = HTTPResponse(status: 200, body: Array("{}".utf8))
        let glue = ScriptedTransport([ok, notFound, ok, ok])
        let s = try sync(glue)
        let declared = GlueCatalogSync.DeclaredPartitions()
        let table = GlueCatalogSync.TableLayouts(schema: "public", name: "t", layouts: [layout([("id", .int64)])])
        try await s.declareDateFolders([(table, ["2026/11/24/"])], partition: DatePartition(), declared: declared)
        #expect(glue.targets == ["AWSGlue.GetDatabase", "AWSGlue.GetTable", "AWSGlue.CreateTable", "AWSGlue.BatchCreatePartition"])
        let input = try #require(try glue.json(2)["TableInput"] as? [String: Any])
        #expect(input["Name"] as? String == "public_t_cdc")
        #expect((input["PartitionKeys"] as? [[String: String]])?.map { $0["Name"] ?? "" } == ["year", "month", "day"])
        #expect((input["StorageDescriptor"] as? [String: Any])?["Location"] as? String == "s3://bucket/lake/public/t/")
        let partition = try #require((try glue.json(3)["PartitionInputList"] as? [[String: Any]])?.first)
        #expect(partition["Values"] as? [String] == ["2026", "11", "24"])
        #expect((partition["StorageDescriptor"] as? [String: Any])?["Location"] as? String == "s3://bucket/lake/public/t/2026/11/24/")

        // The same folder again: the table is read (its columns may change), the partition is not asked for.
        let created = GlueTable.parquet(
            name: "public_t_cdc", columns: s.columns(table.layouts, keeping: []), location: "s3://bucket/lake/public/t/",
            partitionKeys: DatePartition().columnNames.map { .init(name: $0, type: "string") })
        let again = ScriptedTransport([ok, HTTPResponse(status: 200, body: Array(try JSONEncoder().encode(["Table": created])))])
        try await sync(again).declareDateFolders([(table, ["2026/11/24/"])], partition: DatePartition(), declared: declared)
        #expect(again.targets == ["AWSGlue.GetDatabase", "AWSGlue.GetTable"])
    }

    @Test func anotherTablesGlueTableOfTheSameNameIsLeftAlone() async throws {
        let other = GlueTable.parquet(name: "public_t_changes", columns: [], location: "s3://elsewhere/t/")
        let glue = ScriptedTransport([
            HTTPResponse(status: 200, body: Array("{}".utf8)),
            HTTPResponse(status: 200, body: Array(try JSONEncoder().encode(["Table": other]))),
        ])
        try await sync(glue).declare([.init(schema: "public", name: "t", layouts: [layout([("id", .int64)])])])
        #expect(glue.targets == ["AWSGlue.GetDatabase", "AWSGlue.GetTable"])
    }

    @Test func icebergPointerConflictIsReadAgainAndRetriedAtTheNewVersion() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("glue-sync-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try LocalDirectoryStore(root: root, logger: Logger(label: "t"))
        _ = try await store.put(key: "public/t/metadata/version-hint.text", bytes: Array("2".utf8), contentType: "text/plain")
        func table(version: String) throws -> [UInt8] {
            var t = GlueTable.iceberg(
                name: "public_t_changes", columns: [], location: "s3://bucket/lake/public/t/",
                metadataLocation: "s3://bucket/lake/public/t/metadata/v1.metadata.json", previousMetadataLocation: nil)
            t.versionId = version
            return try JSONEncoder().encode(["Table": t]).withVersion(version)
        }
        let conflict = HTTPResponse(status: 400, body: Array(#"{"__type":"ConcurrentModificationException","message":"changed"}"#.utf8))
        let glue = ScriptedTransport([
            HTTPResponse(status: 200, body: Array("{}".utf8)), HTTPResponse(status: 200, body: try table(version: "1")),
            conflict, HTTPResponse(status: 200, body: try table(version: "2")), HTTPResponse(status: 200, body: Array("{}".utf8)),
        ])
        let t = GlueCatalogSync.TableLayouts(schema: "public", name: "t", layouts: [layout([("id", .int64)])])
        try await sync(glue, iceberg: true).advanceIceberg(folders: [(t, "public/t/")], store: store)
        #expect(glue.targets == ["AWSGlue.GetDatabase", "AWSGlue.GetTable", "AWSGlue.UpdateTable", "AWSGlue.GetTable", "AWSGlue.UpdateTable"])
        #expect(try glue.json(2)["VersionId"] as? String == "1")
        let retried = try glue.json(4)
        #expect(retried["VersionId"] as? String == "2")
        let parameters = (retried["TableInput"] as? [String: Any])?["Parameters"] as? [String: String]
        #expect(parameters?["metadata_location"] == "s3://bucket/lake/public/t/metadata/v2.metadata.json")
        #expect(parameters?["previous_metadata_location"] == "s3://bucket/lake/public/t/metadata/v1.metadata.json")
        #expect(parameters?["table_type"] == "ICEBERG")
    }
}

private extension Data {
    /// A GetTable answer as Glue sends it: the table's `VersionId` beside its `TableInput` members.
    func withVersion(_ version: String) -> [UInt8] {
        var text = String(decoding: self, as: UTF8.self)
        text = text.replacingOccurrences(of: "{\"Table\":{", with: "{\"Table\":{\"VersionId\":\"\(version)\",")
        return Array(text.utf8)
    }
}
