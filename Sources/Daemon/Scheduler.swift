import Foundation
import Logging
import Replication
import ServiceLifecycle

/// The cycle loop of service mode, a `Service` of the daemon's `ServiceGroup`: a cycle (the full
/// load when needed, else one CDC cycle) every `interval`, measured start to start.
///
/// - Graceful shutdown (SIGTERM, SIGINT) lets the running cycle finish (so no half-written object
///   is visible and no LSN is confirmed beyond what is stored), sends `STOPPING=1`, and returns.
/// - A failure that can heal (PostgreSQL or the store unreachable) is retried with capped backoff
///   (1, 2, 4 ... s, at most `interval` and 60 s); `/health` turns 503 meanwhile.
/// - A failure that cannot heal (slot lost, publication gone, credentials refused, another
///   cluster) is shown on `/health` for `fatalExitDelay`, then thrown, so the process exits
///   non-zero and systemd restarts it.
/// - sd_notify: `READY=1` once PostgreSQL answers, `STATUS=` after each cycle, `WATCHDOG=1` every
///   half `WATCHDOG_USEC` from a timer child of this service (a cycle can run for hours during a
///   full load; the timer stops when the loop ends).
///
/// With an engine made with `keepStreamOpen` the replication connection stays open between cycles
/// and is read continuously; it is closed (after a last confirmation) when the loop ends.
public struct Scheduler: Service {
    let engine: Engine
    let interval: Duration
    let monitor: ServiceMonitor
    let notifier: SystemdNotifier
    let fatalExitDelay: Duration
    let logger: Logger

    public init(
        engine: Engine, interval: Duration, monitor: ServiceMonitor, notifier: SystemdNotifier,
        fatalExitDelay: Duration = .seconds(30), logger: Logger
    ) {
        self.engine = engine
        self.interval = interval
        self.monitor = monitor
        self.notifier = notifier
        self.fatalExitDelay = fatalExitDelay
        self.logger = logger
    }

    /// The pause before the next try after `failures` failed cycles in a row: 1, 2, 4 ... s, at most
    /// `min(interval, 60 s)`.
    public static func backoff(failures: Int, interval: Duration) -> Duration {
        let seconds = Duration.seconds(1 << min(max(failures - 1, 0), 6))
        return min(seconds, interval, .seconds(60))
    }

