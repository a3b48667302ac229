import Foundation

/// The full load's small tables in flight: a reader that has encoded a small table hands the
/// completion of its upload (and the table's record) to this window and goes on with the next
/// table, so that against S3 many small tables' requests are under way at once instead of one per
/// reader. Bounded in count and in bytes (an object not completed yet is held in memory by an S3
/// upload); a reader waits for room. The readers themselves (``EngineSettings/parallelTables``,
/// the big tables' setting) are not changed by it.
///
/// The first failure is reported by the next ``submit(bytes:_:)`` and by ``drain()``; a table
/// whose upload failed is not recorded, so it is loaded again.
final class SmallTableUploads: @unchecked Sendable {
    /// A table whose single LOAD file is at most this large may complete in the background.
    static let smallTableBytes = 1 << 20
    /// Completions in flight at most ...
    let maxInFlight: Int
    /// ... and their bytes at most (one object of any size may always be in flight).
    let maxBytes: Int

    private let condition = NSCondition()
    private var inFlight = 0
    private var bytes = 0
    private var failure: (any Error)?

    init(maxInFlight: Int = 32, maxBytes: Int = 32 << 20) {
        self.maxInFlight = maxInFlight
        self.maxBytes = maxBytes
    }

    /// Starts `work` (the upload's completion and the table's record) once there is room; blocks
    /// the calling reader thread until then. Throws the first failure of earlier work.
    func submit(bytes size: Int, _ work: @escaping @Sendable () async throws -> Void) throws {
        condition.lock()
        while failure == nil && inFlight > 0 && (inFlight >= maxInFlight || bytes + size > maxBytes) { condition.wait() }
        if let failure {
            condition.unlock()
            throw failure
        }
        inFlight += 1
        bytes += size
        condition.unlock()
        Task {
            var error: (any Error)?
            do { try await work() } catch let e { error = e }
            self.finished(size: size, error: error)
        }
    }

    private func finished(size: Int, error: (any Error)?) {
        condition.lock()
        inFlight -= 1
        bytes -= size
        if let error, failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until nothing is in flight (blocking); throws the first failure, if any.
    func drain() throws {
        condition.lock()
        while inFlight > 0 { condition.wait() }
        let failed = failure
        condition.unlock()
        if let failed { throw failed }
    }
}
