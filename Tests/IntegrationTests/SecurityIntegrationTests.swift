import Foundation
import PGClient
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// Security (issue 7): no password, secret key or session token in anything the daemon prints or
/// serves, whatever happens (a normal run at trace level, refused credentials, `check`, `validate`),
/// and `/health` listens on loopback only unless configured otherwise.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_S3_ENDPOINT", "REPLICATORD_TEST_PYTHON")), .serialized)
struct SecurityIntegrationTests {
    let service = ServiceIntegrationTests()

    @Test func noSecretAppearsInAnyOutputOrEndpointAndHealthIsLoopbackOnly() async throws {
        try await withPostgres("secrets") { db in
            try db.execute(EngineIntegrationTests.schema)
            let endpoint = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
            _ = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
            let realSecret = try TestEnvironment.require("AWS_SECRET_ACCESS_KEY")
            let bucket = "secrets-\(UInt32.random(in: 0...UInt32.max))"
            try TestEnvironment.helper("create-bucket", [endpoint, bucket])
            let port = try service.freePort()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-sec-\(UUID().uuidString)").path
            let config = dir + ".toml"
            try TestEnvironment.writeConfig(
                to: config, conninfo: db.conninfo, slot: db.database,
                target: "url = \"s3://\(bucket)/replica\"\nendpoint = \"\(endpoint)\"\npath_style = true",
                spoolDir: dir + ".spool", interval: 1, listen: "127.0.0.1:\(port)", logLevel: "trace")
            defer {
                try? FileManager.default.removeItem(atPath: config)
                try? FileManager.default.removeItem(atPath: dir + ".spool")
            }
            // libpq takes PGPASSWORD even where the server does not ask for it (trust): it must never show.
            let pgPassword = "pgPw-\(UUID().uuidString)"
            let wrongSecret = "wrongSecret\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
            let sessionToken = "sessionToken\(UUID().uuidString)"
            var everything = ""

            let daemon = try ServiceIntegrationTests.Daemon(config: config, environment: ["PGPASSWORD": pgPassword])
            defer { try? FileManager.default.removeItem(atPath: daemon.logPath) }
            #expect(try await service.eventually(120) { (try await service.get("http://127.0.0.1:\(port)/health"))?.status == 200 })
            try db.execute(EngineIntegrationTests.changes)
            #expect(
                try await service.eventually(60) {
                    (try await service.get("http://127.0.0.1:\(port)/metrics"))?.body.contains("replicatord_rows_written_total") == true
                })
            for path in ["/health", "/metrics", "/nothing-here"] {
                everything += (try await service.get("http://127.0.0.1:\(port)\(path)"))?.body ?? ""
            }
            // Not reachable on any other address of the machine.
            let addresses = try TestEnvironment.run("/bin/sh", ["-c", "hostname -I 2>/dev/null || true"])
                .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init).filter { !$0.contains(":") && !$0.hasPrefix("127.") }
            for address in addresses {
                let reached = try TestEnvironment.helper("tcp-probe", [address, "\(port)"])
                #expect(reached.contains("refused"), "/health answers on \(address)")
            }
            #expect(await daemon.stop() == 0)
            everything += daemon.log
            #expect(
                daemon.log.contains("level=trace") || daemon.log.contains("level=debug") || daemon.log.count > 1000,
                "too little output to judge: \(daemon.log.prefix(500))")

            // Refused credentials (the store's error comes back in the message), check, validate, status.
            let refused = try BadInputIntegrationTests.replicatord(
                ["--config", config, "--once"],
                environment: ["AWS_SECRET_ACCESS_KEY": wrongSecret, "AWS_SESSION_TOKEN": sessionToken, "PGPASSWORD": pgPassword])
            #expect(refused.status != 0)
            everything += refused.stdout + refused.stderr
            for command in ["check", "validate", "status"] {
                let run = try BadInputIntegrationTests.replicatord(
                    [command, "--config", config],
                    environment: ["PGPASSWORD": pgPassword, "AWS_SESSION_TOKEN": sessionToken, "AWS_SECRET_ACCESS_KEY": wrongSecret])
                everything += run.stdout + run.stderr
            }
            #expect(everything.count > 2000)
            for (name, secret) in [
                ("PGPASSWORD", pgPassword), ("AWS_SECRET_ACCESS_KEY", realSecret), ("the wrong secret key", wrongSecret), ("AWS_SESSION_TOKEN", sessionToken),
            ] {
                #expect(!everything.contains(secret), "\(name) appears in the daemon's output or endpoints")
            }
        }
    }
}
