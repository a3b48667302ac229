import Foundation
import Logging
import ObjectStore
import PGClient
import Testing
@testable import Daemon
@testable import Replication

/// The full load of a table cut into page ranges read by several connections in one snapshot.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_PYTHON")), .serialized)
struct RangeLoadIntegrationTests {
    @Test func pageRangesCoverTheTableOnce() {
        #expect(PageRange.split(pages: 10, into: 1) == [PageRange(lower: 0, upper: nil)])
        #expect(PageRange.split(pages: 10, into: 3) == [PageRange(lower: 0, upper: 3), PageRange(lower: 3, upper: 6), PageRange(lower: 6, upper: nil)])
        #expect(PageRange(lower: 0, upper: 3).whereClause == " WHERE ctid < '(3,0)'::tid")
        #expect(PageRange(lower: 3, upper: nil).whereClause == " WHERE ctid >= '(3,0)'::tid")
        #expect(PageRange(lower: 3, upper: 6).whereClause == " WHERE ctid >= '(3,0)'::tid AND ctid < '(6,0)'::tid")
    }

    @Test func aTableReadInPageRangesIsLoadedExactlyOnceInNumberedFiles() async throws {
        try await withPostgres("range_load") { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replicatord-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try db.execute(EngineIntegrationTests.schema)
            // Holes in the middle of the heap and rows moved to its end: the ranges still see each row once.
            try db.execute("DELETE FROM public.orders WHERE id BETWEEN 1000 AND 1500; UPDATE public.orders SET status = 'moved' WHERE id % 50 = 0")
            let pages = Int(try db.connect().query("SELECT pg_relation_size('public.orders') / 8192").rows[0][0] ?? "") ?? 0
            #expect(pages >= 12)
            var s = EngineSettings(conninfo: db.conninfo, publication: "replicatord", slot: db.database)
            s.parallelTables = 3
            s.minRangePages = 4
            let store = try ObjectStoreLocation(url: "file://\(dir)").makeStore(logger: Logger(label: "test"))
            let engine = Engine(settings: s, store: store, logger: Logger(label: "test"))
            guard case .fullLoad = try await engine.runCycle() else { Issue.record("not the full load"); return }

            let loaded = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
            #expect(loaded.allOK, "\(loaded)")
            let orders = try #require(loaded["public.orders"])
            #expect(orders["load_rows"] as? Int == 2499)
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/public/orders")) ?? []).filter { $0.hasPrefix("LOAD") }.sorted()
            #expect(files.count >= 3)  // one file at least per range
            #expect(files == (1...files.count).map { FileNaming.loadFile($0) })
            let state = try #require(await engine.keeper.state)
            #expect(state.tables["public.orders"]?.loadFiles == files.count && state.tables["public.orders"]?.firstLoadFile == 1)
            #expect(state.tables["public.orders"]?.fullLoadRows == 2499)
            // The small tables are read whole, one file each (an empty one for the empty table).
            #expect(state.tables["public.untouched"]?.loadFiles == 1 && state.tables["public.events"]?.loadFiles == 1)

            // The change stream starts exactly at the snapshot the ranges were read in.
            try db.execute(EngineIntegrationTests.changes)
            guard case .cdc = try await engine.runCycle() else { Issue.record("not CDC"); return }
            let streamed = try await Oracle.check(conninfo: db.conninfo, files: .directory(dir), tables: EngineIntegrationTests.tables)
            #expect(streamed.allOK, "\(streamed)")
        }
    }
}
