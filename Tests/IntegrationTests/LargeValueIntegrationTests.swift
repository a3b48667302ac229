import Replication
import Foundation
import PGClient
import Testing

/// Rows with values of 9 MB through the daemon: the full load reads them in pieces and the encoder
/// compresses the pieces as they come (SnapshotReader.streamsLargeValues); the change stream lifts
/// them out of their messages (LargeValueSplicer). The oracle rebuilds the table equal to the source.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct LargeValueIntegrationTests {
    @Test func nineMegabyteValuesLoadAndStreamExactly() async throws {
        try await DedicatedThread.run(name: "test") {
            let crash = CrashRecoveryIntegrationTests()
            let (db, dir, config) = try crash.setUp("large_values")
            defer { db.drop() }
            defer { for path in [dir, dir + ".spool"] { try? FileManager.default.removeItem(atPath: path) } }
            // 9 MB of text (multi-byte characters), of bytes that do not compress, and a jsonb
            // string; small rows and NULLs around them.
            let big = { (g: String) in
                "(SELECT string_agg('é' || md5(x::text || \(g)), '') FROM generate_series(1, 270000) x), "
                    + "decode((SELECT string_agg(md5(x::text || 'b' || \(g)), '') FROM generate_series(1, 290000) x), 'hex'), "
                    + "jsonb_build_object('k', (SELECT string_agg(md5(x::text || \(g)), '') FROM generate_series(1, 290000) x), 'g', \(g))"
            }
            try db.execute(
                """
                CREATE TABLE public.blobs (id int PRIMARY KEY, t text, b bytea, j jsonb, s text);
                ALTER TABLE public.blobs ALTER b SET STORAGE EXTERNAL;
                INSERT INTO public.blobs SELECT g, 'small ' || g, '\\x00ff', '{"a": 1}', 's' FROM generate_series(1, 4) g;
                INSERT INTO public.blobs SELECT g, \(big("g")), 's' FROM generate_series(5, 6) g;
                INSERT INTO public.blobs VALUES (7, NULL, NULL, NULL, NULL);
                ALTER PUBLICATION replicatord ADD TABLE public.blobs
                """)
            let load = try crash.once(config)
            #expect(load.status == 0, "\(load.stderr)")
            try db.execute(
                """
                INSERT INTO public.blobs SELECT 8, \(big("8")), 'new';
                UPDATE public.blobs SET s = 'changed' WHERE id = 5;
                UPDATE public.blobs SET t = repeat('x', 9000000) WHERE id = 2;
                DELETE FROM public.blobs WHERE id IN (1, 6)
                """)
            let cdc = try crash.once(config)
            #expect(cdc.status == 0, "\(cdc.stderr)")
            let out = try Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: ["public.blobs"])
            print("large values: \(out)")
            #expect(out.allOK && out["public.blobs"]?["load_rows"] as? Int == 7 && out["public.blobs"]?["cdc_rows"] as? Int == 5, "\(out)")
            // The LOAD file holds the values (hex text compresses to about half, the bytes not at all).
            let loadFile = dir + "/public/blobs/LOAD00000001.parquet"
            let size = (try FileManager.default.attributesOfItem(atPath: loadFile)[.size] as? Int) ?? 0
            #expect(size > 2 * 4_640_000 && size < 60_000_000, "LOAD file of \(size) bytes")
        }
    }
}
