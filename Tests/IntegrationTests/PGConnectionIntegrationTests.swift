import Replication
import PGClient
import Testing

@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG")), .serialized)
struct PGConnectionIntegrationTests {
    @Test func connectionErrorsNeverShowThePassword() async throws {
        try await DedicatedThread.run(name: "test") {
            do {
                _ = try PGConnection(conninfo: "host=127.0.0.1 port=1 dbname=x user=u password=s3cr3t-value connect_timeout=2")
                Issue.record("connected to port 1")
            } catch let error as PGError {
                #expect(error.code == .connectionFailed)
                #expect(!error.description.contains("s3cr3t-value"), "\(error)")
                #expect(error.description.contains("port=1"))
            }
            #expect(try ConnInfo.redacted("postgresql://u:pw123@h:5/db").contains("pw123") == false)
            #expect(throws: PGError.self) { _ = try ConnInfo.redacted("host='unterminated") }
        }
    }

    @Test func queryErrorsCarrySQLStateAndServerMessage() async throws {
        let conninfo = try TestEnvironment.require("REPLICATORD_TEST_PG")
        try await DedicatedThread.run(name: "test") {
            let c = try PGConnection(conninfo: conninfo)
            do {
                try c.query("SELECT * FROM no_such_table")
                Issue.record("query succeeded")
            } catch let error as PGError {
                #expect(error.sqlState == "42P01")
                #expect(error.message.contains("no_such_table"))
            }
            // Parameters travel apart from the SQL text.
            let r = try c.query("SELECT $1::text || $2::text AS joined", ["a'b", nil])
            #expect(r.rows == [[nil]] && r.columns == ["joined"])
            #expect(try c.query("SELECT $1::text", ["it's"]).rows == [["it's"]])
        }
    }

    @Test func copyOutStreamsRowsAndStopsCleanlyWhenTheConsumerFails() async throws {
        let conninfo = try TestEnvironment.require("REPLICATORD_TEST_PG")
        try await DedicatedThread.run(name: "test") {
            let c = try PGConnection(conninfo: conninfo)
            var rows = 0
            let n = try c.copyOut("COPY (SELECT g FROM generate_series(1, 10000) g) TO STDOUT") { _ in rows += 1 }
            #expect(n == 10000 && rows == 10000)
            struct Stop: Error {}
            #expect(throws: Stop.self) {
                try c.copyOut("COPY (SELECT g FROM generate_series(1, 5000000) g) TO STDOUT") { _ in throw Stop() }
            }
            // The connection is usable afterwards.
            #expect(try c.query("SELECT 1").rows == [["1"]])
        }
    }
}
