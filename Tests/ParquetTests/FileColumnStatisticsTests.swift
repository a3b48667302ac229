import Testing
@testable import Parquet

/// The file-wide column statistics `close()` reports: counts summed over row groups, bounds the
/// extremes in each type's order, none when a row group could not bound its values.
struct FileColumnStatisticsTests {
    func write(_ rows: [[ParquetValue]], schema: [ParquetColumn], rowsPerGroup: Int) throws -> ParquetWriteSummary {
        let writer = try ParquetWriter(schema: ParquetSchema(schema), sink: ParquetMemorySink())
        for (k, row) in rows.enumerated() {
            try writer.appendRow(row)
            if (k + 1) % rowsPerGroup == 0 { try writer.flushRowGroup() }
        }
        return try writer.close()
    }

    func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    @Test func boundsAndCountsSpanEveryRowGroup() throws {
        let rows: [[ParquetValue]] = [
            [.int64(5), .string("m"), .decimal(-300), .double(2.5)],
            [.int64(-7), .null, .decimal(12), .double(.nan)],
            [.int64(40), .string("zz"), .null, .double(-1)],
            [.null, .string("a"), .decimal(7), .double(0)],
        ]
        let summary = try write(
            rows,
            schema: [
                ParquetColumn(name: "i", type: .int64), ParquetColumn(name: "s", type: .string),
                ParquetColumn(name: "d", type: .decimal(precision: 30, scale: 2)), ParquetColumn(name: "f", type: .double),
            ], rowsPerGroup: 2)
        #expect(summary.rowGroups == 2)
        let byName = Dictionary(uniqueKeysWithValues: summary.columns.map { ($0.path.joined(separator: "."), $0) })
        #expect(byName["i"]?.valueCount == 4 && byName["i"]?.nullCount == 1)
        #expect(byName["i"]?.min == le(Int64(-7)) && byName["i"]?.max == le(Int64(40)))
        #expect(byName["s"]?.min == Array("a".utf8) && byName["s"]?.max == Array("zz".utf8) && byName["s"]?.nullCount == 1)
        // Signed big-endian: -3.00 below 0.07 below 0.12.
        let d = try #require(byName["d"])
        #expect(d.min.map { Int8(bitPattern: $0[0]) < 0 } == true, "the negative unscaled value is the min")
        #expect(d.max?.last == 12)
        #expect(byName["f"]?.min == le(Double(-1).bitPattern) && byName["f"]?.max == le(Double(2.5).bitPattern), "NaN is no bound")
        #expect(summary.columns.allSatisfy { $0.compressedBytes > 0 })
    }

    @Test func aRowGroupOfNullsOnlyLeavesTheOthersBounds() throws {
        let summary = try write([[.null], [.null], [.int32(3)], [.int32(9)]], schema: [ParquetColumn(name: "i", type: .int32)], rowsPerGroup: 2)
        #expect(summary.columns[0].min == le(Int32(3)) && summary.columns[0].max == le(Int32(9)))
        #expect(summary.columns[0].nullCount == 2 && summary.columns[0].valueCount == 4)
    }

    @Test func aValueTooLongForTheStatisticsDropsTheFilesBounds() throws {
        let long = String(repeating: "x", count: 5000)
        let summary = try write(
            [[.string("a")], [.string("b")], [.string(long)], [.string("c")]],
            schema: [ParquetColumn(name: "s", type: .string)], rowsPerGroup: 2)
        #expect(summary.columns[0].min == nil && summary.columns[0].max == nil)
        #expect(summary.columns[0].valueCount == 4)
    }

    @Test func anEmptyFileHasNoColumnStatistics() throws {
        #expect(try write([], schema: [ParquetColumn(name: "i", type: .int32)], rowsPerGroup: 1).columns.isEmpty)
    }
}
