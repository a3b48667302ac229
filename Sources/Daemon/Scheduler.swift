import Dispatch
import Foundation
import Logging

/// Runs a cycle every interval until SIGTERM or SIGINT. A signal lets the running cycle finish
/// (so no half-written object is visible and no LSN is confirmed beyond what is stored), then
/// returns. A failed cycle is retried at the next interval, with capped backoff between
/// consecutive failures; a failure that cannot heal (the slot lost, another cluster, an unreadable
/// checkpoint) ends the run with the error.
public struct Scheduler: Sendable {
    let engine: Engine
    let interval: Duration
    let logger: Logger

    public init(engine: Engine, interval: Duration, logger: Logger) {
        self.engine = engine
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let stop = StopSignal()
        var failures = 0
        while !stop.requested {
            let started = ContinuousClock.now
            do {
                _ = try await engine.runCycle()
                failures = 0
            } catch let error as EngineError where [.slotLost, .wrongCluster, .stateCorrupt].contains(error.code) {
                logger.critical("cannot continue", metadata: ["error": "\(error)"])
                throw error
            } catch {
                failures += 1
                logger.error("cycle failed; retrying", metadata: ["error": "\(error)", "failures": "\(failures)"])
            }
            let wait: Duration = failures == 0 ? interval - (ContinuousClock.now - started)
                : min(interval, .seconds(min(60, 1 << min(failures, 6))))
            await stop.sleep(for: wait)
        }
        logger.notice("stopping: signal received, the last cycle ended cleanly")
    }
}

/// SIGTERM / SIGINT as a flag and a wake-up for sleeps.
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var sources: [DispatchSourceSignal] = []
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init() {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.trigger() }
            source.resume()
            sources.append(source)
        }
    }

    var requested: Bool { lock.withLock { stopped } }

    private func trigger() {
        let toWake = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            stopped = true
            defer { waiters = [] }
            return waiters
        }
        toWake.forEach { $0.resume() }
    }

    /// Sleeps for `duration` or until a signal, whichever is first.
    func sleep(for duration: Duration) async {
        guard duration > .zero else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask {
                await withCheckedContinuation { continuation in
                    let already = self.lock.withLock { () -> Bool in
                        if self.stopped { return true }
                        self.waiters.append(continuation)
                        return false
                    }
                    if already { continuation.resume() }
                }
            }
            await group.next()
            group.cancelAll()
            if !requested {
                // Wake the signal waiter so the group can finish.
                let toWake = lock.withLock { () -> [CheckedContinuation<Void, Never>] in defer { waiters = [] }; return waiters }
                toWake.forEach { $0.resume() }
            }
        }
    }
}
