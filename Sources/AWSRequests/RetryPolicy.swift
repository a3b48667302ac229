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

/// Sends one request until an answer is 2xx, a failure is not one a retry can cure, or `policy`
/// gives up: the loop S3 and the JSON/query services share. Each attempt gets a request signed anew
/// by `request` (credentials rotate, and a signature holds its time); `request` throwing ends the
/// loop with its error (no credentials). Returns the answer and the retries it took.
///
/// - `failure` turns a non-2xx answer into the caller's error and whether a retry may cure it;
/// - `transportFailure` does the same for a transport error (retryable as the transport says);
/// - `retrying` is told before each wait (the failure, the attempt that failed, the delay);
/// - `givingUp` makes the error thrown from the last failure, whether it was retryable, why the
///   loop stops and the attempts made.
package func sendRetrying<Failure: Error>(
    policy: RetryPolicy, transport: any HTTPTransport,
    request: () async throws -> HTTPRequest,
    failure: (HTTPResponse) -> (Failure, retryable: Bool),
    transportFailure: (TransportError) -> Failure,
    retrying: (Failure, _ attempt: Int, _ delay: Duration) -> Void,
    givingUp: (Failure, _ retryable: Bool, _ reason: String, _ attempts: Int) -> Failure
) async throws -> (response: HTTPResponse, retries: Int) {
    var schedule = RetrySchedule(policy: policy)
    let clock = ContinuousClock()
    let start = clock.now
    var retries = 0
    while true {
        schedule.attemptStarted()
        let sent = try await request()
        let failed: Failure
        let retryable: Bool
        do {
            let response = try await transport.send(sent)
            if (200..<300).contains(response.status) { return (response, retries) }
            (failed, retryable) = failure(response)
        } catch let e as TransportError {
            (failed, retryable) = (transportFailure(e), e.isRetryable)
        }
        switch schedule.afterFailure(retryable: retryable, elapsed: clock.now - start, unit: Double.random(in: 0..<1)) {
        case .retry(let delay):
            retries += 1
            retrying(failed, schedule.attempts, delay)
            try await Task.sleep(for: delay)
        case .giveUp(let reason):
            throw givingUp(failed, retryable, reason, schedule.attempts)
        }
    }
}
