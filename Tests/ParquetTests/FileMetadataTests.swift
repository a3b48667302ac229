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
        let schema = ParquetSchema([ParquetColumn(name: "amount", type: .decimal(precision: 12, scale: 2)),
                                    .list(name: "tags", element: .string)])
        let bytes = FileMetadata(schema: schema, numRows: 0, rowGroups: [], keyValueMetadata: [("k", "v")],
                                 createdBy: "replicatord version 9").encode()
        for text in ["schema", "amount", "tags", "list", "element", "replicatord version 9"] {
            #expect(bytes.firstRange(of: Array(text.utf8)) != nil, "\(text) in footer")
        }
        #expect(bytes.first == 0x15 && bytes.last == 0x00)
    }
}
