import Foundation
import Testing
@testable import Daemon

@Suite struct CycleHistoryTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    func sample(_ i: Int) -> CycleHistory.Sample {
        .init(at: t0.addingTimeInterval(Double(i) * 10), kind: "cdc", outcome: "success", rows: i, lagBytes: Int64(i), lagSeconds: Double(i))
    }

    @Test func keepsTheNewestSamplesUpToItsCapacityOldestFirst() {
        var history = CycleHistory(capacity: 3)
        for i in 1...7 { history.append(sample(i)) }
        #expect(history.count == 3)
        #expect(history.samples.map(\.rows) == [5, 6, 7])
    }

    @Test func keepsOrderBeforeItIsFull() {
        var history = CycleHistory(capacity: 5)
        for i in 1...2 { history.append(sample(i)) }
        #expect(history.samples.map(\.rows) == [1, 2])
        #expect(CycleHistory().samples.isEmpty)
    }

    @Test func dropsSamplesOlderThanItsAgeFromTheNewest() {
        var history = CycleHistory(capacity: 100, maxAge: 25)
        for i in 1...5 { history.append(sample(i)) }  // at 10, 20, 30, 40, 50 s
        #expect(history.samples.map(\.rows) == [3, 4, 5])
    }

    @Test func theHealthStateRecordsEachFinishedCycleWithItsLag() {
        var state = HealthState(interval: .seconds(10), startedAt: t0, phase: .cdc, slot: "s")
        state.recordCycle(at: t0)  // no cycle yet: nothing
        #expect(state.history.count == 0)
        state.cycleStarted(at: t0)
        state.cycleSucceeded(at: t0.addingTimeInterval(2), kind: .cdc, files: 1, rows: 42, checkpoint: nil)
        state.server = .init(walLSN: "0/10", lagBytes: 128, retainedWALBytes: nil)
        state.recordCycle(at: t0.addingTimeInterval(3))
        state.cycleStarted(at: t0.addingTimeInterval(10))
        state.cycleFailed(at: t0.addingTimeInterval(11), kind: .source, message: "down", fatal: false, checkpoint: nil)
        state.recordCycle(at: t0.addingTimeInterval(12))
        let samples = state.history.samples
        #expect(samples.count == 2)
        #expect(samples[0].rows == 42 && samples[0].lagBytes == 128 && samples[0].lagSeconds == 3 && samples[0].outcome == "success")
        #expect(samples[1].outcome == "failure" && samples[1].rows == 0 && samples[1].lagSeconds == 12)
    }
}
