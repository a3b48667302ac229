import Foundation
import Testing
@testable import Daemon

@Suite struct FullLoadProgressTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func noSnapshotBeforeTheLoadBeginsOrAfterItEnds() {
        let progress = FullLoadProgress()
        #expect(progress.snapshot(at: t0) == nil)
        progress.begin(tables: [("public.a", 10)], at: t0)
        #expect(progress.snapshot(at: t0) != nil)
        progress.end()
        #expect(progress.snapshot(at: t0) == nil)
        // Counting after the end changes nothing.
        progress.add(table: "public.a", rows: 5, at: t0)
        #expect(progress.snapshot(at: t0) == nil)
    }

    @Test func rateAndETAFollowTheRowsReadAndTheEstimate() throws {
        let progress = FullLoadProgress()
        progress.begin(tables: [("public.a", 1000), ("public.b", 500)], at: t0)
        progress.add(table: "public.a", rows: 100, at: t0)
        progress.add(table: "public.a", rows: 150, at: t0.addingTimeInterval(5))
        let p = try #require(progress.snapshot(at: t0.addingTimeInterval(10)))
        let a = try #require(p.tables["public.a"])
        #expect(a.rows == 250)
        #expect(a.percent == 25)
        #expect(a.rowsPerSecond == 25)
        #expect(a.etaSeconds == 30)
        #expect(!a.done)
        // b has not started: no rate, no ETA of its own.
        #expect(p.tables["public.b"]?.rows == 0)
        #expect(p.tables["public.b"]?.etaSeconds == nil)
        // Overall: 250 rows in 10 s, 750 + 500 left.
        #expect(p.rows == 250)
        #expect(p.estimatedRows == 1500)
        #expect(p.rowsPerSecond == 25)
        #expect(p.etaSeconds == 50)
        #expect(p.tablesLoaded == 0 && p.tablesTotal == 2)
    }

    @Test func aFinishedTableIsAtItsExactCountAndTheLoadCountsIt() throws {
        let progress = FullLoadProgress()
        progress.begin(tables: [("public.a", 1000), ("public.b", 10)], at: t0)
        progress.add(table: "public.b", rows: 8, at: t0)
        progress.finish(table: "public.b", rows: 12, at: t0.addingTimeInterval(2))
        let p = try #require(progress.snapshot(at: t0.addingTimeInterval(4)))
        let b = try #require(p.tables["public.b"])
        #expect(b.done && b.rows == 12 && b.percent == 100 && b.etaSeconds == 0)
        #expect(b.rowsPerSecond == 6)  // to its end, not to now
        #expect(p.tablesLoaded == 1)
        #expect(p.estimatedRows == 1012)
    }

    @Test func aTableLargerThanItsEstimateShows99PercentAndNoETA() throws {
        let progress = FullLoadProgress()
        progress.begin(tables: [("public.a", 100)], at: t0)
        progress.add(table: "public.a", rows: 150, at: t0)
        let a = try #require(progress.snapshot(at: t0.addingTimeInterval(1))?.tables["public.a"])
        #expect(a.percent == 99)
        #expect(a.etaSeconds == nil)
    }

    @Test func aTableWithoutAnEstimateLeavesTheOverallETAUnknown() throws {
        let progress = FullLoadProgress()
        progress.begin(tables: [("public.a", -1), ("public.b", 100)], at: t0)
        progress.add(table: "public.a", rows: 50, at: t0)
        let p = try #require(progress.snapshot(at: t0.addingTimeInterval(1)))
        #expect(p.tables["public.a"]?.percent == nil)
        #expect(p.tables["public.a"]?.estimatedRows == nil)
        #expect(p.etaSeconds == nil && p.percent == nil && p.estimatedRows == nil)
        #expect(p.rowsPerSecond == 50)
    }
}
