import Testing
@testable import PGOutput

@Suite struct StandbyStatusUpdateTests {
    @Test func encodesTheExactWireBytes() {
        let update = StandbyStatusUpdate(
            written: LSN(0x0102_0304_0506_0708), flushed: LSN(0x1112_1314_1516_1718), applied: LSN(0x2122_2324_2526_2728),
            clientTime: .init(microsecondsSince2000: 0x3132_3334_3536_3738), replyRequested: true)
        let expected: [UInt8] = [
            UInt8(ascii: "r"),
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
            0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
            0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
            1,
        ]
        #expect(update.encoded() == expected)
        #expect(update.encoded().count == StandbyStatusUpdate.encodedCount)
    }

    @Test func encodesNegativeClientTimeAndNoReply() {
        let update = StandbyStatusUpdate(
            written: .zero, flushed: .zero, applied: .zero,
            clientTime: .init(microsecondsSince2000: -1))
        let bytes = update.encoded()
        #expect(Array(bytes[25..<33]) == [UInt8](repeating: 0xFF, count: 8))
        #expect(bytes[33] == 0)
    }

    @Test func encodeIntoAppendsToExistingBytes() {
        var buffer: [UInt8] = [0xAA]
        StandbyStatusUpdate(written: LSN(1), flushed: LSN(1), applied: LSN(1), clientTime: .postgresEpoch).encode(into: &buffer)
        #expect(buffer.count == 1 + 34)
        #expect(buffer[0] == 0xAA)
        #expect(buffer[1] == UInt8(ascii: "r"))
    }

    @Test func clientTimeFromUnixClockUsesThePostgresEpoch() {
        let update = StandbyStatusUpdate(
            written: LSN(1), flushed: LSN(1), applied: LSN(1),
            clientTime: .init(unixMicroseconds: 946_684_800_000_001))
        #expect(Array(update.encoded()[25..<33]) == [0, 0, 0, 0, 0, 0, 0, 1])
    }
}
