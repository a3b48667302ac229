import AWSRequests
import Foundation
import Logging

/// The AWS Glue Data Catalog operations replicatord uses, over the JSON 1.1 protocol
/// (https://docs.aws.amazon.com/glue/latest/webapi/API_Operations.html; `X-Amz-Target: AWSGlue.<Operation>`),
/// signed with SigV4 for service `glue` and retried as the S3 client retries. Failures are `GlueError`.
public struct GlueClient: Sendable {
    let service: AWSServiceClient

    /// A client for Glue in `region`; `endpoint` (empty or nil: `https://glue.<region>.amazonaws.com`)
    /// points it at a Glue-compatible endpoint.
    public init(
        region: String, endpoint: String?, credentials: any CredentialsProvider = DefaultCredentialsChain(),
        retry: RetryPolicy = RetryPolicy(), caFile: String? = nil, logger: Logger
    ) throws {
        service = try AWSServiceClient(
            service: "glue", region: region, endpoint: endpoint, credentials: credentials,
            retry: retry, caFile: caFile, logger: logger)
    }

    /// A client over `service` (tests give it a scripted transport).
    package init(service: AWSServiceClient) {
        self.service = service
    }

    // MARK: Databases

    /// CreateDatabase; `.alreadyExists` when it exists.
    public func createDatabase(_ name: String, description: String? = nil) async throws {
        struct DatabaseInput: Encodable { var Name: String; var Description: String? }
        struct Request: Encodable { var DatabaseInput: DatabaseInput }
        _ = try await call("CreateDatabase", entity: name, Request(DatabaseInput: .init(Name: name, Description: description)))
    }

    /// GetDatabase: whether it exists (nil on `.entityNotFound`, its name otherwise).
    public func databaseExists(_ name: String) async throws -> Bool {
        struct Request: Encodable { var Name: String }
        do {
            _ = try await call("GetDatabase", entity: name, Request(Name: name))
            return true
        } catch let e as GlueError where e.code == .entityNotFound {
            return false
        }
    }

    /// The database, created unless it exists.
    public func ensureDatabase(_ name: String, description: String? = nil) async throws {
        if try await databaseExists(name) { return }
        do {
            try await createDatabase(name, description: description)
        } catch let e as GlueError where e.code == .alreadyExists {
            return
        }
    }

    // MARK: Tables

    /// GetTable: the table with its `versionId`, nil when there is none.
    public func getTable(database: String, name: String) async throws -> GlueTable? {
        struct Request: Encodable { var DatabaseName: String; var Name: String }
        struct Response: Decodable { var Table: GlueTable }
        do {
            let body = try await call("GetTable", entity: "\(database).\(name)", Request(DatabaseName: database, Name: name))
            return try decode(Response.self, body, operation: "GetTable", entity: "\(database).\(name)").Table
        } catch let e as GlueError where e.code == .entityNotFound {
            return nil
        }
    }

