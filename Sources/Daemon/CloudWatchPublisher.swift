import AWSRequests
import Foundation
import Logging
import ServiceLifecycle

/// Publishes the service's lag, retained WAL and health to CloudWatch every `[cloudwatch]`
/// interval (``CloudWatchMetricData``), for the alarms of config/aws/replicatord.yaml: one
/// `PutMetricData` call (query protocol, SigV4 signing name `monitoring`) through AWSRequests'
/// `AWSServiceClient`, with the credentials chain the S3 client uses.
///
/// A failed call (after the client's few retries) is logged (a warning the first time, then again
/// only once it has worked in between) and never stops the daemon: the next tick sends the figures
/// of its own time, and an alarm that treats missing data as breaching notices a publisher that
/// keeps failing.
public struct CloudWatchPublisher: Service {
    let settings: Configuration.CloudWatch
    let monitor: ServiceMonitor
    let client: AWSServiceClient
    let logger: Logger

    /// Retries of one call: a few, within a fraction of the interval (the next tick sends newer figures).
    static func retryPolicy(interval: Duration) -> RetryPolicy {
        RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(200), maxDelay: .seconds(2), totalDeadline: min(interval / 2, .seconds(20)))
    }

    /// A publisher of `monitor`'s figures with resolved `settings` (``Configuration/CloudWatch/resolved(targetRegion:slot:)``);
    /// AWS credentials from `credentials` (by default the usual chain: environment,
    /// `AWS_SHARED_CREDENTIALS_FILE`, instance profile); `caFile` as `[target] ca_file`.
    public init(
        settings: Configuration.CloudWatch, monitor: ServiceMonitor,
        credentials: any CredentialsProvider = DefaultCredentialsChain(), caFile: String = "", logger: Logger
    ) throws {
        self.init(
            settings: settings, monitor: monitor, logger: logger,
            client: try AWSServiceClient(
                service: "monitoring", region: settings.region, endpoint: settings.endpoint, credentials: credentials,
                retry: Self.retryPolicy(interval: settings.interval), caFile: caFile.isEmpty ? nil : caFile, logger: logger))
    }

    /// A publisher through `client` (tests give one over a scripted transport).
    init(settings: Configuration.CloudWatch, monitor: ServiceMonitor, logger: Logger, client: AWSServiceClient) {
        self.settings = settings
        self.monitor = monitor
        self.client = client
        self.logger = logger
    }

    /// Publishes once: the figures of `/health` now. Throws the client's `AWSServiceError`.
    public func publishOnce(at now: Date = Date()) async throws {
        let report = await monitor.report()
        let parameters = CloudWatchMetricData.putMetricDataParameters(
            namespace: settings.namespace, name: settings.name, datums: CloudWatchMetricData.datums(from: report), timestamp: now)
        _ = try await client.callQuery(operation: "PutMetricData", version: CloudWatchMetricData.version, parameters: parameters)
    }

    public func run() async throws {
        logger.info(
            "publishing health to CloudWatch",
            metadata: [
                "cloudwatch.namespace": "\(settings.namespace)", "cloudwatch.name": "\(settings.name)",
                "cloudwatch.endpoint": "\(client.endpoint.baseURL)", "cloudwatch.interval_seconds": "\(settings.intervalSeconds)",
            ])
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await publishOnce()
                if failing { logger.info("CloudWatch publishing works again", metadata: ["cloudwatch.namespace": "\(settings.namespace)"]) }
                failing = false
            } catch {
                if !failing {
                    logger.warning(
                        "CloudWatch publishing failed; trying again every interval",
                        metadata: [
                            "cloudwatch.namespace": "\(settings.namespace)", "error": "\(error)",
                        ])
                }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.interval) }
        }
    }
}
