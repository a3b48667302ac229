// MARK: - [cloudwatch]

extension Configuration {
    /// `[cloudwatch]`: the daemon publishes a few health figures to Amazon CloudWatch itself
    /// (``CloudWatchPublisher``), for alarms. Off unless `namespace` is set.
    ///
    /// ```toml
    /// [cloudwatch]
    /// namespace        = ""   # "" = publish nothing; e.g. "replicatord"
    /// region           = ""   # "" = [target] region
    /// interval_seconds = 60   # between two PutMetricData calls, 10...3600
    /// name             = ""   # the value of the metrics' Replicator dimension; "" = [source] slot
    /// endpoint         = ""   # "" = https://monitoring.REGION.amazonaws.com; else http(s)://host[:port]
    /// ```
    public struct CloudWatch: Sendable, Equatable {
        /// `namespace`, default `""` (publishing off).
        public var namespace: String
        /// `region`, default `""`: the `[target] region` (``resolved(targetRegion:slot:)``).
        public var region: String
        /// `interval_seconds`, default `60`.
        public var intervalSeconds: Int
        /// `name`, default `""`: the `[source] slot` (``resolved(targetRegion:slot:)``).
        public var name: String
        /// `endpoint`, default `""` (AWS's endpoint of the region).
        public var endpoint: String

        /// Settings as the file has them; `""` for region and name stand for the other sections' values.
        public init(namespace: String = "", region: String = "", intervalSeconds: Int = 60, name: String = "", endpoint: String = "") {
            self.namespace = namespace
            self.region = region
            self.intervalSeconds = intervalSeconds
            self.name = name
            self.endpoint = endpoint
        }

        /// These settings with `region` and `name` filled in: `targetRegion` and `slot` where empty.
        public func resolved(targetRegion: String, slot: String) -> CloudWatch {
            var out = self
            if out.region.isEmpty { out.region = targetRegion }
            if out.name.isEmpty { out.name = slot }
            return out
        }

        /// Whether the daemon publishes (a namespace is set).
        public var isEnabled: Bool { !namespace.isEmpty }

        /// The time between two publications.
        public var interval: Duration { .seconds(intervalSeconds) }
    }
}

extension ConfigurationLoader {
    /// Reads `[cloudwatch]` (`region` and `name` stay `""` when absent: see ``Configuration/CloudWatch/resolved(targetRegion:slot:)``).
    static func readCloudWatch(_ s: SectionReader) throws(ConfigurationError) -> Configuration.CloudWatch {
        let namespace = try s.string("namespace", default: "")
        try s.check("namespace") { () throws(ValueProblem) in
            // CloudWatch: 1 to 255 characters, no "AWS/" prefix (reserved), printable ASCII.
            guard namespace.utf8.count <= 255, namespace.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw ValueProblem("expected at most 255 printable ASCII characters without spaces, got \"\(namespace)\"")
            }
            guard !namespace.hasPrefix("AWS/") else { throw ValueProblem("namespaces starting with \"AWS/\" are AWS's own") }
        }
        let region = try s.string("region", default: "")
        try s.check("region") { () throws(ValueProblem) in
            guard !region.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                throw ValueProblem("expected \"\" ([target] region) or a region name such as \"us-east-1\", got \"\(region)\"")
            }
        }
        let interval = try s.int("interval_seconds", default: 60, in: 10...3600)
        let name = try s.string("name", default: "")
        try s.check("name") { () throws(ValueProblem) in
            guard name.utf8.count <= 255, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw ValueProblem("expected a dimension value of at most 255 bytes without control characters")
            }
        }
        let endpointText = try s.string("endpoint", default: "")
        let endpoint = try s.check("endpoint") { () throws(ValueProblem) in try checkEndpoint(endpointText) }
        return .init(namespace: namespace, region: region, intervalSeconds: interval, name: name, endpoint: endpoint)
    }
}
