import Testing
@testable import Parquet

@Suite struct ParquetSchemaTests {
    @Test func decimalPhysicalTypeFollowsPrecision() {
        #expect(ParquetValueType.decimal(precision: 9, scale: 2).physicalType == .int32)
        #expect(ParquetValueType.decimal(precision: 10, scale: 2).physicalType == .int64)
        #expect(ParquetValueType.decimal(precision: 18, scale: 0).physicalType == .int64)
        #expect(ParquetValueType.decimal(precision: 19, scale: 0).physicalType == .fixedLenByteArray)
        #expect(ParquetValueType.decimal(precision: 19, scale: 0).fixedLength == 9)
        #expect(ParquetValueType.decimal(precision: 38, scale: 0).fixedLength == 16)
        #expect(ParquetValueType.decimalByteLength(precision: 2) == 1)
        #expect(ParquetValueType.decimalByteLength(precision: 3) == 2)
    }

    @Test func levelsOfFlatAndListColumns() {
        #expect(ParquetColumn(name: "a", type: .int32, nullable: false).maxDefinitionLevel == 0)
        #expect(ParquetColumn(name: "a", type: .int32).maxDefinitionLevel == 1)
        let list = ParquetColumn.list(name: "l", element: .string)
        #expect(list.maxDefinitionLevel == 3 && list.maxRepetitionLevel == 1)
        #expect(list.path == ["l", "list", "element"])
        #expect(ParquetColumn.list(name: "l", element: .string, nullable: false, elementNullable: false).maxDefinitionLevel == 1)
    }

    @Test func validateRejectsBadDecimalAndEmptyName() {
        #expect(throws: ParquetError.self) { try ParquetSchema([ParquetColumn(name: "d", type: .decimal(precision: 0, scale: 0))]).validate() }
        #expect(throws: ParquetError.self) { try ParquetSchema([ParquetColumn(name: "d", type: .decimal(precision: 5, scale: 6))]).validate() }
        #expect(throws: ParquetError.self) { try ParquetSchema([ParquetColumn(name: "", type: .int32)]).validate() }
        #expect(throws: ParquetError.self) { try ParquetSchema([ParquetColumn(name: "f", type: .fixedBytes(length: 0))]).validate() }
    }

    @Test func fieldIDsDefaultToNoneAndListsCarryTwo() {
        let plain = ParquetColumn(name: "a", type: .int64)
        #expect(plain.fieldID == nil && plain.elementFieldID == nil)
        #expect(ParquetColumn(name: "a", type: .int64, fieldID: 4).fieldID == 4)
        let list = ParquetColumn.list(name: "l", element: .string, fieldID: 5, elementFieldID: 6)
        #expect(list.fieldID == 5 && list.elementFieldID == 6 && list.isList)
        #expect(ParquetColumn(name: "a", type: .int64, fieldID: 4) != plain)
    }
}
