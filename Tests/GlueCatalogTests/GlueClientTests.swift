import AWSRequests
import AWSTestSupport
import Foundation
import Logging
import Synchronization
import Testing
@testable import GlueCatalog

@Suite struct GlueClientTests {
    func client(_ script: ScriptedTransport) throws -> GlueClient {
        GlueClient(
            service: try AWSServiceClient(
                service: "glue", region: "us-east-1", endpoint: "http://127.0.0.1:1",
                credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "AK", secretAccessKey: "SK")),
                retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(1), totalDeadline: .seconds(3600)),
                logger: Logger(label: "t"), transport: script))
    }

    @Test func createTableSendsTheTableInputAsGlueNamesIt() async throws {
        let script = ScriptedTransport([])
        let table = GlueTable.parquet(
            name: "public_orders_changes", columns: [.init(name: "op", type: "string"), .init(name: "id", type: "bigint")],
            location: "s3://b/p/public/orders/")
        try await client(script).createTable(database: "lake", table)
        #expect(script.target(0) == "AWSGlue.CreateTable")
        let body = try script.json(0)
        #expect(body["DatabaseName"] as? String == "lake")
        let input = try #require(body["TableInput"] as? [String: Any])
        #expect(input["Name"] as? String == "public_orders_changes")
        #expect(input["TableType"] as? String == "EXTERNAL_TABLE")
        #expect((input["Parameters"] as? [String: String])?["classification"] == "parquet")
        #expect(input["VersionId"] == nil)
        let storage = try #require(input["StorageDescriptor"] as? [String: Any])
        #expect(storage["Location"] as? String == "s3://b/p/public/orders/")
        #expect(storage["InputFormat"] as? String == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
        #expect(
            (storage["SerdeInfo"] as? [String: Any])?["SerializationLibrary"] as? String
                == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
        #expect((storage["Columns"] as? [[String: String]]) == [["Name": "op", "Type": "string"], ["Name": "id", "Type": "bigint"]])
    }

    @Test func getTableReadsTheAnswerAndItsVersion() async throws {
        let answer = """
            {"Table":{"Name":"t","DatabaseName":"lake","VersionId":"7","TableType":"EXTERNAL_TABLE","CreateTime":1.7E9,
             "Parameters":{"table_type":"ICEBERG","metadata_location":"s3://b/t/metadata/v3.metadata.json"},
             "StorageDescriptor":{"Columns":[{"Name":"id","Type":"bigint"}],"Location":"s3://b/t/"}}}
            """
        let script = ScriptedTransport([HTTPResponse(status: 200, body: Array(answer.utf8))])
        let table = try #require(try await client(script).getTable(database: "lake", name: "t"))
        #expect(table.versionId == "7")
        #expect(table.parameters["metadata_location"] == "s3://b/t/metadata/v3.metadata.json")
        #expect(table.columns == [.init(name: "id", type: "bigint")])
        #expect(table.location == "s3://b/t/")
    }

    @Test func missingTableIsNilAndMissingDatabaseIsCreated() async throws {
        let script = ScriptedTransport([
            awsErrorAnswer(400, "EntityNotFoundException"), awsErrorAnswer(400, "EntityNotFoundException"),
            HTTPResponse(status: 200, body: Array("{}".utf8)),
        ])
        let c = try client(script)
        #expect(try await c.getTable(database: "lake", name: "t") == nil)
        try await c.ensureDatabase("lake")
        #expect(script.target(1) == "AWSGlue.GetDatabase")
        #expect(script.target(2) == "AWSGlue.CreateDatabase")
        #expect((try script.json(2)["DatabaseInput"] as? [String: Any])?["Name"] as? String == "lake")
    }

    @Test func updateTableCarriesTheVersionReadForGluesOptimisticCheck() async throws {
        let script = ScriptedTransport([awsErrorAnswer(400, "ConcurrentModificationException", "Update table failed due to concurrent modifications")])
        let table = GlueTable.iceberg(
            name: "t", columns: [], location: "s3://b/t/", metadataLocation: "s3://b/t/metadata/v2.metadata.json",
            previousMetadataLocation: "s3://b/t/metadata/v1.metadata.json")
        await #expect { try await client(script).updateTable(database: "lake", table, expectedVersion: "4") } throws: {
            ($0 as? GlueError)?.code == .concurrentModification
        }
        let body = try script.json(0)
        #expect(body["VersionId"] as? String == "4")
        #expect(body["SkipArchive"] as? Bool == true)
        #expect(((body["TableInput"] as? [String: Any])?["Parameters"] as? [String: String])?["table_type"] == "ICEBERG")
        #expect(script.sent.withLock { $0.count } == 1)  // a conflict is the caller's to resolve, not retried here
    }

    @Test func errorsAreTypedAndSayWhatWasRefused() async throws {
        let script = ScriptedTransport([
            awsErrorAnswer(400, "AccessDeniedException", "User is not authorized to perform: glue:CreateDatabase"),
            awsErrorAnswer(400, "AlreadyExistsException"), awsErrorAnswer(400, "InvalidInputException"),
        ])
        let c = try client(script)
        do {
            try await c.createDatabase("lake")
            Issue.record("no error")
        } catch let e as GlueError {
            #expect(e.code == .accessDenied)
            #expect(e.description.contains("glue:CreateDatabase"))
            #expect(!e.description.contains("\n"))
        }
        await #expect { try await c.createDatabase("lake") } throws: { ($0 as? GlueError)?.code == .alreadyExists }
        await #expect { try await c.createDatabase("lake") } throws: { ($0 as? GlueError)?.code == .invalidInput }
    }

    @Test func getTablesFollowsEveryPage() async throws {
        let script = ScriptedTransport([
            HTTPResponse(status: 200, body: Array(#"{"TableList":[{"Name":"a"}],"NextToken":"n1"}"#.utf8)),
            HTTPResponse(status: 200, body: Array(#"{"TableList":[{"Name":"b"}]}"#.utf8)),
        ])
        #expect(try await client(script).getTables(database: "lake").map(\.name) == ["a", "b"])
        #expect(try script.json(1)["NextToken"] as? String == "n1")
    }

    @Test func createPartitionsSendsAtMostAHundredACallAndKeepsThoseThatExist() async throws {
        let table = GlueTable.parquet(
            name: "t_cdc", columns: [.init(name: "id", type: "int")], location: "s3://b/p/s/t/",
            partitionKeys: [.init(name: "year", type: "string")])
        let partitions = (0..<250).map { GluePartition(of: table, values: ["\(1000 + $0)"], location: "s3://b/p/s/t/\(1000 + $0)/") }
        let exists = HTTPResponse(
            status: 200, body: Array(#"{"Errors":[{"PartitionValues":["1000"],"ErrorDetail":{"ErrorCode":"AlreadyExistsException","ErrorMessage":"m"}}]}"#.utf8)
        )
        let script = ScriptedTransport([exists])
        try await client(script).createPartitions(database: "lake", table: "t_cdc", partitions)
        #expect(script.sent.withLock { $0.count } == 3)
        #expect(script.target(0) == "AWSGlue.BatchCreatePartition")
        let first = try script.json(0)
        #expect(first["TableName"] as? String == "t_cdc")
        let inputs = try #require(first["PartitionInputList"] as? [[String: Any]])
        #expect(inputs.count == 100)
        #expect(inputs[0]["Values"] as? [String] == ["1000"])
        let storage = try #require(inputs[0]["StorageDescriptor"] as? [String: Any])
        #expect(storage["Location"] as? String == "s3://b/p/s/t/1000/")
        #expect((storage["Columns"] as? [[String: String]])?.first?["Name"] == "id")
        #expect((storage["SerdeInfo"] as? [String: Any])?["SerializationLibrary"] as? String == GlueTable.parquetSerDe)
        #expect((try script.json(2)["PartitionInputList"] as? [[String: Any]])?.count == 50)
    }

    @Test func aRefusedPartitionThrowsNamingIt() async throws {
        let table = GlueTable.parquet(name: "t_cdc", columns: [], location: "s3://b/t/", partitionKeys: [.init(name: "year", type: "string")])
        let refused = HTTPResponse(
            status: 200, body: Array(#"{"Errors":[{"PartitionValues":["2026"],"ErrorDetail":{"ErrorCode":"AccessDeniedException","ErrorMessage":"no"}}]}"#.utf8)
        )
        do {
            try await client(ScriptedTransport([refused])).createPartitions(
                database: "lake", table: "t_cdc", [GluePartition(of: table, values: ["2026"], location: "s3://b/t/2026/")])
            Issue.record("a refused partition was not an error")
        } catch let e as GlueError {
            #expect(e.code == .accessDenied)
            #expect(e.description.contains("lake.t_cdc (2026)"))
            #expect(e.description.contains("AccessDeniedException"))
        }
    }

    @Test func partitionKeysAndPartitionsReadBack() async throws {
        let table = GlueTable.parquet(
            name: "t_cdc", columns: [.init(name: "id", type: "int")], location: "s3://b/t/",
            partitionKeys: [.init(name: "year", type: "string"), .init(name: "month", type: "string")])
        let decoded = try JSONDecoder().decode(GlueTable.self, from: JSONEncoder().encode(table))
        #expect(decoded == table)
        let partition = GluePartition(of: table, values: ["2026", "11"], location: "s3://b/t/2026/11/")
        let page = try JSONSerialization.data(withJSONObject: ["Partitions": [try JSONSerialization.jsonObject(with: JSONEncoder().encode(partition))]])
        #expect(
            try await client(ScriptedTransport([HTTPResponse(status: 200, body: Array(page))])).getPartitions(database: "lake", table: "t_cdc") == [partition])
    }
}
