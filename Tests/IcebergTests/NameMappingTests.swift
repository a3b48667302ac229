import Testing
@testable import Iceberg

@Suite struct NameMappingTests {
    @Test func currentNamesFirstThenFormerNamesNotTakenByOthers() {
        let old = IcebergSchema(
            schemaID: 0,
            fields: [
                IcebergField(id: 1, name: "id", type: .long), IcebergField(id: 2, name: "price", type: .int),
                IcebergField(id: 3, name: "note", type: .string),
            ])
        let current = IcebergSchema(
            schemaID: 1,
            fields: [
                IcebergField(id: 1, name: "id", type: .long), IcebergField(id: 2, name: "amount", type: .long),
                IcebergField(id: 4, name: "note", type: .string),
                IcebergField(id: 5, name: "tags", type: .list(elementID: 6, element: .string, elementRequired: false)),
            ])
        #expect(
            NameMapping.json(current: current, history: [old]).serialized
                == #"[{"field-id":1,"names":["id"]},{"field-id":2,"names":["amount","price"]},{"field-id":4,"names":["note"]},"#
                + #"{"field-id":5,"names":["tags"],"fields":[{"field-id":6,"names":["element"]}]}]"#)
    }

    @Test func aDroppedColumnKeepsItsOldIdAndNameForFilesThatStillHoldIt() {
        let old = IcebergSchema(
            schemaID: 0,
            fields: [
                IcebergField(id: 1, name: "id", type: .long), IcebergField(id: 2, name: "note", type: .string),
                IcebergField(id: 3, name: "name", type: .string),
            ])
        let renamed = IcebergSchema(
            schemaID: 1,
            fields: [
                IcebergField(id: 1, name: "id", type: .long), IcebergField(id: 2, name: "note", type: .string),
                IcebergField(id: 3, name: "title", type: .string),
            ])
        let current = IcebergSchema(
            schemaID: 2,
            fields: [
                IcebergField(id: 1, name: "id", type: .long), IcebergField(id: 3, name: "title", type: .string),
            ])
        #expect(
            NameMapping.json(current: current, history: [old, renamed]).serialized
                == #"[{"field-id":1,"names":["id"]},{"field-id":3,"names":["title","name"]},{"field-id":2,"names":["note"]}]"#)
    }
}
