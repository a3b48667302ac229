import Foundation
import Hummingbird
import Logging

/// Holds the service's ``HealthState`` and its metrics: the scheduler writes, the HTTP handlers read.
public actor ServiceMonitor {
    /// The state as of the last event.
    public private(set) var state: HealthState
    private let metrics = ReplicationMetrics()
    private let clock: @Sendable () -> Date
    /// The running full load's counters, read into every report.
    private let progress: FullLoadProgress?
    /// The checkpoint as stored so far, read into reports while a cycle runs (tables finish one by one).
    private let keeper: CheckpointStore?

    public init(
        state: HealthState, progress: FullLoadProgress? = nil, keeper: CheckpointStore? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.state = state
        self.progress = progress
        self.keeper = keeper
        self.clock = clock
    }

    /// Brings in what changes during a cycle: the full load's progress and the stored checkpoint.
    private func refreshLive() async {
        if state.cycleStartedAt != nil, let keeper, let stored = await keeper.state { state.checkpoint = stored }
        state.fullLoad = progress?.snapshot(at: clock())
    }

    /// Applies an event (and records it in the metrics at once, so no cycle between two scrapes is missed).
    public func update(_ change: @Sendable (inout HealthState) -> Void) {
        change(&state)
        metrics.update(from: state, at: clock())
    }

    /// The `/health` body now.
    public func report() async -> HealthReport {
        await refreshLive()
        return state.report(at: clock())
    }

    /// The `/health` body now without its tables (for the status line after each cycle).
    public func summary() async -> HealthReport {
        await refreshLive()
        return state.report(at: clock(), withTables: false)
    }

    /// Table states brought into the metrics since start (none for an idle cycle).
    public var metricsTableUpdates: Int { metrics.tableUpdates }

    /// The status page's figures now (the `/health` body and the recent cycles).
    public func statusData() async -> StatusPage.Data {
        await refreshLive()
        return StatusPage.data(report: state.report(at: clock()), history: state.history)
    }

    /// The `/metrics` text now.
    public func metricsText() async -> String {
        await refreshLive()
        metrics.update(from: state, at: clock())
        return metrics.text()
    }
}
