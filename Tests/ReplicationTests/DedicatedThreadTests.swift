import Foundation
import Testing
@testable import Replication

@Suite struct DedicatedThreadTests {
    struct Refused: Error, Equatable { var reason: String }

    @Test func blockingBodiesRunOffTheCooperativePool() async throws {
        // More bodies than the pool has threads on this machine (its cores), each blocked until
        // all have started: they only all finish if each has a thread of its own.
        let count = ProcessInfo.processInfo.activeProcessorCount + 2
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<count {
                group.addTask {
                    try await DedicatedThread.run(name: "replicatord-test") { () throws -> Int in
                        started.signal()
                        guard release.wait(timeout: .now() + 120) == .success else { throw Refused(reason: "never released") }
                        return i
                    }
                }
            }
            // The waiting is blocking too: it gets a thread of its own, never one of the pool's.
            let allStarted = try await DedicatedThread.run(name: "replicatord-test") {
                (0..<count).allSatisfy { _ in started.wait(timeout: .now() + 120) == .success }
            }
            #expect(allStarted)
            for _ in 0..<count { release.signal() }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.sorted() == Array(0..<count))
    }

    @Test func runThrowsTheBodysError() async {
        await #expect(throws: Refused(reason: "no")) {
            try await DedicatedThread.run(name: "replicatord-test") { () throws -> Int in throw Refused(reason: "no") }
        }
    }

    @Test func startedJobsRunAtOnceAndJoinInAnyOrder() async throws {
        let (a, b) = try await DedicatedThread.run(name: "replicatord-test") { try Self.joinInAnyOrder() }
        #expect(a == 1 && b == 2)
    }

    /// Blocking: run on a thread of its own, never on the pool.
    static func joinInAnyOrder() throws -> (Int, Int) {
        // Two jobs that each wait for the other: they can only finish if both run at the same time.
        let first = DispatchSemaphore(value: 0), second = DispatchSemaphore(value: 0)
        let a = DedicatedThread.start(name: "replicatord-a") { () throws -> Int in
            first.signal()
            guard second.wait(timeout: .now() + 10) == .success else { throw Refused(reason: "b never ran") }
            return 1
        }
        let b = DedicatedThread.start(name: "replicatord-b") { () throws -> Int in
            second.signal()
            guard first.wait(timeout: .now() + 10) == .success else { throw Refused(reason: "a never ran") }
            return 2
        }
        let fromB = try b.join()
        return (try a.join(), fromB)
    }

    @Test func aJobThrowsItsErrorFromJoin() async throws {
        let thrown = try await DedicatedThread.run(name: "replicatord-test") { () -> Refused? in
            let job = DedicatedThread.start(name: "replicatord-test") { () throws -> Int in throw Refused(reason: "bad batch") }
            do { _ = try job.join(); return nil } catch let error as Refused { return error }
        }
        #expect(thrown == Refused(reason: "bad batch"))
    }

    @Test func aJobFinishedByAnotherThreadWakesItsJoin() async throws {
        let value = try await DedicatedThread.run(name: "replicatord-test") { () throws -> String in
            let job = DedicatedThread.Job<String>()
            DedicatedThread.detach(name: "replicatord-test") { job.finish(.success("done")) }
            return try job.join()
        }
        #expect(value == "done")
    }
}
