import Replication
import Foundation
import PGClient
import Testing

/// The CI form of the fault harness (`scripts/chaos.py`, README "Proof under faults"): replicatord in
/// service mode is killed with SIGKILL at least five times (during the full load and in the middle of
/// multipart uploads among them), PostgreSQL restarts under it (`-m fast` and `-m immediate`), the
/// store answers 503 SlowDown, resets connections, slows down and refuses everything for a while,
/// and the spool disk fills up, while a workload makes counted changes. Then a final `--once`: every
/// table rebuilt from the store equals the source row by row, the CDC files hold exactly as many
/// rows as changes were made, and no multipart upload is left open.
///
/// The harness restarts PostgreSQL, so it makes a cluster of its own (`--own-cluster`) instead of
/// the test bed's, which the other suites use at the same time; the store is the test bed's
/// moto_server (a bucket of its own).
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_S3_ENDPOINT", "REPLICATORD_TEST_PYTHON")))
struct ChaosIntegrationTests {
    @Test(.timeLimit(.minutes(10)))
    func replicationSurvivesKillsRestartsStoreFaultsAndAFullDiskWithNothingLostOrDoubled() async throws {
        try await DedicatedThread.run(name: "test") { try self.chaos() }
    }

    func chaos() throws {
        let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        _ = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/chaos.py").path
        let output: String
        do {
            output = try TestEnvironment.run(
                python,
                [
                    script, "--binary", CrashRecoveryIntegrationTests.binary, "--own-cluster",
                    "--minutes", "2.5", "--kills", "5",
                ])
        } catch let failed as TestEnvironment.ProcessFailed {
            Issue.record("the chaos run failed:\n\(failed.stderr.suffix(6000))")
            return
        }
        let summaryLine = output.split(separator: "\n").last { $0.hasPrefix("chaos summary json: ") }
        let json = try #require(summaryLine.map { String($0.dropFirst("chaos summary json: ".count)) }, "no summary in:\n\(output.suffix(4000))")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        print(output.split(separator: "\n").drop { !$0.hasPrefix("chaos summary (") }.joined(separator: "\n"))
        #expect(summary["mismatches"] as? Int == 0)
        #expect(summary["duplicates"] as? Int == 0)
        #expect(summary["lost"] as? Int == 0)
        #expect(summary["open_multipart_uploads"] as? Int == 0)
        #expect(summary["secret_in_output"] as? Bool == false)
        #expect((summary["kills"] as? Int ?? 0) >= 5)
        #expect((summary["changes_made"] as? Int ?? 0) > 0)
        #expect(summary["cdc_rows"] as? Int == summary["changes_made"] as? Int)
        let restarts = summary["pg_restarts"] as? [String: Int] ?? [:]
        #expect(restarts["fast"] ?? 0 >= 1 && restarts["immediate"] ?? 0 >= 1)
    }
}
