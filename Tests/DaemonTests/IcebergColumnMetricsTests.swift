import Iceberg
import Parquet
import Replication
import Testing
@testable import Daemon

/// Parquet's PLAIN statistics values as Iceberg bounds, and the statistics of a file's columns
/// put under the field ids the table gives their identities.
struct IcebergColumnMetricsTests {
    func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    @Test func plainValuesBecomeLiteralsOfTheirType() {
        #expect(IcebergColumnMetrics.literal(le(Int32(-5)), type: .int) == .int(-5))
        #expect(IcebergColumnMetrics.literal(le(Int64(1) << 40), type: .long) == .long(1 << 40))
        #expect(IcebergColumnMetrics.literal(le(Int32(19_000)), type: .date) == .date(19_000))
        #expect(IcebergColumnMetrics.literal(le(Int64(1_700_000_000_000_000)), type: .timestamptz) == .timestamp(1_700_000_000_000_000))
        #expect(IcebergColumnMetrics.literal(le(Int32(-1234)), type: .decimal(precision: 9, scale: 2))?.serialized == [0xFB, 0x2E])
        #expect(IcebergColumnMetrics.literal(le(Int64(300)), type: .decimal(precision: 12, scale: 2))?.serialized == [0x01, 0x2C])
        #expect(IcebergColumnMetrics.literal([0, 0, 0, 0, 0x01, 0x2C], type: .decimal(precision: 30, scale: 2))?.serialized == [0x01, 0x2C])
        #expect(IcebergColumnMetrics.literal(Array("paid".utf8), type: .string) == .string("paid"))
        #expect(IcebergColumnMetrics.literal([1], type: .boolean) == .boolean(true))
        #expect(IcebergColumnMetrics.literal(le(Double(2.5).bitPattern), type: .double) == .double(2.5))
        #expect(IcebergColumnMetrics.literal([0xFF, 0xFE], type: .string) == nil, "not UTF-8: no bound")
        #expect(IcebergColumnMetrics.literal(le(Int32(1)), type: .long) == nil, "a width that is not the type's: no bound")
    }

    @Test func statisticsGoUnderTheFieldIDsOfTheColumnsIdentities() throws {
        let schema = IcebergSchema(
            schemaID: 0,
            fields: [
                IcebergField(id: 1, name: "Op", type: .string, required: false),
                IcebergField(id: 2, name: "title", type: .string, required: false),  // renamed from name
                IcebergField(id: 3, name: "qty", type: .long, required: false),  // widened from int
                IcebergField(id: 4, name: "kind", type: .string, required: false),  // retyped: was an int column, new id
            ])
        let ids: [String: Int32] = ["replicatord:Op": 1, "attnum:2": 2, "attnum:3": 3, "attnum:4": 4]
        // A file of the layout before: `name` text, `qty` int, `kind` int.
        let layout: [IcebergSync.Wanted] = [
            .init(identity: "replicatord:Op", name: "Op", type: .string), .init(identity: "attnum:2", name: "name", type: .string),
            .init(identity: "attnum:3", name: "qty", type: .int), .init(identity: "attnum:4", name: "kind", type: .int),
        ]
        func column(_ name: String, _ physical: ParquetPhysicalType, _ lo: [UInt8], _ hi: [UInt8]) -> ParquetColumnSummary {
            ParquetColumnSummary(path: [name], physicalType: physical, valueCount: 3, nullCount: 1, compressedBytes: 20, min: lo, max: hi)
        }
        var file = DataFile(path: "/t/f.parquet", recordCount: 3, fileSizeInBytes: 100)
        IcebergColumnMetrics.apply(
            [
                column("Op", .byteArray, Array("D".utf8), Array("U".utf8)), column("name", .byteArray, Array("a".utf8), Array("b".utf8)),
                column("qty", .int32, le(Int32(1)), le(Int32(9))), column("kind", .int32, le(Int32(1)), le(Int32(2))),
            ], layout: layout, fieldIDs: ids, schema: schema, to: &file)
        #expect(file.lowerBounds[1] == .string("D") && file.upperBounds[1] == .string("U"))
        #expect(file.lowerBounds[2] == .string("a"), "a renamed column keeps its id")
        #expect(file.upperBounds[3] == .int(9), "a widened column's bound keeps the file's width (readers widen it)")
        #expect(file.lowerBounds[4] == nil && file.valueCounts[4] == nil, "an int file column is no bound of a string field")
        #expect(file.valueCounts == [1: 3, 2: 3, 3: 3] && file.nullValueCounts == [1: 1, 2: 1, 3: 1])
        #expect(file.columnSizes[3] == 20)
    }
}