    public func run() async throws {
        let notifier = self.notifier, logger = self.logger
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let progress = engine.progress
                group.addTask {
                    // The whole full load's progress, at a pace a person follows in the journal
                    // (each table's own comes from the readers every few seconds).
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.progressLogInterval)
                        if let p = progress.snapshot(), !Task.isCancelled {
                            Self.logProgress(p, logger: logger)
                            notifier.status(StatusTable.progressLine(p))
                        }
                    }
                }
                if let every = notifier.watchdogInterval {
                    group.addTask {
                        while !Task.isCancelled {
                            notifier.watchdog()
                            try? await Task.sleep(for: every)
                        }
                    }
                }
                do {
                    try await loop()
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            logger.notice("stopping: the running cycle, if any, finishes first")
            notifier.stopping()
        }
    }

    private func loop() async throws {
        var ready = false
        var failures = 0
        while !Task.isShuttingDownGracefully {
            let started = ContinuousClock.now
            await monitor.update { $0.cycleStarted(at: Date()) }
            do {
                if !ready {
                    try await probeSource()
                    notifier.ready(status: "connected to PostgreSQL; starting")
                    ready = true
                }
                let outcome = try await engine.runCycle()
                let checkpoint = await engine.keeper.state
                let (kind, files, rows): (Checkpoint.Phase, Int, Int) =
                    switch outcome {
                    case .fullLoad: (.fullLoad, 0, Int(checkpoint?.tables.values.reduce(0) { $0 + $1.fullLoadRows } ?? 0))
                    case .cdc(let report): (.cdc, report.files.count, report.rows)
                    }
                await monitor.update { $0.cycleSucceeded(at: Date(), kind: kind, files: files, rows: rows, checkpoint: checkpoint) }
                failures = 0
                switch outcome {
                case .fullLoad(let tables):
                    logger.info("full load complete", metadata: ["tables": "\(tables)"])
                case .cdc(let report):
                    logger.info(
                        "cdc cycle complete", metadata: ["files": "\(report.files.count)", "rows": "\(report.rows)", "lsn.confirmed": "\(report.confirmedLSN)"])
                }
            } catch {
                let (kind, fatal) = ErrorKind.classify(error)
                let checkpoint = await engine.keeper.state
                let message = "\(error)"
                await monitor.update { $0.cycleFailed(at: Date(), kind: kind, message: message, fatal: fatal, checkpoint: checkpoint) }
                if fatal {
                    logger.critical(
                        "cannot continue; exiting after the delay so systemd restarts the service",
                        metadata: [
                            "error.kind": "\(kind.rawValue)", "error": "\(SecretScrubber.scrub(message))", "exit.delay_s": "\(Int(fatalExitDelay.seconds))",
                        ])
                    notifier.status("failed (\(kind.rawValue)): \(SecretScrubber.scrub(message))")
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: fatalExitDelay) }
                    throw error
                }
                failures += 1
                await monitor.update { $0.retrying() }
                logger.error(
                    "cycle failed; retrying",
                    metadata: [
                        "error.kind": "\(kind.rawValue)", "error": "\(SecretScrubber.scrub(message))", "failures": "\(failures)",
                    ])
            }
            await refreshServerPosition()
            await monitor.update { $0.recordCycle(at: Date()) }
            let report = await monitor.summary()
            notifier.status(Self.statusLine(report))
            let wait = failures == 0 ? interval - (ContinuousClock.now - started) : Self.backoff(failures: failures, interval: interval)
            if wait > .zero {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            }
        }
        await engine.close()
        logger.notice("stopped: the last cycle ended cleanly")
    }

    /// How often the whole full load's progress is logged.
    static let progressLogInterval = Duration.seconds(30)

    /// One log line for the whole full load: rows, rate, ETA and tables loaded.
    static func logProgress(_ p: FullLoadProgress.Snapshot, logger: Logger) {
        var metadata: Logger.Metadata = [
            "rows": "\(p.rows)", "rows_per_s": "\(Int(p.rowsPerSecond))",
            "tables.loaded": "\(p.tablesLoaded)", "tables.total": "\(p.tablesTotal)",
        ]
        if let estimated = p.estimatedRows { metadata["rows.estimated"] = "\(estimated)" }
        if let percent = p.percent { metadata["percent"] = "\(Int(percent))" }
        if let eta = p.etaSeconds { metadata["eta_s"] = "\(Int(eta))" }
        logger.info("full load progress, all tables", metadata: metadata)
    }

    /// One `STATUS=` line from the health report.
    static func statusLine(_ report: HealthReport) -> String {
        var parts = [report.phase == "cdc" ? "cdc" : "full load"]
        if let lsn = report.confirmed_lsn { parts.append("confirmed \(lsn)") }
        if let lag = report.lag_bytes { parts.append("lag \(lag) B") }
        if let lag = report.lag_seconds { parts.append("\(Int(lag)) s") }
        if !report.healthy, let first = report.problems.first { parts.append("unhealthy: \(first)") }
        return parts.joined(separator: ", ")
    }

    /// Connects to PostgreSQL once (READY=1 means the source answers).
    private func probeSource() async throws {
        let conninfo = engine.settings.conninfo
        _ = try await DedicatedThread.run(name: "replicatord-probe") { () throws -> Bool in
            try SourceDatabase(conninfo: conninfo).ping()
            return true
        }
    }

    /// Asks the server where its WAL is, to measure lag and the slot's retained WAL. Best effort:
    /// a failure leaves the last figures.
    private func refreshServerPosition() async {
        let conninfo = engine.settings.conninfo, slot = engine.settings.slot
        let confirmed = await engine.keeper.state?.confirmedLSN.description
        let position = try? await DedicatedThread.run(name: "replicatord-lag") { () throws -> HealthState.ServerPosition? in
            guard let position = try SourceDatabase(conninfo: conninfo).serverPosition(confirmed: confirmed, slot: ReplicationSlot(name: slot)) else {
                return nil
            }
            return .init(walLSN: position.walLSN, lagBytes: position.lagBytes, retainedWALBytes: position.retainedWALBytes)
        }
        if let position {
            await monitor.update { $0.server = position }
        }
    }
}
