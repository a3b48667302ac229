/// Capped exponential backoff with full jitter and a total deadline, as in
/// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/ : the n-th retry waits a
/// uniformly random time in `[0, min(maxDelay, baseDelay * 2^n)]`.
public struct RetryPolicy: Sendable, Equatable {
    /// Most attempts of one request, the first included.
    public var maxAttempts: Int
    /// Backoff before the first retry (upper bound of its jitter).
    public var baseDelay: Duration
    /// Largest backoff.
    public var maxDelay: Duration
    /// No retry starts after this much time since the first attempt.
    public var totalDeadline: Duration

    /// Defaults: 10 attempts, 100 ms doubling up to 10 s, 5 minutes in all.
    public init(
        maxAttempts: Int = 10, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(10),
        totalDeadline: Duration = .seconds(300)
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.totalDeadline = totalDeadline
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Upper bound of the backoff after `failedAttempts` failures (1 for the first retry).
    public func backoffCeiling(failedAttempts: Int) -> Duration {
        var d = baseDelay
        var n = 1
        while n < failedAttempts && d < maxDelay {
            d = d * 2
            n += 1
        }
        return min(d, maxDelay)
    }
}

/// What to do after an attempt failed.
package enum RetryDecision: Equatable, Sendable {
    /// Wait this long, then try again.
    case retry(after: Duration)
    /// Stop and report the failure.
    case giveUp(reason: String)
}

/// The retry state of one request: a value type that does no I/O; the caller supplies the elapsed time
/// and the random source, so tests drive it with a manual clock.
package struct RetrySchedule: Sendable {
    /// The policy.
    package let policy: RetryPolicy
    /// Attempts made so far.
    package private(set) var attempts = 0

    /// A schedule before the first attempt.
    package init(policy: RetryPolicy) {
        self.policy = policy
    }

    /// Records that an attempt is starting.
    package mutating func attemptStarted() {
        attempts += 1
    }

    /// Decides after a failed attempt; `elapsed` is the time since the first attempt started, `retryable`
    /// whether the failure is one a retry can fix, `unit` a number in [0, 1) for the jitter.
    package func afterFailure(retryable: Bool, elapsed: Duration, unit: Double) -> RetryDecision {
        guard retryable else { return .giveUp(reason: "not retryable") }
        guard attempts < policy.maxAttempts else { return .giveUp(reason: "\(attempts) attempts made") }
        let ceiling = policy.backoffCeiling(failedAttempts: attempts)
        let delay = ceiling * max(0, min(unit, 1))
        guard elapsed + delay < policy.totalDeadline else {
            return .giveUp(reason: "deadline of \(policy.totalDeadline) reached")
        }
        return .retry(after: delay)
    }
}
