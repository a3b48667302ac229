import Testing
@testable import Iceberg

@Suite struct AvroBinaryEncoderTests {
    private func bytes(_ value: AvroValue, _ schema: AvroSchema) throws -> [UInt8] {
        var e = AvroBinaryEncoder()
        try e.encode(value, as: schema)
        return e.bytes
    }

    @Test func longsAreZigZagVarints() throws {
        let cases: [(Int64, [UInt8])] = [
            (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-2, [0x03]), (63, [0x7E]), (-64, [0x7F]), (64, [0x80, 0x01]),
            (8192, [0x80, 0x80, 0x01]),
            (Int64.max, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            (Int64.min, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        ]
        for (value, expected) in cases {
            var e = AvroBinaryEncoder()
            e.writeLong(value)
            #expect(e.bytes == expected, "\(value)")
            var d = AvroBinaryDecoder(expected)
            #expect(try d.readLong() == value)
        }
    }

    @Test func primitivesEncodeAsTheSpecSays() throws {
        #expect(try bytes(.string("foo"), .string) == [0x06, 0x66, 0x6F, 0x6F])
        #expect(try bytes(.bytes([]), .bytes) == [0x00])
        #expect(try bytes(.float(1), .float) == [0x00, 0x00, 0x80, 0x3F])
        #expect(try bytes(.double(1), .double) == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        #expect(try bytes(.boolean(true), .boolean) == [0x01])
        #expect(try bytes(.null, .null) == [])
        #expect(try bytes(.int(-3), .long) == [0x05])
        #expect(try bytes(.fixed([9, 8]), .fixed(name: "f", size: 2)) == [9, 8])
    }

    @Test func compositesEncodeBlocksRecordsAndUnions() throws {
        #expect(try bytes(.array([.long(1), .long(2)]), .array(items: .long)) == [0x04, 0x02, 0x04, 0x00])
        #expect(try bytes(.array([]), .array(items: .long)) == [0x00])
        #expect(try bytes(.map([AvroMapEntry("a", .int(1))]), .map(values: .int)) == [0x02, 0x02, 0x61, 0x02, 0x00])
        #expect(try bytes(.null, .optional(.long)) == [0x00])
        #expect(try bytes(.long(5), .optional(.long)) == [0x02, 0x0A])
        #expect(try bytes(.union(0, .long(5)), .union([.long, .null])) == [0x00, 0x0A])
        #expect(
            try bytes(
                .record([.long(1), .string("x")]),
                .record(name: "r", fields: [AvroField("a", .long), AvroField("b", .string)])) == [0x02, 0x02, 0x78])
    }

    @Test func encodeRejectsValuesThatDoNotFit() {
        #expect(throws: IcebergError.self) { try bytes(.string("x"), .long) }
        #expect(throws: IcebergError.self) { try bytes(.fixed([1]), .fixed(name: "f", size: 2)) }
        #expect(throws: IcebergError.self) { try bytes(.record([.long(1)]), .record(name: "r", fields: [])) }
        #expect(throws: IcebergError.self) { try bytes(.string("x"), .optional(.long)) }
        #expect(throws: IcebergError.self) { try bytes(.union(2, .null), .optional(.long)) }
    }

    @Test func decoderReadsBackWhatTheEncoderWrote() throws {
        let schema: AvroSchema = .record(
            name: "r",
            fields: [
                AvroField("a", .optional(.long)), AvroField("b", .array(items: .double)), AvroField("c", .map(values: .bytes)),
                AvroField("d", .boolean), AvroField("e", .float), AvroField("f", .fixed(name: "x", size: 3)),
            ])
        let value: AvroValue = .record([
            .long(-77), .array([.double(0.5), .double(-2)]),
            .map([AvroMapEntry("k", .bytes([1, 2]))]), .boolean(false), .float(3.25),
            .fixed([7, 7, 7]),
        ])
        var d = AvroBinaryDecoder(try bytes(value, schema))
        #expect(try d.decode(schema) == value)
        #expect(d.isAtEnd)
    }

    @Test func decoderAcceptsNegativeBlockCountsWithSizes() throws {
        // An array block written as count -2 followed by its byte size, as Avro allows.
        var d = AvroBinaryDecoder([0x03, 0x04, 0x02, 0x04, 0x00])
        #expect(try d.decode(.array(items: .long)) == .array([.long(1), .long(2)]))
    }

    @Test func decoderFailsOnTruncationBadUnionAndBadBoolean() throws {
        var a = AvroBinaryDecoder([0x06, 0x66])
        #expect(throws: IcebergError.self) { try a.decode(.string) }
        var b = AvroBinaryDecoder([0x04])
        #expect(throws: IcebergError.self) { try b.decode(.optional(.long)) }
        var c = AvroBinaryDecoder([0x02])
        #expect(throws: IcebergError.self) { try c.decode(.boolean) }
        var d = AvroBinaryDecoder([0x80, 0x80])
        #expect(throws: IcebergError.self) { try d.readLong() }
        var e = AvroBinaryDecoder([0x80, 0x80, 0x80, 0x80, 0x10])  // 2^31: one past Int32.max
        #expect(throws: IcebergError.self) { try e.readInt() }
        var f = AvroBinaryDecoder([0x7E])  // an array of 63 items with no bytes behind
        #expect(throws: IcebergError.self) { try f.decode(.array(items: .long)) }
        var g = AvroBinaryDecoder([0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])  // Int64.max nulls
        #expect(throws: IcebergError.self) { try g.decode(.array(items: .null)) }
        var h = AvroBinaryDecoder([0x06, 0x00])  // three nulls take no bytes: fine
        #expect(try h.decode(.array(items: .null)) == .array([.null, .null, .null]))
    }
}
