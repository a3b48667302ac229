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

    @Test func truncatedBoundsKeepManifestsSmall() {
        var f = DataFile(path: "p", recordCount: 2, fileSizeInBytes: 1)
        let huge = String(repeating: "x", count: 1_000_000)
        f.lowerBounds = [1: .string(huge), 2: .long(5), 3: .double(.nan), 4: .binary([1, 2])]
        f.upperBounds = [1: .string(huge + "y"), 2: .long(9), 3: .double(.nan), 4: .binary([UInt8](repeating: 0xFF, count: 40))]
        let t = f.withTruncatedBounds()
        #expect(t.lowerBounds[1] == .string(String(repeating: "x", count: 16)))
        #expect(t.upperBounds[1] == .string(String(repeating: "x", count: 15) + "y"))
        #expect(t.lowerBounds[2] == .long(5) && t.upperBounds[2] == .long(9))
        #expect(t.lowerBounds[3] == nil && t.upperBounds[3] == nil)
        #expect(t.lowerBounds[4] == .binary([1, 2]) && t.upperBounds[4] == nil)
    }
}
