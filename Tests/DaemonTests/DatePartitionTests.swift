import Testing
@testable import Daemon

/// DMS's date folders (`DatePartitionSequence`, `DatePartitionDelimiter`, `DatePartitionTimezone`)
/// and the CDC keys built and taken apart with them.
@Suite struct DatePartitionTests {
    /// 2026-11-24 19:15:12.345 UTC.
    static let instant: Int64 = 1_795_547_712_345

    @Test(arguments: [
        (DatePartition.Sequence.yyyymmdd, DatePartition.Delimiter.slash, "2026/11/24/"),
        (.yyyymmddhh, .slash, "2026/11/24/19/"),
        (.yyyymm, .slash, "2026/11/"),
        (.mmyyyydd, .slash, "11/2026/24/"),
        (.ddmmyyyy, .slash, "24/11/2026/"),
        (.yyyymmdd, .underscore, "2026_11_24/"),
        (.yyyymmddhh, .dash, "2026-11-24-19/"),
        (.ddmmyyyy, .none, "24112026/"),
    ])
    func everySequenceAndDelimiterMakesDMSsFolder(sequence: DatePartition.Sequence, delimiter: DatePartition.Delimiter, folder: String) {
        #expect(FileNaming.cdcName(unixMilliseconds: Self.instant) == "20261124-191512345")
        #expect(DatePartition(sequence: sequence, delimiter: delimiter).folder(unixMilliseconds: Self.instant) == folder)
    }

    @Test func theTimeZoneMovesTheDateAcrossMidnight() {
        // 19:15 UTC is 04:15 the next day in Seoul (UTC+9) and 14:15 the same day in New York (UTC-5 in November).
        #expect(DatePartition(sequence: .yyyymmddhh, timeZone: "Asia/Seoul").folder(unixMilliseconds: Self.instant) == "2026/11/25/04/")
        #expect(DatePartition(sequence: .yyyymmddhh, timeZone: "America/New_York").folder(unixMilliseconds: Self.instant) == "2026/11/24/14/")
        #expect(DatePartition.isKnownTimeZone("Asia/Seoul"))
        #expect(!DatePartition.isKnownTimeZone("Mars/Olympus_Mons"))
    }

    @Test func aCDCKeyPutsTheFileInItsDateFolderAndReadsBack() {
        let partition = DatePartition(sequence: .yyyymmdd, delimiter: .slash)
        let key = FileNaming.cdcKey(schema: "public", table: "my table", name: "20261124-191512345", partition: partition)
        #expect(key == "public/my table/2026/11/24/20261124-191512345.parquet")
        #expect(FileNaming.tableFolder(ofKey: key) == "public/my table/")
        #expect(FileNaming.cdcName(ofKey: key) == "20261124-191512345")
        let flat = FileNaming.cdcKey(schema: "public", table: "orders", name: "20261124-191512345", partition: nil)
        #expect(flat == "public/orders/20261124-191512345.parquet")
        #expect(FileNaming.tableFolder(ofKey: flat) == "public/orders/")
        #expect(FileNaming.tableFolder(ofKey: "a%2Fb/c/metadata/v1.metadata.json") == "a%2Fb/c/")
        #expect(FileNaming.cdcName(ofKey: "public/orders/LOAD00000001.parquet") == nil)
        #expect(FileNaming.dateFolder(ofKey: key) == "2026/11/24/")
        #expect(FileNaming.dateFolder(ofKey: flat) == "")
        #expect(FileNaming.dateFolder(ofKey: "public/orders/LOAD00000001.parquet") == "")
        #expect(FileNaming.dateFolder(ofKey: "public/orders/24-11-2026/20261124-191512345.parquet") == "24-11-2026/")
        #expect(GlueCatalogSync.partitionValues(folder: "2026/11/24/") == ["2026", "11", "24"])
        #expect(GlueCatalogSync.partitionValues(folder: "24-11-2026/") == ["24-11-2026"])
    }

    @Test func thePartitionColumnsFollowTheFolderLevels() {
        #expect(DatePartition(sequence: .mmyyyydd).columnNames == ["month", "year", "day"])
        #expect(DatePartition(sequence: .yyyymmddhh, delimiter: .dash).columnNames == ["date_partition"])
        #expect(DatePartition(sequence: .yyyymm).levels(unixMilliseconds: Self.instant) == ["2026", "11"])
    }

    @Test func anInstantBefore1970FloorsToItsDay() {
        // 1969-12-31 23:59:59.999 UTC.
        #expect(DatePartition().folder(unixMilliseconds: -1) == "1969/12/31/")
    }
}
