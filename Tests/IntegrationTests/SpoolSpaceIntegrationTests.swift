import Foundation
import Replication
import Testing
@testable import Daemon

/// A backlog larger than the spool's disk: each cut stops at a transaction boundary once the
/// spool's file system runs low (`SpoolSpace`), the cycle stores what it read, and the next goes
/// on (`--once` runs cycles until it has stored everything up to the position it started at),
/// instead of every cycle failing with "No space left on device" forever. The spool is a
/// 24 MiB tmpfs (mounting one needs root, as the chaos run's full disk does).
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct SpoolSpaceIntegrationTests {
    let crash = CrashRecoveryIntegrationTests()

    @Test func aBacklogLargerThanTheSpoolDiskDrainsInSeveralCycles() async throws {
        try await DedicatedThread.run(name: "test") { try self.backlog() }
    }

    func backlog() throws {
        let (db, dir, config) = try crash.setUp("spool_space")
        defer { db.drop() }
        let spool = dir + ".tmpfs"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        let mount = try TestEnvironment.capture("/bin/mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", spool])
        try #require(mount.status == 0, "a tmpfs for the spool could not be mounted (root is needed): \(mount.stderr)")
        defer {
            _ = try? TestEnvironment.capture("/bin/umount", ["-l", spool])
            for path in [dir, dir + ".spool", spool] { try? FileManager.default.removeItem(atPath: path) }
        }
        var text = try String(contentsOfFile: config, encoding: .utf8)
        text = text.replacingOccurrences(of: "spool_dir = \"\(dir).spool\"", with: "spool_dir = \"\(spool)\"")
        try (text + "[parquet]\ncompression = \"none\"\n").write(toFile: config, atomically: true, encoding: .utf8)
        try #require(try String(contentsOfFile: config, encoding: .utf8).contains(spool))

        let load = try crash.once(config)
        try #require(load.status == 0, "full load failed: \(load.stderr)")
        // About 36 MB of changes in six transactions: more than the whole spool disk.
        for batch in 0..<6 {
            try db.execute(
                """
                INSERT INTO public.events SELECT timestamp '2025-01-01' + (\(batch) * 20000 + g) * interval '1 second',
                  repeat(md5((\(batch) * 20000 + g)::text), 9), NULL FROM generate_series(1, 20000) g
                """)
        }
        // One --once: its cuts stop early, each stores what it read, and it runs cycles until the
        // backlog is stored.
        let first = try crash.once(config)
        #expect(first.status == 0, "--once failed: \(first.stderr)")
        #expect(first.stderr.contains("the spool is running out of room"), "no cut stopped early: the test tests nothing: \(first.stderr)")
        let result = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
        #expect(result.allOK, "\(result)")
    }
}
