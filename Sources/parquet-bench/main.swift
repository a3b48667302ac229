// parquet-bench: writes the `orders` dataset shape (../shared/bench/README.md) with ParquetWriter,
// values generated on the fly per row (the same formulas as scripts/parquet_bench.py), and prints
// the time, the file size and the peak RSS. Run through scripts/bench-parquet.
//
//   parquet-bench OUT.parquet [ROWS] [ROW_GROUP_ROWS]
#if canImport(Glibc)
    import Glibc
#endif
import Parquet

@inline(__always)
func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: parquet-bench OUT.parquet [ROWS] [ROW_GROUP_ROWS]")
    exit(2)
}
let path = arguments[1]
let rows = arguments.count > 2 ? Int(arguments[2])! : 2_000_000
let rowGroupRows = arguments.count > 3 ? Int(arguments[3])! : 1_048_576

func appendDecimal(_ value: Int, into buffer: UnsafeMutableRawBufferPointer, at offset: inout Int) {
    if value >= 10 { appendDecimal(value / 10, into: buffer, at: &offset) }
    buffer[offset] = UInt8(48 + value % 10)
    offset += 1
}

func appendASCII(_ text: [UInt8], into buffer: UnsafeMutableRawBufferPointer, at offset: inout Int) {
    for byte in text {
        buffer[offset] = byte
        offset += 1
    }
}

/// The timed part: writes `rows` rows and returns the summary and the seconds taken.
/// (A function, not top-level code, so the loop runs without main-actor executor checks.)
func writeOrders(path: String, rows: Int, rowGroupRows: Int) throws -> (ParquetWriteSummary, Double) {
    let schema = ParquetSchema([
        ParquetColumn(name: "id", type: .int64, nullable: false),
        ParquetColumn(name: "customer_id", type: .int32, nullable: false),
        ParquetColumn(name: "status", type: .string, nullable: false),
        ParquetColumn(name: "note", type: .string),
        ParquetColumn(name: "amount", type: .decimal(precision: 12, scale: 2)),
        ParquetColumn(name: "price", type: .double),
        ParquetColumn(name: "created_at", type: .timestampMicros(adjustedToUTC: true), nullable: false),
        ParquetColumn(name: "ship_date", type: .date),
        ParquetColumn(name: "is_paid", type: .boolean, nullable: false),
        ParquetColumn(name: "ref", type: .uuid, nullable: false),
        ParquetColumn(name: "attrs", type: .json),
    ])

    var options = ParquetWriterOptions()
    options.codec = .zstd(level: 1)
    options.rowGroupRowLimit = rowGroupRows
    options.version = "bench"
    if getenv("PARQUET_BENCH_NO_DICTIONARY") != nil { options.dictionaryEnabled = false }  // for profiling

    let statuses: [[UInt8]] = ["new", "paid", "shipped", "delivered", "returned"].map { Array($0.utf8) }
    let sources: [[UInt8]] = ["web", "app", "pos"].map { Array($0.utf8) }
    let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    /// Two ASCII hex digits of each byte value, in memory order.
    let hexPairs: [UInt16] = (0..<256).map { UInt16(hexDigits[$0 >> 4]) | UInt16(hexDigits[$0 & 15]) << 8 }

    let start = now()
    let sink = try ParquetFileSink(path: path)
    let writer = try ParquetWriter(schema: schema, sink: sink, options: options)
    let note = UnsafeMutableRawBufferPointer.allocate(byteCount: 80, alignment: 8)
    let uuid = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
    let json = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)

    let jsonN = Array("{\"n\": ".utf8), jsonSrc = Array(", \"src\": \"".utf8), jsonVip = Array("\", \"vip\": ".utf8)
    let jsonTrue = Array("true}".utf8), jsonFalse = Array("false}".utf8)

    for g in 1...rows {
        let u = UInt64(g)
        writer.appendInt64(Int64(g), column: 0)
        writer.appendInt32(Int32((g &* 7919) % 100_000), column: 1)
        statuses[g % 5].withUnsafeBytes { writer.appendBytes($0, column: 2) }
        if g % 10 == 0 {
            writer.appendNull(column: 3)
        } else {
            for k in 0..<5 {
                let w = mix(u &* 5 &+ UInt64(k))
                for byte in 0..<8 {
                    let pair = hexPairs[Int((w >> UInt64(56 - 8 * byte)) & 0xFF)]
                    note.storeBytes(of: pair, toByteOffset: k * 16 + byte * 2, as: UInt16.self)
                }
            }
            writer.appendBytes(UnsafeRawBufferPointer(note), column: 3)
        }
        writer.appendInt64(Int64((g &* 104_729) % 10_000_000), column: 4)
        writer.appendDouble(Double(g % 1000) * 1.37 + 0.01, column: 5)
        writer.appendInt64(1_704_067_200_000_000 + Int64(g) * 1_700_000, column: 6)
        if g % 7 == 0 { writer.appendNull(column: 7) } else { writer.appendInt32(Int32(19723 + g % 700), column: 7) }
        writer.appendBool(g % 3 == 0, column: 8)
        let hi = mix(u ^ 0xABCDEF), lo = mix(u ^ 0x123456)
        uuid.storeBytes(of: hi.bigEndian, toByteOffset: 0, as: UInt64.self)
        uuid.storeBytes(of: lo.bigEndian, toByteOffset: 8, as: UInt64.self)
        writer.appendBytes(UnsafeRawBufferPointer(uuid), column: 9)
        var n = 0
        appendASCII(jsonN, into: json, at: &n)
        appendDecimal(g % 17, into: json, at: &n)
        appendASCII(jsonSrc, into: json, at: &n)
        appendASCII(sources[g % 3], into: json, at: &n)
        appendASCII(jsonVip, into: json, at: &n)
        appendASCII(g % 97 == 0 ? jsonTrue : jsonFalse, into: json, at: &n)
        writer.appendBytes(UnsafeRawBufferPointer(rebasing: json[0..<n]), column: 10)
        try writer.endRow()
    }
    let summary = try writer.close()
    try sink.close()
    let seconds = now() - start

    return (summary, seconds)
}

let (summary, seconds) = try writeOrders(path: path, rows: rows, rowGroupRows: rowGroupRows)

var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
print("replicatord_seconds=\(seconds)")
print("replicatord_bytes=\(summary.bytesWritten)")
print("replicatord_row_groups=\(summary.rowGroups)")
print("replicatord_peak_rss_kib=\(usage.ru_maxrss)")
