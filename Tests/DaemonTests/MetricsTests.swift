import Replication
import Foundation
import Testing
@testable import Daemon

@Suite struct MetricsTests {
    @Test func checkpointFiguresBecomeCountersThatOnlyGrow() {
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        var state = HealthState(interval: .seconds(10), startedAt: t0, phase: .cdc, slot: "s")
        var checkpoint = Checkpoint(slot: "s", publication: "p", systemID: "1", phase: .cdc, confirmedLSN: LSN(0x100))
        var table = Checkpoint.TableState(status: .replicating, oid: 1, cdcStartLSN: LSN(0x1))
        table.inserts = 5
        checkpoint.tables["public.orders"] = table
        state.cycleStarted(at: t0)
        state.cycleSucceeded(at: t0.addingTimeInterval(1), kind: .cdc, files: 1, rows: 5, checkpoint: checkpoint)
        state.server = .init(walLSN: "0/200", lagBytes: 256, retainedWALBytes: 1024)
        let metrics = ReplicationMetrics()
        metrics.update(from: state, at: t0.addingTimeInterval(2))
        var text = metrics.text()
        #expect(text.contains(#"replicatord_rows_written_total{table="public.orders",op="insert"} 5"#))
        #expect(text.contains("replicatord_confirmed_lsn 256"))
        #expect(text.contains("replicatord_lag_bytes 256"))
        #expect(text.contains("replicatord_slot_retained_wal_bytes 1024"))
        #expect(text.contains("replicatord_lag_seconds 2"))
        #expect(text.contains("replicatord_cycle_duration_seconds_count{kind=\"cdc\"} 1"))
        #expect(text.contains("# TYPE replicatord_errors_total counter"))

        table.inserts = 8
        checkpoint.tables["public.orders"] = table
        state.cycleStarted(at: t0.addingTimeInterval(10))
        state.cycleSucceeded(at: t0.addingTimeInterval(11), kind: .cdc, files: 1, rows: 3, checkpoint: checkpoint)
        metrics.update(from: state, at: t0.addingTimeInterval(12))
        metrics.update(from: state, at: t0.addingTimeInterval(13))
        text = metrics.text()
        #expect(text.contains(#"replicatord_rows_written_total{table="public.orders",op="insert"} 8"#))
        #expect(text.contains("replicatord_cycle_duration_seconds_count{kind=\"cdc\"} 2"))
    }

    @Test func anUnchangedCheckpointTouchesNoTableAndAChangedOneOnlyItsChangedTables() {
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        var state = HealthState(interval: .seconds(10), startedAt: t0, phase: .cdc, slot: "s")
        var checkpoint = Checkpoint(slot: "s", publication: "p", systemID: "1", phase: .cdc, confirmedLSN: LSN(0x100))
        for i in 0..<1_000 { checkpoint.tables["public.t\(i)"] = .init(status: .replicating, oid: UInt32(i + 1), cdcStartLSN: LSN(1)) }
        state.cycleSucceeded(at: t0, kind: .cdc, files: 0, rows: 0, checkpoint: checkpoint)
        let metrics = ReplicationMetrics()
        metrics.update(from: state, at: t0)
        #expect(metrics.tableUpdates == 1_000)
        // Idle cycles: the same checkpoint again, events and scrapes: no table is looked at.
        for k in 1...5 {
            state.cycleStarted(at: t0.addingTimeInterval(Double(k)))
            state.cycleSucceeded(at: t0.addingTimeInterval(Double(k)), kind: .cdc, files: 0, rows: 0, checkpoint: checkpoint)
            metrics.update(from: state, at: t0.addingTimeInterval(Double(k)))
        }
        #expect(metrics.tableUpdates == 1_000)
        // Two tables changed: those two.
        checkpoint.tables["public.t3"]!.inserts = 4
        checkpoint.tables["public.t7"]!.updates = 1
        state.cycleSucceeded(at: t0.addingTimeInterval(9), kind: .cdc, files: 2, rows: 5, checkpoint: checkpoint)
        metrics.update(from: state, at: t0.addingTimeInterval(9))
        #expect(metrics.tableUpdates == 1_002)
        #expect(metrics.text().contains(#"replicatord_rows_written_total{table="public.t3",op="insert"} 4"#))
    }

    @Test func tenThousandTablesRenderOneFamilyEachWithEscapedNames() {
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        var state = HealthState(interval: .seconds(10), startedAt: t0, phase: .cdc, slot: "s")
        var checkpoint = Checkpoint(slot: "s", publication: "p", systemID: "1", phase: .cdc, confirmedLSN: LSN(0x100))
        for i in 0..<10_000 { checkpoint.tables["public.t\(i)"] = .init(status: .replicating, oid: UInt32(i + 1), cdcStartLSN: LSN(1)) }
        var odd = Checkpoint.TableState(status: .error, oid: 99_999, cdcStartLSN: LSN(1))
        odd.inserts = 3
        checkpoint.tables["public.odd\"na\\me"] = odd
        state.cycleSucceeded(at: t0, kind: .cdc, files: 0, rows: 0, checkpoint: checkpoint)
        let metrics = ReplicationMetrics()
        metrics.update(from: state, at: t0)
        let text = metrics.text()
        #expect(text.components(separatedBy: "# TYPE replicatord_rows_written_total counter\n").count == 2)
        #expect(text.components(separatedBy: "# TYPE replicatord_table_state gauge\n").count == 2)
        let lines = text.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("replicatord_rows_written_total{") }.count == 10_001 * 5)
        #expect(lines.filter { $0.hasPrefix("replicatord_table_state{") }.count == 10_001 * 3)
        #expect(text.contains(#"replicatord_rows_written_total{table="public.odd\"na\\me",op="insert"} 3"#))
        #expect(text.contains(#"replicatord_table_state{table="public.odd\"na\\me",state="error"} 1"#))
        #expect(text.contains(#"replicatord_table_state{table="public.t42",state="replicating"} 1"#))
    }
}
