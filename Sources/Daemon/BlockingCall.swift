import Foundation
import Replication

/// Runs async work from a dedicated (non-pool) thread and waits for it: the bridge the blocking
/// PostgreSQL readers use to hand bytes to the async object store. Never call it from a task on
/// the cooperative pool.
enum BlockingCall {
    @discardableResult
    static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let job = DedicatedThread.Job<T>()
        Task {
            do { job.finish(.success(try await body())) } catch { job.finish(.failure(error)) }
        }
        return try job.join()
    }
}
