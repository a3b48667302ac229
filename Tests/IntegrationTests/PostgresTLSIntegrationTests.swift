import Replication
import Foundation
import PGClient
import Testing

/// Clusters of the tests' own (made with the test bed's binaries and user, as ServiceIntegrationTests
/// does): TLS to PostgreSQL with `sslmode=verify-full` against a certificate from a throwaway CA (and
/// refused with another CA or another host name), a wrong password under SCRAM, and `wal_level`
/// not logical. Each refusal is one line and leaves the store empty.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PG_USER")), .serialized)
struct PostgresTLSIntegrationTests {
    let service = ServiceIntegrationTests()

    /// Runs `openssl ARGS` in `dir`.
    func openssl(_ dir: String, _ arguments: String) throws {
        try TestEnvironment.run("/bin/sh", ["-c", "cd '\(dir)' && openssl \(arguments) 2>&1"])
    }

    /// A CA (`NAME-ca.pem`) and, when `server` is set, a server certificate it signed for localhost
    /// and 127.0.0.1 (`server.pem`, `server.key`).
    func makeCA(_ dir: String, _ name: String, server: Bool) throws {
        try openssl(dir, "req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=\(name) test CA' -keyout \(name)-ca.key -out \(name)-ca.pem")
        guard server else { return }
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: dir + "/san.ext", atomically: true, encoding: .utf8)
        try openssl(dir, "req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout server.key -out server.csr")
        try openssl(dir, "x509 -req -in server.csr -CA \(name)-ca.pem -CAkey \(name)-ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem")
    }

    func append(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile(); handle.write(Data(text.utf8)); try handle.close()
    }

    func once(_ conninfo: String, _ store: String, environment: [String: String] = [:]) throws -> BadInputIntegrationTests.Run {
        let config = try BadInputIntegrationTests.config(conninfo: conninfo, slot: "tls_slot", target: "url = \"file://\(store)\"")
        defer { try? FileManager.default.removeItem(atPath: config) }
        return try BadInputIntegrationTests.replicatord(["--config", config, "--once"], environment: environment)
    }

    func expectOneLineRefusal(
        _ run: BadInputIntegrationTests.Run, _ pieces: [String], store: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        print("refused: \(run.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(run.status != 0, "exited 0", sourceLocation: sourceLocation)
        #expect(run.stderr.split(separator: "\n").count == 1, "not one line: \(run.stderr.debugDescription)", sourceLocation: sourceLocation)
        for piece in pieces {
            #expect(run.stderr.localizedCaseInsensitiveContains(piece), "\(piece.debugDescription) not in: \(run.stderr)", sourceLocation: sourceLocation)
        }
        #expect(((try? FileManager.default.subpathsOfDirectory(atPath: store)) ?? []).isEmpty, "the store changed", sourceLocation: sourceLocation)
    }

    @Test func verifyFullConnectsWithTheRightCAAndRefusesAnotherCAOrHostName() async throws {
        try await DedicatedThread.run(name: "test") { try self.tls() }
    }

    func tls() throws {
        let port = try service.freePort()
        let cluster = try ServiceIntegrationTests.OwnCluster(port: port)
        let user = try TestEnvironment.require("REPLICATORD_TEST_PG_USER")
        let certs = cluster.dir + "/certs"
        try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true)
        try makeCA(certs, "good", server: true)
        try makeCA(certs, "other", server: false)
        for file in ["server.pem", "server.key"] {
            try FileManager.default.copyItem(atPath: certs + "/" + file, toPath: cluster.dir + "/data/" + file)
            try TestEnvironment.run("/usr/bin/chown", [user, cluster.dir + "/data/" + file])
            try TestEnvironment.run("/bin/chmod", ["0600", cluster.dir + "/data/" + file])
        }
        try append("\nssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\n", to: cluster.dir + "/data/postgresql.conf")
        // TLS or nothing: plain TCP connections are rejected.
        try """
        local all all trust
        hostssl all all 127.0.0.1/32 trust
        hostssl replication all 127.0.0.1/32 trust
        hostnossl all all 127.0.0.1/32 reject
        hostnossl replication all 127.0.0.1/32 reject
        """.write(toFile: cluster.dir + "/data/pg_hba.conf", atomically: false, encoding: .utf8)
        try cluster.stop()
        try cluster.start()
        let admin = try PGConnection(conninfo: "host=localhost port=\(port) dbname=postgres user=postgres sslmode=require")
        try admin.query(
            "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g; CREATE PUBLICATION pub FOR TABLE t")

        let base = "port=\(port) dbname=postgres user=postgres"
        let store = cluster.dir + "/store"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        // Another CA: the server's certificate is not trusted.
        expectOneLineRefusal(
            try once("host=localhost \(base) sslmode=verify-full sslrootcert=\(certs)/other-ca.pem", store),
            ["certificate verify failed"], store: store)
        // The right CA but a name the certificate does not carry.
        expectOneLineRefusal(
            try once("host=db.invalid hostaddr=127.0.0.1 \(base) sslmode=verify-full sslrootcert=\(certs)/good-ca.pem", store),
            ["db.invalid"], store: store)
        // Without TLS the server refuses (so the successful run below did use TLS).
        expectOneLineRefusal(try once("host=localhost \(base) sslmode=disable", store), ["no encryption"], store: store)
        let ok = try once("host=localhost \(base) sslmode=verify-full sslrootcert=\(certs)/good-ca.pem", store)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(FileManager.default.fileExists(atPath: store + "/public/t/LOAD00000001.parquet"))
        #expect(try admin.query("SELECT slot_name FROM pg_replication_slots").rows.map { $0[0] } == ["tls_slot"])

        // Changes stream over the TLS session too (read from it directly, not through libpq),
        // values of 12.8 MB included (large out of their messages as they arrive).
        try admin.query("INSERT INTO t SELECT g, repeat(md5(g::text), 400000) FROM generate_series(101, 102) g; UPDATE t SET v = 'u' WHERE id = 1")
        let cdc = try once("host=localhost \(base) sslmode=verify-full sslrootcert=\(certs)/good-ca.pem", store)
        #expect(cdc.status == 0, "\(cdc.stderr)")
        let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        let read = try TestEnvironment.run(
            python,
            [
                "-c",
                """
                import glob, sys, pyarrow.parquet as pq
                rows = [r for f in sorted(glob.glob(sys.argv[1] + '/public/t/2*.parquet')) for r in pq.read_table(f).to_pylist()]
                print(sorted((r['Op'], r['id'], len(r['v'])) for r in rows))
                """, store,
            ])
        #expect(read.contains("[('I', 101, 12800000), ('I', 102, 12800000), ('U', 1, 1)]"), "\(read)")
    }

    @Test func aWrongPasswordAndWalLevelReplicaAreOneLineRefusals() async throws {
        try await DedicatedThread.run(name: "test") { try self.passwordAndWalLevel() }
    }

    func passwordAndWalLevel() throws {
        let port = try service.freePort()
        let cluster = try ServiceIntegrationTests.OwnCluster(port: port)
        let admin = try PGConnection(conninfo: cluster.conninfo)
        let password = "right-\(UUID().uuidString)"
        try admin.query("SET password_encryption = 'scram-sha-256'")
        try admin.query("CREATE ROLE app LOGIN REPLICATION PASSWORD '\(password)'")
        try admin.query("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1); GRANT SELECT ON t TO app; CREATE PUBLICATION pub FOR TABLE t")
        try """
        local all all trust
        host all postgres 127.0.0.1/32 trust
        host all app 127.0.0.1/32 scram-sha-256
        host replication app 127.0.0.1/32 scram-sha-256
        """.write(toFile: cluster.dir + "/data/pg_hba.conf", atomically: false, encoding: .utf8)
        try append("\nwal_level = replica\n", to: cluster.dir + "/data/postgresql.conf")
        try cluster.stop()
        try cluster.start()
        let store = cluster.dir + "/store"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        let conninfo = "host=127.0.0.1 port=\(port) dbname=postgres user=app"

        let wrong = try once(conninfo, store, environment: ["PGPASSWORD": "wrong-password-value"])
        expectOneLineRefusal(wrong, ["password authentication failed", "app"], store: store)
        #expect(!wrong.stderr.contains("wrong-password-value"))
        let noPassword = try once(conninfo, store, environment: ["PGPASSWORD": ""])
        expectOneLineRefusal(noPassword, ["password"], store: store)

        // The right password reaches the server, which is not set up for logical decoding.
        let replica = try once(conninfo, store, environment: ["PGPASSWORD": password])
        expectOneLineRefusal(replica, ["wal_level is replica", "source-setup.sql"], store: store)
        #expect(!replica.stderr.contains(password))
        let check = try PGConnection(conninfo: cluster.conninfo)
        #expect(try check.query("SELECT count(*) FROM pg_replication_slots").rows.first?[0] == "0")
    }
}
