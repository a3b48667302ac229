import Testing
@testable import PGOutput

@Suite struct ByteReaderTests {
    @Test func readsBigEndianIntegers() throws {
        var reader = ByteReader([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xFF, 0xFE])
        #expect(try reader.readUInt8() == 0x01)
        #expect(try reader.readInteger(as: UInt16.self) == 0x0203)
        #expect(try reader.readInteger(as: UInt32.self) == 0x0405_0607)
        #expect(reader.offset == 7)
        #expect(try reader.readInteger(as: Int32.self) == 0x0809_FFFE)
        #expect(reader.isAtEnd)
    }

    @Test func readsNegativeSignedIntegers() throws {
        var reader = ByteReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE])
        #expect(try reader.readInteger(as: Int64.self) == -2)
    }

    @Test func readFailsWithTruncatedPastTheEnd() {
        var reader = ByteReader([1, 2, 3])
        let error = decodeError { () throws(PGOutputError) in try reader.readInteger(as: UInt32.self) }
        #expect(error?.code == .truncated)
        #expect(error?.offset == 0)
        #expect(reader.offset == 0, "a failed read does not move the cursor")
        #expect(decodeError { () throws(PGOutputError) in try ByteReader([]).readUInt8Copy() }?.code == .truncated)
    }

    @Test func readsCStringAndItsTerminator() throws {
        var reader = ByteReader(Array("public".utf8) + [0] + [0] + [7])
        #expect(try reader.readCString() == "public")
        #expect(try reader.readCString() == "")
        #expect(try reader.readUInt8() == 7)
    }

    @Test func readCStringFailsWithoutTerminator() {
        var reader = ByteReader(Array("orders".utf8))
        let error = decodeError { () throws(PGOutputError) in try reader.readCString() }
        #expect(error?.code == .truncated)
        #expect(reader.offset == 0)
    }

    @Test func readCStringRepairsInvalidUTF8() throws {
        var reader = ByteReader([0x61, 0xFF, 0x62, 0])
        #expect(try reader.readCString() == "a\u{FFFD}b")
    }

    @Test func readBytesReturnsAbsoluteRange() throws {
        let bytes: [UInt8] = [9, 9, 1, 2, 3, 4]
        var reader = ByteReader(bytes, range: 2..<6)
        #expect(try reader.readUInt8() == 1)
        let range = try reader.readBytes(count: 2)
        #expect(range == 3..<5)
        #expect(Array(reader.bytes[range]) == [2, 3])
        #expect(reader.offset == 3)
        #expect(reader.remaining == 1)
    }

    @Test func readBytesFailsOnNegativeCount() {
        var reader = ByteReader([1, 2])
        #expect(decodeError { () throws(PGOutputError) in try reader.readBytes(count: -1) }?.code == .invalidValue)
    }

    @Test func readLengthPrefixedBytesFailsOnNegativeAndHugeLengths() {
        var negative = ByteReader([0xFF, 0xFF, 0xFF, 0xFE, 1, 2])
        let negativeError = decodeError { () throws(PGOutputError) in try negative.readLengthPrefixedBytes() }
        #expect(negativeError?.code == .invalidValue)
        #expect(negativeError?.offset == 0)
        var huge = ByteReader([0x7F, 0xFF, 0xFF, 0xFF, 1, 2])
        #expect(decodeError { () throws(PGOutputError) in try huge.readLengthPrefixedBytes() }?.code == .truncated)
    }

    @Test func readerOverRangeStopsAtItsEnd() {
        var reader = ByteReader([1, 2, 3, 4], range: 1..<3)
        #expect(reader.remaining == 2)
        #expect(decodeError { () throws(PGOutputError) in try reader.readInteger(as: UInt32.self) }?.code == .truncated)
    }

    @Test func readSliceBoundsTheFrame() throws {
        var reader = ByteReader([1, 2, 3, 4, 5])
        _ = try reader.readUInt8()
        var frame = try reader.readSlice(count: 2)
        #expect(frame.remaining == 2)
        #expect(try frame.readInteger(as: UInt16.self) == 0x0203)
        #expect(frame.isAtEnd)
        #expect(try reader.readUInt8() == 4)
        #expect(decodeError { () throws(PGOutputError) in try reader.readSlice(count: 2) }?.code == .truncated)
    }

    @Test func expectAtEndFailsWithTrailingBytes() throws {
        var reader = ByteReader([1, 2, 3])
        _ = try reader.readUInt8()
        let error = decodeError { () throws(PGOutputError) in try reader.expectAtEnd() }
        #expect(error?.code == .trailingBytes)
        #expect(error?.offset == 1)
        _ = reader.readRemaining()
        #expect(decodeError { () throws(PGOutputError) in try reader.expectAtEnd() } == nil)
    }
}

extension ByteReader {
    /// Reads a byte from a copy, so a test can read from an rvalue.
    fileprivate func readUInt8Copy() throws(PGOutputError) -> UInt8 {
        var copy = self
        return try copy.readUInt8()
    }
}
