import Foundation
import Replication
import Synchronization

/// Writes a CDC cycle's files several at a time: a cycle in which thousands of tables changed
/// writes thousands of small files, each a round trip to S3 (or an fsync on a directory), and one
/// after another they cost what their number costs. Small segments go up to ``parallelism`` at a
/// time; large ones (many rows, or spooled) one at a time after them, so memory stays what one
/// large segment needs plus a few small ones.
enum SegmentUploads {
    /// Files written at once.
    static let parallelism = 8
    /// A segment of at most this many rows, not spooled, counts as small.
    static let smallRows = 10_000

    /// Runs `write(i)` for every index in `0..<count` and returns the results in index order;
    /// `isSmall(i)` says which may run alongside others. Blocking; the first error is thrown once
    /// every started write has ended (a failed cycle is redone whole).
    static func writeAll(count: Int, isSmall: (Int) -> Bool, _ write: @escaping @Sendable (Int) throws -> Int64) throws -> [Int64] {
        var results = [Int64](repeating: 0, count: count)
        let small = (0..<count).filter(isSmall)
        let large = (0..<count).filter { !isSmall($0) }
        if small.count > 1 {
            let shared = Shared(indices: small)
            let workers = (0..<min(parallelism, small.count)).map { _ in
                DedicatedThread.start(name: "replicatord-encode") { () throws -> Bool in
                    while let i = shared.next() {
                        do { shared.store(i, try write(i)) } catch {
                            shared.fail(error)
                            throw error
                        }
                    }
                    return true
                }
            }
            var failure: (any Error)?
            for worker in workers {
                do { _ = try worker.join() } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
            for (i, size) in shared.results { results[i] = size }
        } else {
            for i in small { results[i] = try write(i) }
        }
        for i in large { results[i] = try write(i) }
        return results
    }

    /// The indices left and the sizes written, shared by the worker threads.
    private final class Shared: Sendable {
        private struct State {
            var indices: [Int]
            var failed = false
            var results: [Int: Int64] = [:]
        }
        private let state: Mutex<State>

        init(indices: [Int]) { state = Mutex(State(indices: indices.reversed())) }

        var results: [Int: Int64] { state.withLock { $0.results } }
        func next() -> Int? { state.withLock { $0.failed ? nil : $0.indices.popLast() } }
        func store(_ i: Int, _ size: Int64) { state.withLock { $0.results[i] = size } }
        func fail(_ error: any Error) { state.withLock { $0.failed = true } }
    }
}
