import Foundation
import Logging
import ObjectStore
import ServiceLifecycle

/// Publishes the service's lag, retained WAL and health to CloudWatch every `[cloudwatch]`
/// interval (``CloudWatchMetricData``), for the alarms of config/aws/replicatord.yaml.
///
/// A failed call is logged (a warning the first time, then again only once it has worked in
/// between) and never stops the daemon: the next tick sends the figures of its own time, and an
/// alarm that treats missing data as breaching notices a publisher that keeps failing.
public struct CloudWatchPublisher: Service {
    let settings: Configuration.CloudWatch
    let monitor: ServiceMonitor
    let client: CloudWatchClient
    let logger: Logger

    /// A publisher of `monitor`'s figures with `settings`; AWS credentials from `credentials` (by
    /// default the usual chain: environment, `AWS_SHARED_CREDENTIALS_FILE`, instance profile);
    /// `caFile` as `[target] ca_file`.
    public init(settings: Configuration.CloudWatch, monitor: ServiceMonitor,
                credentials: any CredentialsProvider = DefaultCredentialsChain(), caFile: String = "", logger: Logger) throws {
        try self.init(settings: settings, monitor: monitor, credentials: credentials,
                      transport: CurlTransport(options: CurlTransportOptions(caFile: caFile.isEmpty ? nil : caFile)), logger: logger)
    }

    init(settings: Configuration.CloudWatch, monitor: ServiceMonitor, credentials: any CredentialsProvider,
         transport: any HTTPTransport, logger: Logger) throws {
        self.settings = settings
        self.monitor = monitor
        self.client = try CloudWatchClient(endpoint: settings.endpointURL, region: settings.region, credentials: credentials, transport: transport)
        self.logger = logger
    }

    /// Publishes once: the figures of `/health` now. Throws what CloudWatch or the way there said.
    public func publishOnce() async throws {
        let report = await monitor.report()
        let datums = CloudWatchMetricData.datums(from: report)
        try await client.send(body: CloudWatchMetricData.putMetricDataBody(
            namespace: settings.namespace, name: settings.name, datums: datums, timestamp: client.now()))
    }

    public func run() async throws {
        logger.info("publishing health to CloudWatch", metadata: [
            "cloudwatch.namespace": "\(settings.namespace)", "cloudwatch.name": "\(settings.name)",
            "cloudwatch.endpoint": "\(settings.endpointURL)", "cloudwatch.interval_seconds": "\(settings.intervalSeconds)",
        ])
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await publishOnce()
                if failing { logger.info("CloudWatch publishing works again", metadata: ["cloudwatch.namespace": "\(settings.namespace)"]) }
                failing = false
            } catch {
                if !failing {
                    logger.warning("CloudWatch publishing failed; trying again every interval", metadata: [
                        "cloudwatch.namespace": "\(settings.namespace)", "error": "\(error)",
                    ])
                }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.interval) }
        }
    }
}
