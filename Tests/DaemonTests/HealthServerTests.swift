import Replication
import Foundation
import Logging
import ObjectStore
import Testing
@testable import Daemon

@Suite struct ServiceMonitorTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func whileACycleRunsTheReportReadsTheStoredCheckpointAndTheLoadsProgress() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("monitor-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keeper = CheckpointStore(store: try LocalDirectoryStore(root: dir, logger: Logger(label: "test")), logger: Logger(label: "test"))
        let progress = FullLoadProgress()
        let t0 = self.t0
        let monitor = ServiceMonitor(
            state: HealthState(interval: .seconds(10), startedAt: t0, phase: .fullLoad, slot: "s"),
            progress: progress, keeper: keeper, clock: { t0.addingTimeInterval(10) })
        // Between cycles: nothing stored yet, nothing loading.
        var report = await monitor.report()
        #expect(report.tables.isEmpty && report.full_load == nil)

        await monitor.update { $0.cycleStarted(at: t0) }
        var state = Checkpoint(slot: "s", publication: "p", systemID: "1", phase: .fullLoad, confirmedLSN: LSN(0x1))
        var done = Checkpoint.TableState(status: .replicating, oid: 1, cdcStartLSN: LSN(0x1))
        done.fullLoadRows = 7
        state.tables["public.small"] = done
        state.tables["public.big"] = .init(status: .loading, oid: 2, cdcStartLSN: LSN(0x1))
        try await keeper.save(state)
        progress.begin(tables: [("public.small", 7), ("public.big", 100)], at: t0)
        progress.finish(table: "public.small", rows: 7, at: t0)
        progress.add(table: "public.big", rows: 40, at: t0)

        report = await monitor.report()
        #expect(report.tables["public.small"]?.status == "replicating")
        #expect(report.tables["public.small"]?.full_load_rows == 7)
        #expect(report.tables["public.big"]?.status == "loading")
        #expect(report.tables["public.big"]?.progress?.rows == 40)
        #expect(report.full_load?.tables_loaded == 1)
        #expect(report.task_status == "Running (full load)")
        let page = await monitor.statusData()
        #expect(page.health == report)

        // The load ends: no progress any more.
        progress.end()
        report = await monitor.report()
        #expect(report.full_load == nil && report.tables["public.big"]?.progress == nil)
    }
}

extension ServiceMonitorTests {
    @Test func metricsCarryTheRunningFullLoad() async {
        let progress = FullLoadProgress()
        let t0 = self.t0
        let monitor = ServiceMonitor(
            state: HealthState(interval: .seconds(10), startedAt: t0, phase: .fullLoad, slot: "s"),
            progress: progress, clock: { t0.addingTimeInterval(10) })
        var text = await monitor.metricsText()
        #expect(!text.contains("replicatord_full_load_rows_read"))
        progress.begin(tables: [("public.big", 1000)], at: t0)
        progress.add(table: "public.big", rows: 200, at: t0)
        text = await monitor.metricsText()
        #expect(text.contains(#"replicatord_full_load_rows_read{table="public.big"} 200"#))
        #expect(text.contains("replicatord_full_load_rows_per_second 20"))
        #expect(text.contains("replicatord_full_load_eta_seconds 40"))
    }
}
