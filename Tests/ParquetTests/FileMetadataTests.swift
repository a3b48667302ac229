import Testing
@testable import Parquet

@Suite struct FileMetadataTests {
    @Test func dictionaryPageHeaderBytes() {
        // PageHeader{1: type=2, 2: 10, 3: 7, 7: DictionaryPageHeader{1: 3, 2: PLAIN=0}}
        let bytes = PageHeader.dictionaryPage(uncompressedSize: 10, compressedSize: 7, numValues: 3)
        #expect(bytes == [0x15, 0x04, 0x15, 0x14, 0x15, 0x0E, 0x4C, 0x15, 0x06, 0x15, 0x00, 0x00, 0x00])
    }

    @Test func dataPageV1HeaderBytes() {
        // PageHeader{1: 0, 2: 5, 3: 5, 5: DataPageHeader{1: 2, 2: RLE_DICTIONARY=8, 3: RLE=3, 4: RLE=3}}
        let bytes = PageHeader.dataPageV1(uncompressedSize: 5, compressedSize: 5, numValues: 2, encoding: .rleDictionary)
        #expect(bytes == [0x15, 0x00, 0x15, 0x0A, 0x15, 0x0A, 0x2C, 0x15, 0x04, 0x15, 0x10, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00])
    }

    @Test func statisticsWriteNullCountThenMaxThenMin() {
        var e = ThriftCompactEncoder()
        e.structBegin()
        StatisticsMetadata(nullCount: 1, minValue: [1], maxValue: [2]).encode(into: &e)
        e.structEnd()
        #expect(e.bytes == [0x36, 0x02, 0x28, 0x01, 0x02, 0x18, 0x01, 0x01, 0x00])
    }

    @Test func footerCarriesSchemaNamesAndCreatedBy() {
        let schema = ParquetSchema([
            ParquetColumn(name: "amount", type: .decimal(precision: 12, scale: 2)),
            .list(name: "tags", element: .string),
        ])
        let bytes = FileMetadata(
            schema: schema, numRows: 0, rowGroups: [], keyValueMetadata: [("k", "v")],
            createdBy: "replicatord version 9"
        ).encode()
        for text in ["schema", "amount", "tags", "list", "element", "replicatord version 9"] {
            #expect(bytes.firstRange(of: Array(text.utf8)) != nil, "\(text) in footer")
        }
        #expect(bytes.first == 0x15 && bytes.last == 0x00)
    }

    @Test func leafWithoutFieldIDIsUnchangedAndWithOneCarriesField9() {
        // SchemaElement{1: INT64, 3: OPTIONAL, 4: "id", 6: INT_64, [9: field_id 7,] 10: LogicalType{10: INTEGER{1: 64, 2: true}}}
        let without = FileMetadata(
            schema: ParquetSchema([ParquetColumn(name: "id", type: .int64)]), numRows: 0, rowGroups: [],
            keyValueMetadata: [], createdBy: "x"
        ).encode()
        let plain: [UInt8] = [0x15, 0x04, 0x25, 0x02, 0x18, 0x02, 0x69, 0x64, 0x25, 0x24, 0x4C, 0xAC, 0x13, 0x40, 0x11, 0x00, 0x00, 0x00]
        #expect(without.firstRange(of: plain) != nil)
        #expect(without.firstRange(of: [0x35, 0x0E]) == nil)
        let with = FileMetadata(
            schema: ParquetSchema([ParquetColumn(name: "id", type: .int64, fieldID: 7)]), numRows: 0,
            rowGroups: [], keyValueMetadata: [], createdBy: "x"
        ).encode()
        let withID: [UInt8] = [0x15, 0x04, 0x25, 0x02, 0x18, 0x02, 0x69, 0x64, 0x25, 0x24, 0x35, 0x0E, 0x1C, 0xAC, 0x13, 0x40, 0x11, 0x00, 0x00, 0x00]
        #expect(with.firstRange(of: withID) != nil)
        #expect(with.count == without.count + 2)
    }

    @Test func fieldIDGoesBetweenPrecisionAndLogicalTypeForDecimals() {
        // 6: DECIMAL(5), 7: scale 2, 8: precision 12, 9: field_id 3, 10: LogicalType{5: DecimalType{1: 2, 2: 12}}
        let bytes = FileMetadata(
            schema: ParquetSchema([ParquetColumn(name: "a", type: .decimal(precision: 12, scale: 2), fieldID: 3)]),
            numRows: 0, rowGroups: [], keyValueMetadata: [], createdBy: "x"
        ).encode()
        #expect(bytes.firstRange(of: [0x25, 0x0A, 0x15, 0x04, 0x15, 0x18, 0x15, 0x06, 0x1C, 0x5C, 0x15, 0x04, 0x15, 0x18, 0x00, 0x00]) != nil)
    }

    @Test func listCarriesFieldIDOnTheListGroupAndTheElement() {
        let column = ParquetColumn.list(name: "tags", element: .string, fieldID: 5, elementFieldID: 6)
        let bytes = FileMetadata(
            schema: ParquetSchema([column]), numRows: 0, rowGroups: [], keyValueMetadata: [],
            createdBy: "x"
        ).encode()
        // The LIST group: 6: LIST(3), 9: 5, 10: LogicalType{3: ListType{}}.
        #expect(bytes.firstRange(of: [0x15, 0x06, 0x35, 0x0A, 0x1C, 0x3C, 0x00, 0x00]) != nil)
        // The element: 6: UTF8(0), 9: 6, 10: LogicalType{1: StringType{}}.
        #expect(bytes.firstRange(of: [0x25, 0x00, 0x35, 0x0C, 0x1C, 0x1C, 0x00, 0x00]) != nil)
        // The middle repeated group "list" has no id: it ends after num_children (5: 1).
        #expect(bytes.firstRange(of: [0x35, 0x04, 0x18, 0x04] + Array("list".utf8) + [0x15, 0x02, 0x00]) != nil)
    }
}
