import Testing
@testable import Daemon

@Suite struct ReplicationStateTests {
    @Test func loadFileNamesCountInHexAsDMS() {
        #expect(FileNaming.loadFile(1) == "LOAD00000001.parquet")
        #expect(FileNaming.loadFile(10) == "LOAD0000000A.parquet")
        #expect(FileNaming.loadFile(0x1F0) == "LOAD000001F0.parquet")
    }

    @Test func cdcNamesAreUTCMillisecondsAndNeverGoBackwards() {
        // 2026-11-24 19:15:12.345 UTC
        let ms: Int64 = 1_795_547_712_345
        #expect(FileNaming.cdcName(unixMilliseconds: ms) == "20261124-191512345")
        #expect(FileNaming.cdcMilliseconds("20261124-191512345") == ms)
        #expect(FileNaming.nextCDCName(now: ms, after: "20261124-191512345") == "20261124-191512346")
        #expect(FileNaming.nextCDCName(now: ms - 5000, after: "20261124-191512345") == "20261124-191512346")
        #expect(FileNaming.nextCDCName(now: ms + 1, after: nil) == "20261124-191512346")
        #expect(FileNaming.cdcMilliseconds("LOAD00000001") == nil)
    }

    @Test func stateRoundTripsThroughJSON() throws {
        var state = ReplicationState(slot: "s", publication: "p", systemID: "1", phase: .cdc, confirmedLSN: "0/16B3748")
        state.tables["public.t"] = .init(status: .replicating, oid: 42, cdcStartLSN: "0/1")
        state.pending = .init(endLSN: "0/2", files: ["public/t/20261124-191512345.parquet"])
        #expect(try ReplicationState.decode(state.encoded()) == state)
        #expect(throws: EngineError.self) { try ReplicationState.decode(Array("{".utf8)) }
    }
}
