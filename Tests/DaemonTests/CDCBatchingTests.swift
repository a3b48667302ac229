import Replication
import Testing
@testable import Daemon

/// `CdcMinFileSize` / `CdcMaxBatchInterval`: which tables a cycle writes, which it holds, and how
/// far the checkpoint (and so the slot's confirmed position) may go.
@Suite struct CDCBatchingTests {
    let batching = CDCBatching(minFileBytes: 1000, maxBatchIntervalSeconds: 60)
    let now: Int64 = 1_000_000_000_000  // microseconds

    func table(_ folder: String, bytes: Int64, age seconds: Int64, storedBefore: UInt64) -> CDCBatching.TableChanges {
        .init(folder: folder, bytes: bytes, oldestCommitTime: now - seconds * 1_000_000, storedBefore: LSN(storedBefore))
    }

    @Test func offWritesEveryTableEveryCycle() {
        let plan = CDCBatching().plan([table("a/", bytes: 1, age: 0, storedBefore: 10)], end: LSN(500), nowMicros: now, redoFolders: nil)
        #expect(plan.written == ["a/"] && plan.held.isEmpty && plan.confirmed == LSN(500))
        #expect(!CDCBatching().holdsChanges)
    }

    @Test func aSmallYoungTableIsHeldAndKeepsTheCheckpointAtItsStoredPosition() {
        let plan = batching.plan(
            [
                table("big/", bytes: 5000, age: 1, storedBefore: 100),
                table("small/", bytes: 10, age: 5, storedBefore: 200),
                table("old/", bytes: 10, age: 61, storedBefore: 50),
            ], end: LSN(500), nowMicros: now, redoFolders: nil)
        #expect(plan.written == ["big/", "old/"])
        #expect(plan.held == ["small/"])
        #expect(plan.confirmed == LSN(200))
    }

    @Test func theOldestHeldTableBoundsTheCheckpoint() {
        let plan = batching.plan(
            [
                table("a/", bytes: 10, age: 5, storedBefore: 300),
                table("b/", bytes: 10, age: 5, storedBefore: 120),
            ], end: LSN(500), nowMicros: now, redoFolders: nil)
        #expect(plan.held == ["a/", "b/"] && plan.written.isEmpty)
        #expect(plan.confirmed == LSN(120))
    }

    @Test func aRedoWritesExactlyTheTablesOfItsIntent() {
        // "small/" is old enough now, but the interrupted run held it: the redo holds it too, and
        // writes "big/" though it is small now (its intent names its file).
        let plan = batching.plan(
            [
                table("big/", bytes: 10, age: 1, storedBefore: 100),
                table("small/", bytes: 10, age: 600, storedBefore: 200),
            ], end: LSN(500), nowMicros: now, redoFolders: ["big/"])
        #expect(plan.written == ["big/"] && plan.held == ["small/"] && plan.confirmed == LSN(200))
    }

    @Test func aTablesStoredPositionIsTheLatestOfCheckpointLoadAndItsOwnWrites() {
        var state = Checkpoint.TableState(status: .replicating, oid: 1, cdcStartLSN: LSN(0x64))
        #expect(CDCBatching.storedBefore(state, confirmed: LSN(50)) == LSN(100))
        state.storedThroughLSN = LSN(0x1F4)
        #expect(CDCBatching.storedBefore(state, confirmed: LSN(50)) == LSN(500))
        #expect(CDCBatching.storedBefore(state, confirmed: LSN(600)) == LSN(600))
        #expect(CDCBatching.storedBefore(nil, confirmed: LSN(7)) == LSN(7))
    }
}
