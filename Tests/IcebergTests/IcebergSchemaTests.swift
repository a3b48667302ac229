import Testing
@testable import Iceberg

@Suite struct IcebergSchemaTests {
    @Test func typesSerializeAsTheSpecSpellsThem() throws {
        let cases: [(IcebergType, String)] = [
            (.boolean, #""boolean""#), (.int, #""int""#), (.long, #""long""#), (.float, #""float""#),
            (.double, #""double""#), (.decimal(precision: 10, scale: 2), #""decimal(10,2)""#), (.date, #""date""#),
            (.time, #""time""#), (.timestamp, #""timestamp""#), (.timestamptz, #""timestamptz""#),
            (.string, #""string""#), (.uuid, #""uuid""#), (.fixed(16), #""fixed[16]""#), (.binary, #""binary""#),
            (
                .list(elementID: 3, element: .string, elementRequired: false),
                #"{"type":"list","element-id":3,"element":"string","element-required":false}"#
            ),
        ]
        for (type, json) in cases {
            #expect(type.json.serialized == json)
            #expect(try IcebergType.parse(try JSONValue.parse(json)) == type)
        }
    }

    @Test func parseAcceptsWhitespaceInParameters() throws {
        #expect(try IcebergType.parse(.string("decimal(9, 2)")) == .decimal(precision: 9, scale: 2))
        #expect(throws: IcebergError.self) { try IcebergType.parse(.string("decimal(9)")) }
        #expect(throws: IcebergError.self) { try IcebergType.parse(.string("varchar")) }
    }

    @Test func assigningIDsNumbersFieldsAndListElementsInOrder() {
        let s = IcebergSchema.assigningIDs([
            ("Op", .string, false),
            ("tags", .list(elementID: 0, element: .string, elementRequired: false), false),
            ("id", .long, true),
        ])
        #expect(s.fields.map(\.id) == [1, 2, 4])
        #expect(s.fields[1].type == .list(elementID: 3, element: .string, elementRequired: false))
        #expect(s.highestFieldID == 4)
        #expect(s.fields[2].isRequired)
    }

    @Test func schemaJSONRoundTrips() throws {
        let s = IcebergSchema(
            schemaID: 3,
            fields: [
                IcebergField(id: 1, name: "id", type: .long, required: true),
                IcebergField(id: 2, name: "amount", type: .decimal(precision: 12, scale: 2)),
            ])
        #expect(
            s.json.serialized == #"{"type":"struct","schema-id":3,"fields":[{"id":1,"name":"id","required":true,"type":"long"},"#
                + #"{"id":2,"name":"amount","required":false,"type":"decimal(12,2)"}]}"#)
        #expect(try IcebergSchema.parse(s.json) == s)
    }

    @Test func promotionsAreOnlyTheV2Ones() {
        #expect(IcebergType.int.canPromote(to: .long))
        #expect(IcebergType.float.canPromote(to: .double))
        #expect(IcebergType.decimal(precision: 9, scale: 2).canPromote(to: .decimal(precision: 12, scale: 2)))
        #expect(!IcebergType.decimal(precision: 9, scale: 2).canPromote(to: .decimal(precision: 12, scale: 3)))
        #expect(!IcebergType.long.canPromote(to: .int))
        #expect(!IcebergType.int.canPromote(to: .string))
        #expect(!IcebergType.date.canPromote(to: .timestamptz))
    }
}
