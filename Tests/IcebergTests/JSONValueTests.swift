import Testing
@testable import Iceberg

@Suite struct JSONValueTests {
    @Test func writesCompactJSONWithKeysInOrder() {
        let v: JSONValue = .object([
            ("z", .int(1)), ("a", .array([.bool(true), .null, .string("x")])),
            ("big", .int(3051729675574597004)), ("d", .double(1.5)),
        ])
        #expect(v.serialized == #"{"z":1,"a":[true,null,"x"],"big":3051729675574597004,"d":1.5}"#)
    }

    @Test func escapesQuotesBackslashesAndControlCharacters() {
        #expect(JSONValue.string("a\"b\\c\nd\u{01}é").serialized == #""a\"b\\c\nd\u0001é""#)
    }

    @Test func parseKeepsLongIntegersExact() throws {
        let v = try JSONValue.parse(#"{"snapshot-id": 9223372036854775807, "x": -12, "f": 2.5e3}"#)
        #expect(v["snapshot-id"] == .int(Int64.max))
        #expect(v["x"]?.intValue == -12)
        #expect(v["f"] == .double(2500))
    }

    @Test func parseRoundTripsWhatItWrites() throws {
        let v: JSONValue = .object([("k", .object([("nested", .array([.int(0), .string("q\"\t")]))])), ("e", .object([]))])
        #expect(try JSONValue.parse(v.serialized) == v)
    }

    @Test func parseDecodesEscapesAndSurrogatePairs() throws {
        #expect(try JSONValue.parse(#""\u00e9\ud83d\ude00\/""#) == .string("é😀/"))
    }

    @Test func parseFailsOnTrailingGarbageUnterminatedAndLoneSurrogate() {
        for bad in [#"{"a":1} x"#, #"{"a":1"#, #"["a",]"#, #""\ud800""#, "01x", "", #"{"a" 1}"#, "tru"] {
            #expect(throws: IcebergError.self, "\(bad)") { try JSONValue.parse(bad) }
        }
    }
}
