import Foundation
import Synchronization

/// The one way replicatord runs blocking work (libpq calls, the Parquet encoder, the change feed's
/// reader) on a thread of its own, so it never blocks Swift's cooperative thread pool (two threads
/// on these machines). Three forms: ``run(name:_:)`` for an async caller, ``start(name:_:)`` for a
/// blocking caller that joins later, ``detach(name:_:)`` for a thread that lives on its own.
public enum DedicatedThread {
    /// Stack size of every dedicated thread (deep decoders and libpq callbacks).
    public static let stackBytes = 8 << 20

    /// Runs `body` on a new thread named `name` and returns its result to the async caller.
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            detach(name: name) {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
        }
    }

    /// Starts `body` on a new thread named `name`; the returned job's ``Job/join()`` blocks until
    /// its result is there.
    public static func start<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) -> Job<T> {
        let job = Job<T>()
        detach(name: name) {
            do { job.finish(.success(try body())) } catch { job.finish(.failure(error)) }
        }
        return job
    }

    /// Starts `body` on a new thread named `name` and does not wait for it.
    public static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.stackSize = stackBytes
        thread.start()
    }

    /// One result handed from the thread that makes it to the thread that waits for it.
    public final class Job<T: Sendable>: Sendable {
        private let done = DispatchSemaphore(value: 0)
        private let result = Mutex<Result<T, any Error>?>(nil)

        /// A job finished by ``finish(_:)`` (from any thread, once).
        public init() {}

        /// Stores the result and wakes ``join()``.
        public func finish(_ outcome: Result<T, any Error>) {
            result.withLock { $0 = outcome }
            done.signal()
        }

        /// Blocks until the result is there and returns it (or throws the job's error). Call once.
        public func join() throws -> T {
            done.wait()
            return try result.withLock { $0 }!.get()
        }
    }
}

/// Hands a non-Sendable value (a libpq connection, an open file) from one thread to another that
/// becomes its only user. The sender must not touch it afterwards.
public final class TransferredValue<T>: @unchecked Sendable {
    /// The value handed over.
    public let value: T
    /// Wraps `value` for the hand-off.
    public init(_ value: T) { self.value = value }
}
