import Replication
import Foundation
import PGClient
import Testing
@testable import Daemon

@Suite struct HealthStateTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    func state(phase: Checkpoint.Phase = .cdc) -> HealthState {
        HealthState(interval: .seconds(10), startedAt: t0, phase: phase, slot: "s")
    }

    func checkpoint() -> Checkpoint {
        var s = Checkpoint(slot: "s", publication: "p", systemID: "1", phase: .cdc, confirmedLSN: LSN(0x16B3748))
        var t = Checkpoint.TableState(status: .replicating, oid: 1, cdcStartLSN: LSN(0x1))
        t.inserts = 5; t.fullLoadRows = 100; t.filesWritten = 2; t.bytesWritten = 4096
        s.tables["public.orders"] = t
        return s
    }

    @Test func healthyAfterStartUntilTwoIntervalsPassWithoutASuccess() {
        let s = state()
        #expect(s.problems(at: t0.addingTimeInterval(19)).isEmpty)
        #expect(s.problems(at: t0.addingTimeInterval(21)).count == 1)
    }

    @Test func aSuccessfulCycleKeepsItHealthyForTwoIntervals() {
        var s = state()
        s.cycleStarted(at: t0.addingTimeInterval(15))
        s.cycleSucceeded(at: t0.addingTimeInterval(16), kind: .cdc, files: 1, rows: 3, checkpoint: checkpoint())
        #expect(s.problems(at: t0.addingTimeInterval(35)).isEmpty)
        #expect(!s.report(at: t0.addingTimeInterval(37)).healthy)
    }

    @Test func aRunningFullLoadIsHealthyHowEverLongItTakes() {
        var s = state(phase: .fullLoad)
        s.cycleStarted(at: t0)
        #expect(s.problems(at: t0.addingTimeInterval(3600)).isEmpty)
    }

    @Test func aFailedCycleIsUnhealthyUntilTheNextSuccess() {
        var s = state()
        s.cycleStarted(at: t0)
        s.cycleFailed(at: t0.addingTimeInterval(1), kind: .source, message: "connection refused", fatal: false, checkpoint: nil)
        let report = s.report(at: t0.addingTimeInterval(2))
        #expect(!report.healthy)
        #expect(report.last_error?.kind == "source")
        #expect(report.consecutive_failures == 1)
        s.cycleStarted(at: t0.addingTimeInterval(3))
        s.cycleSucceeded(at: t0.addingTimeInterval(4), kind: .cdc, files: 0, rows: 0, checkpoint: nil)
        #expect(s.report(at: t0.addingTimeInterval(5)).healthy)
        // The last error stays readable after the recovery.
        #expect(s.report(at: t0.addingTimeInterval(5)).last_error?.message == "connection refused")
    }

    @Test func aFatalErrorIsUnhealthyAndNamed() {
        var s = state()
        s.cycleFailed(at: t0, kind: .slotLost, message: "replication slot s no longer exists", fatal: true, checkpoint: nil)
        let report = s.report(at: t0)
        #expect(report.status == "unhealthy")
        #expect(report.problems.first?.contains("slot_lost") == true)
    }

    @Test func lagSecondsCountFromTheStartOfTheLastSuccessfulCycle() {
        var s = state()
        #expect(s.lagSeconds(at: t0) == nil)
        s.cycleStarted(at: t0)
        s.cycleSucceeded(at: t0.addingTimeInterval(2), kind: .cdc, files: 0, rows: 0, checkpoint: nil)
        #expect(s.lagSeconds(at: t0.addingTimeInterval(5)) == 5)
    }

    @Test func theReportCarriesTableStatisticsAndTheLSN() throws {
        var s = state()
        s.cycleStarted(at: t0)
        s.cycleSucceeded(at: t0.addingTimeInterval(1), kind: .cdc, files: 2, rows: 5, checkpoint: checkpoint())
        s.server = .init(walLSN: "0/16B4000", lagBytes: 2232, retainedWALBytes: 9000)
        let report = s.report(at: t0.addingTimeInterval(2))
        #expect(report.confirmed_lsn == "0/16B3748")
        #expect(report.lag_bytes == 2232)
        #expect(report.tables["public.orders"]?.inserts == 5)
        let decoded = try JSONDecoder().decode(HealthReport.self, from: Data(report.json().utf8))
        #expect(decoded == report)
    }

    @Test func errorsAreClassifiedIntoHealableAndNot() {
        #expect(ErrorKind.classify(EngineError(.slotLost, "gone")) == (.slotLost, true))
        #expect(ErrorKind.classify(ReplicationSlotError(.lost, "gone")) == (.slotLost, true))
        #expect(ErrorKind.classify(ReplicationSlotError(.unusable, "in use")) == (.sourceCheck, true))
        #expect(ErrorKind.classify(PGError(.connectionFailed, "connection refused")) == (.source, false))
        #expect(ErrorKind.classify(PGError(.connectionFailed, "password authentication failed for user x", sqlState: "28P01")) == (.credentials, true))
    }

    @Test func secretsAreScrubbedFromMessages() {
        let text = SecretScrubber.scrub("host=db password=hunter2 user=x; s3://AKIA:secretkey@bucket/x")
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("secretkey"))
        #expect(text.contains("host=db"))
    }

    @Test func backoffDoublesUpToTheIntervalAndAMinute() {
        #expect(Scheduler.backoff(failures: 1, interval: .seconds(120)) == .seconds(1))
        #expect(Scheduler.backoff(failures: 3, interval: .seconds(120)) == .seconds(4))
        #expect(Scheduler.backoff(failures: 20, interval: .seconds(120)) == .seconds(60))
        #expect(Scheduler.backoff(failures: 20, interval: .seconds(2)) == .seconds(2))
    }
}

