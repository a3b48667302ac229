import Replication
import Foundation
import Testing
@testable import Daemon

@Suite struct StatusPageTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    func state(tables: Int = 2, errorTable: Bool = false) -> HealthState {
        var s = HealthState(interval: .seconds(10), startedAt: t0, phase: .cdc, slot: "s")
        s.migrationType = "full-load-and-cdc"
        s.configPath = "/etc/replicatord/sales.toml"
        var checkpoint = Checkpoint(slot: "s", publication: "p", systemID: "1", phase: .cdc, confirmedLSN: LSN(0x16B3748))
        for i in 0..<tables {
            var t = Checkpoint.TableState(status: .replicating, oid: UInt32(i), cdcStartLSN: LSN(0x1))
            t.inserts = Int64(i); t.fullLoadRows = 1000; t.filesWritten = 2; t.bytesWritten = 4096
            checkpoint.tables["public.t\(i)"] = t
        }
        if errorTable {
            var t = Checkpoint.TableState(status: .error, oid: 99, cdcStartLSN: LSN(0x1))
            t.errorMessage = "cannot write column x"
            checkpoint.tables["public.broken"] = t
        }
        s.cycleStarted(at: t0)
        s.cycleSucceeded(at: t0.addingTimeInterval(1), kind: .cdc, files: 2, rows: 10, checkpoint: checkpoint)
        s.server = .init(walLSN: "0/16B3800", lagBytes: 184, retainedWALBytes: 4096)
        s.recordCycle(at: t0.addingTimeInterval(1))
        return s
    }

    func page(_ s: HealthState) -> (StatusPage.Data, String) {
        let data = StatusPage.data(report: s.report(at: t0.addingTimeInterval(2)), history: s.history)
        return (data, StatusPage.html(data))
    }

    @Test func thePageLoadsNothingFromElsewhere() {
        // The SVG namespace is a name, not a place anything is loaded from.
        let html = page(state()).1.replacingOccurrences(of: "\"http://www.w3.org/2000/svg\"", with: "")
        for outside in ["src=", "href=\"http", "@import", "url(", "<link", "http://", "https://"] {
            #expect(!html.contains(outside), "\(outside)")
        }
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("prefers-color-scheme:dark"))
        #expect(html.contains("name=\"viewport\""))
    }

    @Test func theEmbeddedFiguresAreTheStatusJSON() throws {
        let (data, html) = page(state(tables: 3))
        let start = try #require(html.range(of: "<script id=\"status-data\" type=\"application/json\">"))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        let embedded = String(html[start.upperBound..<end.lowerBound])
        let decoded = try JSONDecoder().decode(StatusPage.Data.self, from: Data(embedded.utf8))
        #expect(decoded == data)
        #expect(decoded.health.tables.count == 3)
        #expect(decoded.health.task_status == "Load complete, replication ongoing")
        #expect(decoded.history.count == 1 && decoded.history[0].rows == 10 && decoded.history[0].lag_bytes == 184)
    }

    @Test func aTableNameCannotEndTheScriptItIsEmbeddedIn() {
        var s = state(tables: 0)
        var checkpoint = s.checkpoint!
        checkpoint.tables["public.x</script><script>alert(1)</script>"] = .init(status: .replicating, oid: 1, cdcStartLSN: LSN(0x1))
        s.checkpoint = checkpoint
        let (_, html) = page(s)
        #expect(!html.contains("x</script>"))
        #expect(html.contains("x\\u003c/script>") || html.contains("x\\u003c\\/script>"))
    }

    @Test func aSecretInAnErrorNeverReachesThePage() {
        var s = state()
        s.cycleStarted(at: t0.addingTimeInterval(3))
        s.cycleFailed(
            at: t0.addingTimeInterval(4), kind: .source, message: "connection to host=db password=hunter2 failed",
            fatal: false, checkpoint: nil)
        let (_, html) = page(s)
        #expect(!html.contains("hunter2"))
        #expect(html.contains("password=***"))
    }

    @Test func aTableInErrorCarriesWhatTheReloadCommandNeeds() throws {
        let (data, html) = page(state(errorTable: true))
        let broken = try #require(data.health.tables["public.broken"])
        #expect(broken.status == "error")
        #expect(broken.error == "cannot write column x")
        #expect(data.health.config_path == "/etc/replicatord/sales.toml")
        #expect(html.contains("replicatord reload-table --config ${h.config_path"))
    }

    @Test func aThousandTablesMakeOnePageWithEveryTable() throws {
        let (data, html) = page(state(tables: 1000))
        #expect(data.health.tables.count == 1000)
        #expect(html.contains("\"public.t999\""))
    }
}

@Suite struct HealthReportTimeTests {
    @Test func timesAreISO8601WithMillisecondsInUTC() {
        #expect(HealthReport.iso(Date(timeIntervalSince1970: 1_700_000_000.5)) == "2023-11-14T22:13:20.500Z")
        #expect(HealthReport.iso(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(HealthReport.iso(Date(timeIntervalSince1970: 1_764_612_345.0399)) == "2025-12-01T18:05:45.039Z")
    }
}

@Suite struct StatusPageJSONTests {
    @Test func theHandWrittenJSONReadsBackAsTheFigures() throws {
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        var s = HealthState(interval: .seconds(10), startedAt: t0, phase: .fullLoad, slot: "s\"1")
        var checkpoint = Checkpoint(slot: "s", publication: "p", systemID: "1", phase: .fullLoad, confirmedLSN: LSN(0x1))
        let names = ["public.\"quoted\"", "public.back\\slash", "public.new\nline", "public.tab\there", "public.ctl\u{1}x", "public.été", "public.</script>"]
        for (i, name) in names.enumerated() {
            var t = Checkpoint.TableState(status: i == 0 ? .error : .replicating, oid: UInt32(i), cdcStartLSN: LSN(0x1))
            t.inserts = Int64(i) * 1_000_000_007; t.lastChangeLSN = LSN(UInt64(i)); t.lastChangeTime = 1_700_000_000_123_456
            t.errorMessage = i == 0 ? "bad \"value\" in\ncolumn \\x" : nil
            checkpoint.tables[name] = t
        }
        s.cycleStarted(at: t0)
        s.cycleSucceeded(at: t0.addingTimeInterval(1), kind: .fullLoad, files: 1, rows: 3, checkpoint: checkpoint)
        s.cycleStarted(at: t0.addingTimeInterval(2))
        let progress = FullLoadProgress()
        progress.begin(tables: [("public.loading", 3), ("public.unknown", -1)], at: t0)
        progress.add(table: "public.loading", rows: 1, at: t0)
        progress.add(table: "public.unknown", rows: 1, at: t0)
        s.fullLoad = progress.snapshot(at: t0.addingTimeInterval(3))
        s.server = .init(walLSN: "0/2", lagBytes: 0, retainedWALBytes: nil)
        s.recordCycle(at: t0.addingTimeInterval(1.2345))
        let data = StatusPage.data(report: s.report(at: t0.addingTimeInterval(3)), history: s.history)
        let bytes = StatusPage.jsonBytes(data)
        let decoded = try JSONDecoder().decode(StatusPage.Data.self, from: Foundation.Data(bytes))
        #expect(decoded == data)
        #expect(decoded.health.tables.count == names.count + 2)
        #expect(decoded.health.tables["public.unknown"]?.progress?.estimated_rows == nil)
        // Control characters are escaped, never raw, in the text.
        #expect(!bytes.contains(1) && !bytes.contains(UInt8(ascii: "\n")))
    }
}
