import Foundation
import Hummingbird
import Logging

/// Holds the service's ``HealthState`` and its metrics: the scheduler writes, the HTTP handlers read.
public actor ServiceMonitor {
    /// The state as of the last event.
    public private(set) var state: HealthState
    private let metrics = ReplicationMetrics()
    private let clock: @Sendable () -> Date

    public init(state: HealthState, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.state = state
        self.clock = clock
    }

    /// Applies an event (and records it in the metrics at once, so no cycle between two scrapes is missed).
    public func update(_ change: @Sendable (inout HealthState) -> Void) {
        change(&state)
        metrics.update(from: state, at: clock())
    }

    /// The `/health` body now.
    public func report() -> HealthReport { state.report(at: clock()) }

    /// The `/metrics` text now.
    public func metricsText() -> String {
        metrics.update(from: state, at: clock())
        return metrics.text()
    }
}

/// The HTTP endpoint of `[health] listen`: `GET /health` (JSON, 200 or 503) and `GET /metrics`
/// (Prometheus text format 0.0.4). A Hummingbird `Application`, so a `Service` of the group.
public enum HealthServer {
    /// The application serving `monitor` on `host:port`; `onRunning` gets the bound port (useful with port 0).
    public static func application(
        monitor: ServiceMonitor, host: String, port: Int, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/health") { _, _ -> Response in
            let report = await monitor.report()
            return Response(
                status: report.healthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: report.json())))
        }
        router.get("/metrics") { _, _ -> Response in
            let text = await monitor.metricsText()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        var serverLogger = logger
        serverLogger[metadataKey: "component"] = "http"
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "replicatord"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: serverLogger)
    }
}
