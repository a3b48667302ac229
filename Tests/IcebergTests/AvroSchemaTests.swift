import Testing
@testable import Iceberg

@Suite struct AvroSchemaTests {
    @Test func recordJSONCarriesFieldIDsDefaultsAndAttributes() {
        let s: AvroSchema = .record(
            name: "r",
            fields: [
                AvroField("a", .long, id: 1),
                .optional("b", .array(items: .int, attributes: [AvroAttribute("element-id", .int(9))]), id: 2),
            ])
        #expect(
            s.json.serialized == #"{"type":"record","name":"r","fields":[{"name":"a","type":"long","field-id":1},"#
                + #"{"name":"b","type":["null",{"type":"array","items":"int","element-id":9}],"default":null,"field-id":2}]}"#)
    }

    @Test func parseRoundTripsTheManifestSchemas() throws {
        for schema in [ManifestFile.avroSchema, ManifestList.avroSchema] {
            #expect(try AvroSchema.parse(try JSONValue.parse(schema.json.serialized)) == schema)
        }
    }

    @Test func parseReadsPrimitiveObjectsAndFixed() throws {
        #expect(try AvroSchema.parse(try JSONValue.parse(#"{"type":"int","logicalType":"date"}"#)) == .int)
        #expect(try AvroSchema.parse(try JSONValue.parse(#"{"type":"fixed","name":"f","size":4}"#)) == .fixed(name: "f", size: 4))
    }

    @Test func parseRejectsUnknownNamesAndShapes() {
        #expect(throws: IcebergError.self) { try AvroSchema.parse(.string("Foo")) }
        #expect(throws: IcebergError.self) { try AvroSchema.parse(.int(3)) }
        #expect(throws: IcebergError.self) { try AvroSchema.parse(.object([("type", .string("record"))])) }
    }
}