@Suite struct HealthClientTests {
    @Test func anAnswerIsSplitIntoItsStatusAndHealthBody() throws {
        let body =
            #"{"status":"unhealthy","problems":["no successful cycle within two intervals"],"phase":"cdc","slot":"s","started_at":"2026-11-25T10:00:00.000Z","consecutive_failures":2,"tables":{"public.t":{"status":"replicating","full_load_rows":10,"inserts":1,"updates":2,"deletes":3,"truncates":0,"files_written":4,"bytes_written":999}}}"#
        let response = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n\(body)".utf8)
        let answer = try #require(HealthClient.parse(response))
        #expect(answer.status == 503)
        #expect(!answer.report.healthy)
        let text = StatusTable.render(answer.report, address: "127.0.0.1:8080")
        #expect(text.hasPrefix("replicatord at 127.0.0.1:8080: UNHEALTHY  phase cdc  slot s"))
        #expect(text.contains("  problem: no successful cycle within two intervals"))
        #expect(text.contains("consecutive failures: 2"))
        #expect(text.split(separator: "\n").last?.hasPrefix("public.t  replicating") == true)
    }

    @Test func theAnswerEndsWhereItsContentLengthSaysNotAtTheTimeout() {
        let head = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"
        #expect(HealthClient.expectedLength(Array(head.utf8)) == head.utf8.count + 12)
        #expect(HealthClient.expectedLength(Array("HTTP/1.0 200 OK\r\nContent-Len".utf8)) == nil)
        #expect(HealthClient.expectedLength(Array("HTTP/1.0 200 OK\r\n\r\nbody".utf8)) == nil)
    }

    @Test func somethingElseIsNoAnswer() {
        #expect(HealthClient.parse(Array("HTTP/1.1 200 OK\r\n\r\nnot json".utf8)) == nil)
        #expect(HealthClient.parse(Array("garbage".utf8)) == nil)
        #expect(HealthClient.fetch(host: "127.0.0.1", port: 1, timeoutSeconds: 1) == nil)
    }
}

@Suite struct HealthStateTaskStatusTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func theTaskStatusSpeaksAsDMSDoes() {
        var s = HealthState(interval: .seconds(10), startedAt: t0, phase: .fullLoad, slot: "s")
        s.migrationType = "full-load-and-cdc"
        #expect(s.taskStatus(at: t0) == "Starting")
        s.cycleStarted(at: t0)
        #expect(s.taskStatus(at: t0) == "Running (full load)")
        var checkpoint = Checkpoint(slot: "s", publication: "p", systemID: "1", phase: .cdc, confirmedLSN: LSN(0x1))
        checkpoint.tables["public.t"] = .init(status: .replicating, oid: 1, cdcStartLSN: LSN(0x1))
        s.cycleSucceeded(at: t0.addingTimeInterval(1), kind: .fullLoad, files: 1, rows: 5, checkpoint: checkpoint)
        #expect(s.taskStatus(at: t0) == "Load complete, replication ongoing")
        s.cycleStarted(at: t0.addingTimeInterval(2))
        s.cycleFailed(at: t0.addingTimeInterval(3), kind: .store, message: "down", fatal: false, checkpoint: nil)
        #expect(s.taskStatus(at: t0) == "Load complete, replication ongoing, retrying")
        s.cycleFailed(at: t0.addingTimeInterval(4), kind: .slotLost, message: "gone", fatal: true, checkpoint: nil)
        #expect(s.taskStatus(at: t0) == "Failed")

        var once = HealthState(interval: .seconds(10), startedAt: t0, phase: .fullLoad, slot: "s")
        once.migrationType = "full-load"
        once.cycleStarted(at: t0)
        once.cycleSucceeded(at: t0, kind: .fullLoad, files: 1, rows: 1, checkpoint: nil)
        #expect(once.taskStatus(at: t0) == "Load complete")
        var cdc = HealthState(interval: .seconds(10), startedAt: t0, phase: .cdc, slot: "s")
        cdc.migrationType = "cdc"
        cdc.cycleStarted(at: t0)
        cdc.cycleSucceeded(at: t0, kind: .cdc, files: 0, rows: 0, checkpoint: nil)
        #expect(cdc.taskStatus(at: t0) == "Replication ongoing")
    }

    @Test func theRunningFullLoadShowsEveryTableWithItsProgress() throws {
        var s = HealthState(interval: .seconds(10), startedAt: t0, phase: .fullLoad, slot: "s")
        s.cycleStarted(at: t0)
        let progress = FullLoadProgress()
        progress.begin(tables: [("public.big", 1000), ("public.small", 10)], at: t0)
        progress.add(table: "public.big", rows: 500, at: t0)
        progress.finish(table: "public.small", rows: 10, at: t0.addingTimeInterval(1))
        s.fullLoad = progress.snapshot(at: t0.addingTimeInterval(10))
        let report = s.report(at: t0.addingTimeInterval(10))
        let big = try #require(report.tables["public.big"])
        #expect(big.status == "loading")
        #expect(big.progress?.rows == 500 && big.progress?.percent == 50 && big.progress?.eta_seconds == 10)
        #expect(report.tables["public.small"]?.status == "replicating")
        #expect(report.tables["public.small"]?.full_load_rows == 10)
        #expect(report.tables["public.small"]?.progress == nil)
        #expect(report.full_load?.tables_loaded == 1 && report.full_load?.tables_total == 2)
        #expect(report.full_load?.rows == 510)
        // status prints the same figures.
        let text = StatusTable.render(report, address: "127.0.0.1:8080")
        #expect(text.contains("full load: 1 of 2 tables loaded, 510 rows of about 1010"))
        #expect(text.contains("loaded rows"))
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("public.big") && $0.contains(" 500 ") && $0.contains("10 s") })
    }
}
