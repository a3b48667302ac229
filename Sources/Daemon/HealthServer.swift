import Foundation
import Hummingbird
import Logging

/// The HTTP endpoint of `[health] listen`: `GET /health` (JSON, 200 or 503), `GET /metrics`
/// (Prometheus text format 0.0.4), `GET /` (the ``StatusPage``, HTML) and `GET /status.json` (its
/// figures). A Hummingbird `Application`, so a `Service` of the group.
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
        router.get("/") { _, _ -> Response in
            let data = await monitor.statusData()
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                    .contentSecurityPolicy:
                        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: StatusPage.htmlBytes(data))))
        }
        router.get("/status.json") { _, _ -> Response in
            let data = await monitor.statusData()
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: StatusPage.jsonBytes(data))))
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
