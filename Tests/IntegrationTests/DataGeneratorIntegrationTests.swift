import Replication
import Foundation
import Logging
import ObjectStore
import PGClient
import Testing
@testable import Daemon

/// The data generator makes changes; the CDC files hold exactly those changes, op by op.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct DataGeneratorIntegrationTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("replicatord-datagen").path

    @Test func cdcFilesHoldExactlyTheChangesTheGeneratorMade() async throws {
        try await withPostgres("datagen") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let generate: @Sendable (Int) throws -> [String: Int] = { count in
                let out = try TestEnvironment.run(
                    Self.binary,
                    [
                        "--conninfo", db.conninfo, "--initial-rows", "2000", "--rate", "0", "--seed", "7",
                        "--publication", "replicatord",
                    ] + (count == 0 ? ["--setup-only"] : ["--count", "\(count)"]))
                let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] ?? [:]
                return json.compactMapValues { $0 as? Int }
            }
            _ = try await DedicatedThread.run(name: "datagen") { try generate(0) }  // tables and publication only
            let settings = EngineSettings(conninfo: db.conninfo, publication: "replicatord", slot: db.database)
            let engine = Engine(
                settings: settings, store: try ObjectStoreLocation(url: "file://\(dir)").makeStore(logger: Logger(label: "test")),
                logger: Logger(label: "test"))
            _ = try await engine.runCycle()
            let made = try await DedicatedThread.run(name: "datagen") { try generate(500) }
            #expect((made["inserts"] ?? 0) + (made["updates"] ?? 0) + (made["deletes"] ?? 0) > 400)
            _ = try await engine.runCycle()
            let stats = try #require(await engine.keeper.state?.tables["public.orders"])
            #expect(stats.inserts == Int64(made["inserts"] ?? -1))
            #expect(stats.updates == Int64(made["updates"] ?? -1))
            #expect(stats.deletes == Int64(made["deletes"] ?? -1))
            let result = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: ["public.orders", "public.customers"])
            #expect(result.allOK, "\(result)")
        }
    }
}