    /// GetTables over all pages: every table of `database`.
    public func getTables(database: String) async throws -> [GlueTable] {
        struct Request: Encodable { var DatabaseName: String; var NextToken: String? }
        struct Response: Decodable { var TableList: [GlueTable]?; var NextToken: String? }
        var out: [GlueTable] = []
        var token: String?
        repeat {
            let body = try await call("GetTables", entity: database, Request(DatabaseName: database, NextToken: token))
            let page = try decode(Response.self, body, operation: "GetTables", entity: database)
            out += page.TableList ?? []
            token = page.NextToken.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return out
    }

    /// CreateTable; `.alreadyExists` when a table of that name exists.
    public func createTable(database: String, _ table: GlueTable) async throws {
        struct Request: Encodable { var DatabaseName: String; var TableInput: GlueTable }
        _ = try await call("CreateTable", entity: "\(database).\(table.name)", Request(DatabaseName: database, TableInput: table))
    }

    /// UpdateTable to `table`. With `expectedVersion` (the `versionId` read), Glue refuses the update
    /// with `.concurrentModification` when another writer changed the table since: Glue's optimistic
    /// check. `SkipArchive` keeps Glue from storing a table version per update.
    public func updateTable(database: String, _ table: GlueTable, expectedVersion: String?) async throws {
        struct Request: Encodable { var DatabaseName: String; var TableInput: GlueTable; var VersionId: String?; var SkipArchive: Bool }
        _ = try await call(
            "UpdateTable", entity: "\(database).\(table.name)",
            Request(DatabaseName: database, TableInput: table, VersionId: expectedVersion, SkipArchive: true))
    }

    /// DeleteTable; a table already gone is not an error.
    public func deleteTable(database: String, name: String) async throws {
        struct Request: Encodable { var DatabaseName: String; var Name: String }
        do {
            _ = try await call("DeleteTable", entity: "\(database).\(name)", Request(DatabaseName: database, Name: name))
        } catch let e as GlueError where e.code == .entityNotFound {
            return
        }
    }

    // MARK: Partitions

    /// BatchCreatePartition, 100 partitions a call (Glue's limit): partitions that exist already are
    /// left as they are; any other refused entry throws, naming the partition.
    public func createPartitions(database: String, table: String, _ partitions: [GluePartition]) async throws {
        struct Request: Encodable { var DatabaseName: String; var TableName: String; var PartitionInputList: [GluePartition] }
        struct Response: Decodable {
            struct Failure: Decodable {
                struct Detail: Decodable { var ErrorCode: String?; var ErrorMessage: String? }
                var PartitionValues: [String]?
                var ErrorDetail: Detail?
            }
            var Errors: [Failure]?
        }
        let entity = "\(database).\(table)"
        var start = 0
        while start < partitions.count {
            let chunk = Array(partitions[start..<min(start + Self.partitionsPerCall, partitions.count)])
            start += chunk.count
            let body = try await call("BatchCreatePartition", entity: entity, Request(DatabaseName: database, TableName: table, PartitionInputList: chunk))
            let refused = (try decode(Response.self, body, operation: "BatchCreatePartition", entity: entity).Errors ?? [])
                .filter { $0.ErrorDetail?.ErrorCode != "AlreadyExistsException" }
            if let first = refused.first {
                let code = first.ErrorDetail?.ErrorCode ?? "UnknownError"
                throw GlueError(
                    operation: "BatchCreatePartition", entity: "\(entity) (\((first.PartitionValues ?? []).joined(separator: "/")))",
                    AWSServiceError(
                        code.hasPrefix("AccessDenied") ? .accessDenied : .rejected, "\(code): \(first.ErrorDetail?.ErrorMessage ?? "no message")",
                        service: "glue", operation: "BatchCreatePartition", awsCode: code))
            }
        }
    }

    /// Partitions one BatchCreatePartition call takes at most.
    static let partitionsPerCall = 100

    /// GetPartitions over all pages: every partition of `table`.
    public func getPartitions(database: String, table: String) async throws -> [GluePartition] {
        struct Request: Encodable { var DatabaseName: String; var TableName: String; var NextToken: String? }
        struct Response: Decodable { var Partitions: [GluePartition]?; var NextToken: String? }
        let entity = "\(database).\(table)"
        var out: [GluePartition] = []
        var token: String?
        repeat {
            let body = try await call("GetPartitions", entity: entity, Request(DatabaseName: database, TableName: table, NextToken: token))
            let page = try decode(Response.self, body, operation: "GetPartitions", entity: entity)
            out += page.Partitions ?? []
            token = page.NextToken.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return out
    }

    // MARK: Requests

    /// The JSON body of a request (`nil` members left out, as Glue wants).
    static func body(_ request: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(request))
    }

    func call(_ operation: String, entity: String, _ request: some Encodable) async throws -> [UInt8] {
        do {
            return try await service.callJSON(
                targetPrefix: "AWSGlue", operation: operation, jsonVersion: "1.1",
                body: Self.body(request))
        } catch let e as AWSServiceError {
            throw GlueError(operation: operation, entity: entity, e)
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], operation: String, entity: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw GlueError(
                operation: operation, entity: entity,
                AWSServiceError(.malformedResponse, "unreadable answer: \(error)", service: "glue", operation: operation))
        }
    }
}
