import Testing
@testable import Iceberg

@Suite struct DataFileTests {
    @Test func defaultsAreParquetWithoutStatistics() {
        let f = DataFile(path: "s3://b/t/LOAD00000001.parquet", recordCount: 3, fileSizeInBytes: 100)
        #expect(f.format == "PARQUET")
        #expect(f.columnSizes.isEmpty && f.lowerBounds.isEmpty && f.splitOffsets == nil)
    }

    @Test func statusValuesAreTheSpecs() {
        #expect(ManifestEntryStatus.existing.rawValue == 0)
        #expect(ManifestEntryStatus.added.rawValue == 1)
        #expect(ManifestEntryStatus.deleted.rawValue == 2)
    }
}
