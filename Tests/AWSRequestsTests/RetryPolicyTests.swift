import Testing
@testable import AWSRequests

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .milliseconds(500), totalDeadline: .seconds(2))

    @Test func backoffDoublesUpToTheCap() {
        #expect(policy.backoffCeiling(failedAttempts: 1) == .milliseconds(100))
        #expect(policy.backoffCeiling(failedAttempts: 2) == .milliseconds(200))
        #expect(policy.backoffCeiling(failedAttempts: 3) == .milliseconds(400))
        #expect(policy.backoffCeiling(failedAttempts: 4) == .milliseconds(500))
        #expect(policy.backoffCeiling(failedAttempts: 50) == .milliseconds(500))
    }

    @Test func jitterScalesTheCeiling() {
        var s = RetrySchedule(policy: policy)
        s.attemptStarted()
        s.attemptStarted()
        #expect(s.afterFailure(retryable: true, elapsed: .zero, unit: 0.5) == .retry(after: .milliseconds(100)))
        #expect(s.afterFailure(retryable: true, elapsed: .zero, unit: 0) == .retry(after: .zero))
    }

    @Test func nonRetryableFailuresGiveUpAtOnce() {
        var s = RetrySchedule(policy: policy)
        s.attemptStarted()
        #expect(s.afterFailure(retryable: false, elapsed: .zero, unit: 0.5) == .giveUp(reason: "not retryable"))
    }

    @Test func attemptsAreCapped() {
        var s = RetrySchedule(policy: policy)
        var decisions: [RetryDecision] = []
        for _ in 0..<5 {
            s.attemptStarted()
            decisions.append(s.afterFailure(retryable: true, elapsed: .zero, unit: 0.99))
        }
        #expect(decisions.prefix(4).allSatisfy { if case .retry = $0 { true } else { false } })
        #expect(decisions[4] == .giveUp(reason: "5 attempts made"))
    }

    @Test func totalDeadlineStopsRetriesWithAManualClock() {
        var s = RetrySchedule(policy: policy)
        var elapsed: Duration = .zero
        var retries = 0
        while true {
            s.attemptStarted()
            elapsed += .milliseconds(700)  // each attempt takes 0.7 s on the manual clock
            guard case .retry(let delay) = s.afterFailure(retryable: true, elapsed: elapsed, unit: 0.99) else { break }
            elapsed += delay
            retries += 1
        }
        #expect(retries == 2)
        #expect(elapsed < .seconds(3))
    }
}
