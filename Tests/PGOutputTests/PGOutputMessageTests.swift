import Testing
import TestSupport
@testable import PGOutput

@Suite struct PGOutputMessageTests {
    @Test func kindBytesMatchTheProtocol() {
        let expected: [PGOutputMessage.Kind: Character] = [
            .begin: "B", .commit: "C", .origin: "O", .relation: "R", .type: "Y", .insert: "I", .update: "U",
            .delete: "D", .truncate: "T", .message: "M", .streamStart: "S", .streamStop: "E", .streamCommit: "c",
            .streamAbort: "A", .beginPrepare: "b", .prepare: "P", .commitPrepared: "K", .rollbackPrepared: "r",
            .streamPrepare: "p",
        ]
        #expect(expected.count == PGOutputMessage.Kind.allCases.count)
        for (kind, character) in expected {
            #expect(kind.rawValue == character.asciiValue, "\(kind)")
        }
    }

    @Test func decodesEverySupportedMessageWithItsKind() throws {
        for (name, bytes) in Fixture.everyPGOutputMessage {
            let message = try PGOutputMessage.decode(bytes)
            #expect(message.kind.name == name)
            #expect(message.kind.rawValue == bytes[0])
        }
    }

    @Test func decodeFailsWhenAnyMessageTruncated() {
        for (_, bytes) in Fixture.everyPGOutputMessage {
            expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
        }
    }

    @Test func decodeFailsWhenAnyMessageHasTrailingBytes() {
        for (name, bytes) in Fixture.everyPGOutputMessage {
            let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0x4E]) }
            #expect(error?.code == .trailingBytes, "\(name)")
            #expect(error?.messageKind == name)
            #expect(error?.offset == bytes.count)
        }
    }

    @Test func decodeFailsOnEmptyPayload() {
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode([]) }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 0)
    }

    @Test func decodeFailsOnUnknownMessageType() {
        for byte: UInt8 in [0, UInt8(ascii: "Z"), UInt8(ascii: "w"), 0xFF] {
            let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode([byte, 0, 0, 0, 0]) }
            #expect(error?.code == .unknownMessageType, "byte \(byte)")
            #expect(error?.offset == 0)
            #expect(error?.messageKind == nil)
        }
    }

    @Test func everyKindHasASample() {
        let sampled = Set(Fixture.everyPGOutputMessage.map { $0.bytes[0] } + [UInt8(ascii: "E")])
        #expect(sampled == Set(PGOutputMessage.Kind.allCases.map(\.rawValue)))
    }

    @Test func decodesStreamedDataMessagesWithTheirXid() throws {
        let context = PGOutputMessage.DecodingContext(inStreamedTransaction: true)
        for (name, bytes) in Fixture.everyPGOutputMessage {
            let kind = PGOutputMessage.Kind(rawValue: bytes[0])!
            guard kind.carriesStreamedXid else {
                // Control messages have no xid prefix, in a streamed chunk or not.
                #expect(try PGOutputMessage.decode(bytes, context: context).kind == kind, "\(name)")
                continue
            }
            let streamed = Fixture.streamed(bytes, xid: 0xDEAD_BEEF)
            let message = try PGOutputMessage.decode(streamed, context: context)
            #expect(message.streamedXid == 0xDEAD_BEEF, "\(name)")
            #expect(try PGOutputMessage.decode(bytes).streamedXid == nil, "\(name)")
            expectEveryPrefixTruncated(streamed) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b, context: context) }
        }
    }

    @Test func decodeFailsWhenStreamedMessageLacksItsXid() {
        let context = PGOutputMessage.DecodingContext(inStreamedTransaction: true)
        let bytes = Fixture.insert(relationOID: 1, new: [.null])
        // Without the xid the relation OID is read as the xid and 'N' as part of the OID.
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes, context: context) } != nil)
    }

    @Test func decodesFromARangeWithOffsetsCountedFromItsStart() throws {
        let message = Fixture.insert(relationOID: 5, new: [.text("ab")])
        let buffer: [UInt8] = [0xEE, 0xEE, 0xEE] + message + [0xEE]
        let decoded = try PGOutputMessage.decode(buffer, range: 3..<(3 + message.count))
        guard case .insert(let insert) = decoded else { Issue.record("not an Insert"); return }
        #expect(insert.newTuple[0] == .text((3 + 13)..<(3 + 15)))
        #expect(insert.newTuple.fixtureValues == [.text("ab")])

        let error = decodeError { () throws(PGOutputError) in
            try PGOutputMessage.decode(buffer, range: 3..<(3 + message.count - 1))
        }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 13)
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var random = FuzzSeed.generator(for: "randomBytesNeverCrashTheDecoder")
        let seed = random.seed
        let kinds = PGOutputMessage.Kind.allCases.map(\.rawValue)
        var decoded = 0, rejected = 0
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...48, using: &random)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !bytes.isEmpty, Bool.random(using: &random) { bytes[0] = kinds.randomElement(using: &random)! }
            let context = PGOutputMessage.DecodingContext(
                inStreamedTransaction: Bool.random(using: &random),
                parallelStreaming: Bool.random(using: &random))
            do {
                _ = try PGOutputMessage.decode(bytes, context: context)
                decoded += 1
            } catch {
                // A refusal is typed and points inside the input (or just past its end).
                #expect(error.offset <= bytes.count, "seed \(seed): offset \(error.offset) of \(bytes.count) bytes")
                rejected += 1
            }
        }
        // Both outcomes occur: the input reaches the decoder's bodies, not only its first check.
        #expect(decoded > 0 && rejected > 0, "seed \(seed): decoded \(decoded), rejected \(rejected)")
    }

    @Test func mutatedValidMessagesNeverCrashTheDecoder() {
        var random = FuzzSeed.generator(for: "mutatedValidMessagesNeverCrashTheDecoder")
        let samples = Fixture.everyPGOutputMessage.map(\.bytes)
        for _ in 0..<20_000 {
            var bytes = samples.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] = UInt8.random(in: 0...255, using: &random)
            }
            if Bool.random(using: &random) { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &random)) }
            do {
                _ = try PGOutputMessage.decode(bytes)
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count)
            }
        }
    }
}
