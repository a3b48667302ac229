import Testing
import TestSupport
@testable import PGOutput

@Suite struct ReplicationMessageTests {
    @Test func kindBytesMatchTheProtocol() {
        #expect(ReplicationMessage.Kind.xLogData.rawValue == UInt8(ascii: "w"))
        #expect(ReplicationMessage.Kind.primaryKeepalive.rawValue == UInt8(ascii: "k"))
    }

    @Test func decodesXLogDataAndItsPGOutputPayload() throws {
        let begin = Fixture.begin(finalLSN: LSN(100), commitTimestamp: .postgresEpoch, xid: 3)
        let frame = Fixture.xLogData(walStart: LSN(90), walEnd: LSN(200), serverTime: .init(microsecondsSince2000: 1), payload: begin)
        let message = try ReplicationMessage.decode(frame)
        #expect(message.kind == .xLogData)
        guard case .xLogData(let xLogData) = message else { Issue.record("not XLogData"); return }
        #expect(try xLogData.decodeMessage() == .begin(.init(finalLSN: LSN(100), commitTimestamp: .postgresEpoch, xid: 3)))
    }

    @Test func decodesPrimaryKeepalive() throws {
        let frame = Fixture.keepalive(walEnd: LSN(5), serverTime: .init(microsecondsSince2000: 9), replyRequested: 1)
        #expect(
            try ReplicationMessage.decode(frame)
                == .primaryKeepalive(
                    .init(
                        walEnd: LSN(5), serverTime: .init(microsecondsSince2000: 9), replyRequested: true)))
    }

    @Test func decodeFailsOnUnknownMessageType() {
        for byte in [UInt8(ascii: "d"), UInt8(ascii: "r"), UInt8(ascii: "B"), 0] {
            let error = decodeError { () throws(PGOutputError) in try ReplicationMessage.decode([byte] + [UInt8](repeating: 0, count: 24)) }
            #expect(error?.code == .unknownMessageType)
            #expect(error?.offset == 0)
        }
    }

    @Test func decodeFailsOnEmptyFrame() {
        #expect(decodeError { () throws(PGOutputError) in try ReplicationMessage.decode([]) }?.code == .truncated)
    }

    @Test func errorsNameTheReplicationMessage() {
        let error = decodeError { () throws(PGOutputError) in try ReplicationMessage.decode([UInt8(ascii: "k"), 0, 0]) }
        #expect(error?.messageKind == "Primary keepalive")
    }

    @Test func randomFramesNeverCrashTheDecoder() {
        var random = FuzzSeed.generator(for: "randomFramesNeverCrashTheDecoder")
        let seed = random.seed
        var framed = 0, refused = 0
        for _ in 0..<10_000 {
            var bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !bytes.isEmpty { bytes[0] = Bool.random(using: &random) ? UInt8(ascii: "w") : UInt8(ascii: "k") }
            do {
                if case .xLogData(let data) = try ReplicationMessage.decode(bytes) { _ = try? data.decodeMessage() }
                framed += 1
            } catch {
                #expect(error.offset <= bytes.count, "seed \(seed): offset \(error.offset) of \(bytes.count) bytes")
                refused += 1
            }
        }
        #expect(framed > 0 && refused > 0, "seed \(seed): framed \(framed), refused \(refused)")
    }
}
