import Testing
@testable import Iceberg

@Suite struct SchemaChangeTests {
    private let base = IcebergSchema(
        schemaID: 0,
        fields: [
            IcebergField(id: 1, name: "id", type: .int, required: true),
            IcebergField(id: 2, name: "name", type: .string),
            IcebergField(id: 3, name: "price", type: .decimal(precision: 9, scale: 2)),
        ])

    @Test func addDropRenameWidenKeepIDs() throws {
        var last: Int32 = 3
        let s = try base.applying(
            [
                .addColumn(name: "tags", type: .list(elementID: 0, element: .string, elementRequired: false)),
                .dropColumn(name: "name"),
                .renameColumn(from: "price", to: "amount"),
                .widenColumn(name: "id", to: .long),
                .widenColumn(name: "amount", to: .decimal(precision: 18, scale: 2)),
                .addColumn(name: "note", type: .string, after: "id"),
                .makeOptional(name: "id"),
            ], schemaID: 1, lastColumnID: &last)
        #expect(s.schemaID == 1)
        #expect(s.fields.map(\.name) == ["id", "note", "amount", "tags"])
        #expect(s.fields.map(\.id) == [1, 6, 3, 4])
        #expect(s.fields[0].type == .long && !s.fields[0].isRequired)
        #expect(s.fields[2].type == .decimal(precision: 18, scale: 2))
        #expect(s.fields[3].type == .list(elementID: 5, element: .string, elementRequired: false))
        #expect(last == 6)
    }

    @Test func droppedIDsAreNotReused() throws {
        var last: Int32 = 3
        let s = try base.applying(
            [.dropColumn(name: "price"), .addColumn(name: "price", type: .string)],
            schemaID: 1, lastColumnID: &last)
        #expect(s.field(named: "price")?.id == 4)
    }

    @Test func impossibleChangesThrowAndLeaveLastColumnID() {
        let bad: [SchemaChange] = [
            .widenColumn(name: "id", to: .string), .widenColumn(name: "price", to: .decimal(precision: 12, scale: 3)),
            .dropColumn(name: "missing"), .renameColumn(from: "id", to: "name"), .addColumn(name: "id", type: .long),
            .addColumn(name: "", type: .long), .addColumn(name: "x", type: .long, after: "missing"),
        ]
        for change in bad {
            var last: Int32 = 3
            #expect(throws: IcebergError.self, "\(change)") { try base.applying([change], schemaID: 1, lastColumnID: &last) }
            #expect(last == 3)
        }
    }
}
