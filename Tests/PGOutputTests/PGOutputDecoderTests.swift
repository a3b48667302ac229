import Testing
@testable import PGOutput

@Suite struct PGOutputDecoderTests {
    private func frame(_ payload: [UInt8]) throws -> XLogData {
        let bytes = Fixture.xLogData(walStart: LSN(1), walEnd: LSN(2), serverTime: .postgresEpoch, payload: payload)
        guard case .xLogData(let data) = try ReplicationMessage.decode(bytes) else {
            throw PGOutputError(code: .invalidValue, offset: 0, detail: "not XLogData")
        }
        return data
    }

    @Test func readsStreamedXidOnlyBetweenStreamStartAndStop() throws {
        var decoder = PGOutputDecoder()
        let insert = Fixture.insert(relationOID: 16384, new: [.text("1")])

        #expect(try decoder.decode(frame(insert)).streamedXid == nil)
        #expect(try decoder.decode(frame(Fixture.streamStart(xid: 500, firstSegment: 1))) == .streamStart(.init(xid: 500, isFirstSegment: true)))
        #expect(decoder.inStreamedTransaction)
        let streamed = try decoder.decode(frame(Fixture.streamed(insert, xid: 500)))
        #expect(streamed.streamedXid == 500)
        guard case .insert(let decodedInsert) = streamed else { Issue.record("not an Insert"); return }
        #expect(decodedInsert.newTuple.fixtureValues == [.text("1")])
        #expect(try decoder.decode(frame(Fixture.streamStop())) == .streamStop)
        #expect(!decoder.inStreamedTransaction)
        #expect(
            try decoder.decode(frame(Fixture.streamCommit(xid: 500, commitLSN: LSN(9), endLSN: LSN(10), commitTimestamp: .postgresEpoch))).kind == .streamCommit
        )
        #expect(try decoder.decode(frame(insert)).streamedXid == nil)
    }

    @Test func failedDecodeLeavesStateUnchanged() throws {
        var decoder = PGOutputDecoder()
        _ = try decoder.decode(frame(Fixture.streamStart(xid: 1, firstSegment: 0)))
        #expect(throws: PGOutputError.self) { try decoder.decode(frame(Fixture.streamStop() + [0])) }
        #expect(decoder.inStreamedTransaction)
    }

    @Test func passesParallelStreamingToStreamAbort() throws {
        var decoder = PGOutputDecoder(parallelStreaming: true)
        let abort = Fixture.streamAbort(xid: 3, subtransactionXid: 4, abort: (LSN(7), .postgresEpoch))
        guard case .streamAbort(let decoded) = try decoder.decode(frame(abort)) else { Issue.record("not a Stream Abort"); return }
        #expect(decoded.abort?.lsn == LSN(7))
        #expect(decoder.context == .init(inStreamedTransaction: false, parallelStreaming: true))
    }

    @Test func decodesFromAReader() throws {
        var decoder = PGOutputDecoder()
        var reader = ByteReader(Fixture.begin(finalLSN: LSN(1), commitTimestamp: .postgresEpoch, xid: 2))
        #expect(try decoder.decode(from: &reader).kind == .begin)
        #expect(reader.isAtEnd)
    }
}
