import Testing
@testable import PGOutput

@Suite struct XLogDataTests {
    let payload = Fixture.insert(relationOID: 16384, new: [.text("7"), .null])

    var frame: [UInt8] {
        Fixture.xLogData(
            walStart: LSN(0x1_0000_0000), walEnd: LSN(0x1_0000_0100),
            serverTime: .init(microsecondsSince2000: 800_000_000_000_000), payload: payload)
    }

    @Test func decodesHeaderAndKeepsPayloadInPlace() throws {
        let frame = self.frame
        guard case .xLogData(let data) = try ReplicationMessage.decode(frame) else { Issue.record("not XLogData"); return }
        #expect(data.walStart == LSN(0x1_0000_0000))
        #expect(data.walEnd == LSN(0x1_0000_0100))
        #expect(data.serverTime == .init(microsecondsSince2000: 800_000_000_000_000))
        #expect(data.payloadRange == 25..<frame.count)
        #expect(Array(data.payload) == payload)
    }

    @Test func decodeMessageGivesRangesIntoTheFrame() throws {
        guard case .xLogData(let data) = try ReplicationMessage.decode(frame) else { Issue.record("not XLogData"); return }
        guard case .insert(let insert) = try data.decodeMessage() else { Issue.record("not an Insert"); return }
        #expect(insert.newTuple[0] == .text((25 + 13)..<(25 + 14)))
        #expect(insert.newTuple.fixtureValues == [.text("7"), .null])
    }

    @Test func decodeMessageReportsOffsetsFromThePayloadStart() throws {
        let broken = Fixture.xLogData(
            walStart: LSN(1), walEnd: LSN(2), serverTime: .postgresEpoch,
            payload: Array(payload.dropLast()))
        guard case .xLogData(let data) = try ReplicationMessage.decode(broken) else { Issue.record("not XLogData"); return }
        let error = decodeError { () throws(PGOutputError) in try data.decodeMessage() }
        #expect(error?.code == .truncated)
        #expect(error?.messageKind == "Insert")
        #expect(error?.offset == payload.count - 1)
    }

    @Test func decodesEmptyPayload() throws {
        let empty = Fixture.xLogData(walStart: LSN(1), walEnd: LSN(2), serverTime: .postgresEpoch, payload: [])
        guard case .xLogData(let data) = try ReplicationMessage.decode(empty) else { Issue.record("not XLogData"); return }
        #expect(data.payload.isEmpty)
        #expect(decodeError { () throws(PGOutputError) in try data.decodeMessage() }?.code == .truncated)
    }

    @Test func decodeFailsWhenHeaderTruncated() {
        let header = Array(frame[..<25])
        expectEveryPrefixTruncated(header) { (b) throws(PGOutputError) in try ReplicationMessage.decode(b) }
        let error = decodeError { () throws(PGOutputError) in try ReplicationMessage.decode(Array(header[..<10])) }
        #expect(error?.messageKind == "XLogData")
    }

    @Test func equalityComparesPayloadBytes() throws {
        guard case .xLogData(let a) = try ReplicationMessage.decode(frame) else { Issue.record("not XLogData"); return }
        let b = XLogData(
            walStart: a.walStart, walEnd: a.walEnd, serverTime: a.serverTime, bytes: payload,
            payloadRange: 0..<payload.count)
        #expect(a == b)
    }
}
