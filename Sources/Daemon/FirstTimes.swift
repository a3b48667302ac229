import Synchronization

/// Remembers which keys were seen, for work done once per key and process (a thread-safe set).
public final class FirstTimes: Sendable {
    private let seen = Mutex<Set<String>>([])

    public init() {}

    /// True the first time `key` is given, false after.
    public func firstTime(_ key: String) -> Bool {
        seen.withLock { $0.insert(key).inserted }
    }
}
