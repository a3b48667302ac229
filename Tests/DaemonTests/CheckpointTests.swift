import Testing
@testable import Daemon
import Replication

@Suite struct CheckpointTests {
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
        var state = Checkpoint(slot: "s", publication: "p", systemID: "1", phase: .cdc, confirmedLSN: LSN(0x16B3748))
        state.tables["public.t"] = .init(status: .replicating, oid: 42, cdcStartLSN: LSN(0x1))
        state.pending = .init(endLSN: LSN(0x2), files: ["public/t/20261124-191512345.parquet"])
        #expect(try Checkpoint.decode(state.encoded()) == state)
        #expect(throws: EngineError.self) { try Checkpoint.decode(Array("{".utf8)) }
    }

    /// A checkpoint as 0.x versions stored it (LSNs as `X/Y` text), byte for byte.
    static let storedCheckpoint = """
        {
          "confirmedLSN" : "1A/2B3C4D5E",
          "pending" : {
            "endLSN" : "1A/2B3C4F00",
            "files" : [
              "public/t/20261124-191512345.parquet"
            ]
          },
          "phase" : "cdc",
          "publication" : "p",
          "slot" : "s",
          "systemID" : "7312345678901234567",
          "tables" : {
            "public.t" : {
              "bytesWritten" : 0,
              "cdcStartLSN" : "0/16B3748",
              "deletes" : 0,
              "filesWritten" : 0,
              "fullLoadRows" : 0,
              "inserts" : 0,
              "lastChangeLSN" : "1A/2B3C4D5E",
              "loadFiles" : 0,
              "oid" : 42,
              "status" : "replicating",
              "truncates" : 0,
              "updates" : 0
            }
          },
          "version" : 1
        }
        """

    @Test func aStoredCheckpointLoadsWithTypedLSNsAndStoresTheSameBytes() throws {
        let state = try Checkpoint.decode(Array(Self.storedCheckpoint.utf8))
        #expect(state.confirmedLSN == LSN(0x1A_2B3C_4D5E))
        #expect(state.pending?.endLSN == LSN(0x1A_2B3C_4F00))
        #expect(state.tables["public.t"]?.cdcStartLSN == LSN(0x16B_3748))
        #expect(state.tables["public.t"]?.lastChangeLSN == LSN(0x1A_2B3C_4D5E))
        // Foundation's JSONEncoder writes `/` as `\/`, in the LSNs as in the keys, as it always did.
        let reencoded = String(decoding: try state.encoded(), as: UTF8.self)
        #expect(reencoded == Self.storedCheckpoint.replacingOccurrences(of: "/", with: "\\/"), "\(reencoded)")
        #expect(try Checkpoint.decode(Array(reencoded.utf8)) == state)
    }

    @Test(arguments: [
        ("\"confirmedLSN\" : \"1A/2B3C4D5E\"", "\"confirmedLSN\" : \"none\"", "field confirmedLSN: \"none\" is not an LSN"),
        ("\"endLSN\" : \"1A/2B3C4F00\"", "\"endLSN\" : \"1A-2B3C4F00\"", "field pending.endLSN: \"1A-2B3C4F00\" is not an LSN"),
        ("\"cdcStartLSN\" : \"0/16B3748\"", "\"cdcStartLSN\" : \"\"", "field tables.public.t.cdcStartLSN: \"\" is not an LSN"),
        ("\"lastChangeLSN\" : \"1A/2B3C4D5E\"", "\"lastChangeLSN\" : \"123456789/0\"", "field tables.public.t.lastChangeLSN: \"123456789/0\" is not an LSN"),
    ])
    func aCheckpointLSNThatIsNotAnLSNIsRefusedNamingTheFieldAndTheValue(good: String, bad: String, expected: String) throws {
        let text = Self.storedCheckpoint.replacingOccurrences(of: good, with: bad)
        #expect(text != Self.storedCheckpoint)
        let error = try #require(throws: EngineError.self) { try Checkpoint.decode(Array(text.utf8)) }
        #expect(error.code == .stateCorrupt)
        #expect(error.message.contains(expected), "\(error.message)")
        #expect(error.message.hasPrefix("\(Checkpoint.key) cannot be read"))
        // The store's reader (the checkpoint head) says the same.
        let head = try #require(throws: EngineError.self) { try CheckpointLayout.Head.decode(Array(text.utf8)) }
        #expect(head.message.contains(expected), "\(head.message)")
    }

    @Test func anLSNThatIsNotTextIsRefusedNamingTheField() throws {
        let text = Self.storedCheckpoint.replacingOccurrences(of: "\"confirmedLSN\" : \"1A/2B3C4D5E\"", with: "\"confirmedLSN\" : 42")
        let error = try #require(throws: EngineError.self) { try Checkpoint.decode(Array(text.utf8)) }
        #expect(error.message.contains("confirmedLSN"), "\(error.message)")
    }
}
