import Foundation

/// Runs async work from a dedicated (non-pool) thread and waits for it: the bridge the blocking
/// PostgreSQL readers use to hand bytes to the async object store. Never call it from a task on
/// the cooperative pool.
enum BlockingBridge {
    private final class Box<T>: @unchecked Sendable { var result: Result<T, any Error>? }

    @discardableResult
    static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let semaphore = DispatchSemaphore(value: 0)
        let box = Box<T>()
        Task {
            do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            semaphore.signal()
        }
        semaphore.wait()
        return try box.result!.get()
    }
}

/// Hands a non-Sendable value (a libpq connection) from one thread to another that becomes its
/// only user. The sender must not touch it afterwards.
final class HandOff<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
