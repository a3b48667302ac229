import Foundation
import Logging
import ServiceLifecycle

/// `replicatord --config FILE` without `--once`: the cycle ``Scheduler`` and the ``HealthServer``
/// in one `ServiceGroup`. SIGTERM and SIGINT shut it down gracefully: the scheduler (listed last,
/// so told first) finishes its cycle, then the HTTP server stops, and the process exits 0. Either
/// service failing shuts the other down and the error ends the process non-zero.
public enum ServiceMode {
    /// Runs until a signal (returns) or an error that cannot heal (throws).
    /// `configPath` is shown in the status page's `reload-table` command for a table in error.
    public static func run(
        configuration: Configuration, engine: Engine, notifier: SystemdNotifier,
        fatalExitDelay: Duration = .seconds(30), configPath: String? = nil, logger: Logger
    ) async throws {
        let phase: Checkpoint.Phase = configuration.task.migrationType == .cdc ? .cdc : .fullLoad
        var state = HealthState(interval: configuration.schedule.interval, startedAt: Date(), phase: phase, slot: configuration.source.slot)
        state.migrationType = configuration.task.migrationType.rawValue
        state.configPath = configPath
        let monitor = ServiceMonitor(state: state, progress: engine.progress, keeper: engine.keeper)
        let listen = configuration.health.listen
        let server = HealthServer.application(monitor: monitor, host: listen.host, port: listen.port, logger: logger) { port in
            logger.info("health and metrics endpoint listening", metadata: ["http.address": "\(listen.host):\(port)"])
        }
        let scheduler = Scheduler(
            engine: engine, interval: configuration.schedule.interval, monitor: monitor,
            notifier: notifier, fatalExitDelay: fatalExitDelay, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: server, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
        ]
        // [cloudwatch]: publishing never ends the group; it stops with the others.
        if configuration.cloudwatch.isEnabled {
            let settings = configuration.cloudwatch.resolved(targetRegion: configuration.target.region, slot: configuration.source.slot)
            let publisher = try CloudWatchPublisher(
                settings: settings, monitor: monitor,
                caFile: configuration.target.caFile, logger: logger)
            services.append(.init(service: publisher, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        services.append(
            .init(
                service: scheduler, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
