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
                        guard release.wait(timeout: .now() + 20) == .success else { throw Refused(reason: "never released") }
                        return i
                    }
                }
            }
            for _ in 0..<count { #expect(started.wait(timeout: .now() + 20) == .success) }
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

    @Test func startedJobsRunAtOnceAndJoinInAnyOrder() throws {
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
        #expect(try b.join() == 2)
        #expect(try a.join() == 1)
    }

    @Test func aJobThrowsItsErrorFromJoin() {
        let job = DedicatedThread.start(name: "replicatord-test") { () throws -> Int in throw Refused(reason: "bad batch") }
        #expect(throws: Refused(reason: "bad batch")) { try job.join() }
    }

    @Test func aJobFinishedByAnotherThreadWakesItsJoin() throws {
        let job = DedicatedThread.Job<String>()
        DedicatedThread.detach(name: "replicatord-test") { job.finish(.success("done")) }
        #expect(try job.join() == "done")
    }
}
