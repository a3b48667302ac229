import Foundation

/// Runs blocking work (libpq calls) on a thread of its own, so it never blocks Swift's cooperative
/// thread pool (two threads on these machines), and returns its result to the async caller.
public enum DedicatedThread {
    /// Runs `body` on a new thread named `name` and returns its result.
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            thread.name = name
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
