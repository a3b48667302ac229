import Replication
import Foundation
import PGClient
import Testing

/// `U` for an update that keeps the primary key, whatever the replica identity: under `REPLICA
/// IDENTITY FULL` pgoutput flags every column as key, so only the catalog's primary key tells.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct ReplicaIdentityIntegrationTests {
    let crash = CrashRecoveryIntegrationTests()
    let reload = TableReloadIntegrationTests()

    @Test func aFullIdentityTableWithAPrimaryKeyGetsUpdatesNotDeletesAndInserts() async throws {
        try await DedicatedThread.run(name: "test") { try self.fullIdentityUpdates() }
    }

    func fullIdentityUpdates() throws {
        try withPostgres("full_identity_pk") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            defer { for path in [dir, dir + ".spool", dir + ".toml"] { try? FileManager.default.removeItem(atPath: path) } }
            try TestEnvironment.writeConfig(
                to: dir + ".toml", conninfo: db.conninfo, slot: db.database, target: "url = \"file://\(dir)\"",
                spoolDir: dir + ".spool", logLevel: "warning")
            try db.execute(
                """
                CREATE TABLE public.t (id uuid PRIMARY KEY, tags text[], n int);
                ALTER TABLE public.t REPLICA IDENTITY FULL;
                INSERT INTO public.t SELECT md5(g::text)::uuid, ARRAY['a', g::text], g FROM generate_series(1, 10) g;
                CREATE PUBLICATION replicatord FOR TABLE public.t;
                """)
            let load = try reload.replicatord(["--config", dir + ".toml", "--once"])
            try #require(load.status == 0, "\(load.stderr)")
            try db.execute(
                """
                INSERT INTO public.t SELECT md5(g::text)::uuid, NULL, g FROM generate_series(11, 13) g;
                UPDATE public.t SET tags = tags || 'b'::text WHERE n <= 2;
                UPDATE public.t SET n = -n WHERE n = 3;
                UPDATE public.t SET id = md5('moved')::uuid WHERE n = 4;
                DELETE FROM public.t WHERE n = 5;
                """)
            let cdc = try reload.replicatord(["--config", dir + ".toml", "--once"])
            try #require(cdc.status == 0, "\(cdc.stderr)")
            let t = try reload.table(dir, "public.t")
            // 3 inserts + the key change's I; 3 updates that keep the key; 1 delete + the key change's D.
            #expect(t["inserts"] as? Int == 4 && t["updates"] as? Int == 3 && t["deletes"] as? Int == 2, "\(t)")
            let status = try reload.replicatord(["status", "--config", dir + ".toml"])
            #expect(status.stdout.contains("public.t"), "\(status.stdout)")
            let out = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: ["public.t"])
            #expect(out.allOK, "\(out)")
        }
    }
}
