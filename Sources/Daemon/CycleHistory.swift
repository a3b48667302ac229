import Foundation

/// The recent cycles for the status page's charts (lag and rows written per cycle), kept in
/// memory in a ring of bounded size: at most ``capacity`` samples and none older than ``maxAge``.
/// With the default two-minute interval 720 samples span a day; with a 5 s one, an hour.
public struct CycleHistory: Sendable, Equatable {
    /// One finished cycle.
    public struct Sample: Sendable, Equatable, Codable {
        /// When the cycle ended.
        public var at: Date
        /// `full_load` or `cdc`.
        public var kind: String
        /// `success` or `failure`.
        public var outcome: String
        /// Rows stored by the cycle (a full load's: every table's LOAD rows).
        public var rows: Int
        /// WAL bytes not yet confirmed after the cycle; nil when unknown.
        public var lagBytes: Int64?
        /// Seconds of changes that may not be stored yet, after the cycle; nil before a success.
        public var lagSeconds: Double?

        public init(at: Date, kind: String, outcome: String, rows: Int, lagBytes: Int64?, lagSeconds: Double?) {
            self.at = at; self.kind = kind; self.outcome = outcome; self.rows = rows
            self.lagBytes = lagBytes; self.lagSeconds = lagSeconds
        }
    }

    /// The most samples kept.
    public let capacity: Int
    /// Samples older than this (from the newest) are dropped.
    public let maxAge: TimeInterval
    private var ring: [Sample] = []
    /// Index of the oldest sample once the ring is full.
    private var head = 0

    public init(capacity: Int = 720, maxAge: TimeInterval = 6 * 3600) {
        precondition(capacity > 0, "a history keeps at least one sample")
        self.capacity = capacity
        self.maxAge = maxAge
    }

    /// Adds a sample, overwriting the oldest when full.
    public mutating func append(_ sample: Sample) {
        if ring.count < capacity {
            ring.append(sample)
        } else {
            ring[head] = sample
            head = (head + 1) % capacity
        }
    }

    /// The samples, oldest first, within ``maxAge`` of the newest.
    public var samples: [Sample] {
        let ordered = Array(ring[head...] + ring[..<head])
        guard let newest = ordered.last else { return [] }
        return ordered.filter { newest.at.timeIntervalSince($0.at) <= maxAge }
    }

    public var count: Int { ring.count }
}
