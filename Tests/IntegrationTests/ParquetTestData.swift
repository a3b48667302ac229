import Foundation
import Parquet
import TestSupport

/// Generated Parquet test files: random rows of every supported type, edge values, and the
/// expected values as JSON for `scripts/check_parquet.py`.
struct ParquetTestData {
    /// The seeded generator of every generated file (a failing seed reproduces).
    typealias Random = SeededRandom

    /// A column and how to describe it in the expected JSON.
    struct Column {
        var column: ParquetColumn
        var kind: String
    }

    static func columns() -> [Column] {
        var result: [Column] = []
        func add(_ name: String, _ type: ParquetValueType, _ kind: String, nullable: Bool = true) {
            result.append(Column(column: ParquetColumn(name: name, type: type, nullable: nullable), kind: kind))
        }
        add("b", .boolean, "boolean")
        add("i8", .int8, "int8")
        add("i16", .int16, "int16", nullable: false)
        add("i32", .int32, "int32")
        add("i64", .int64, "int64")
        add("i64_req", .int64, "int64", nullable: false)
        add("f32", .float, "float")
        add("f64", .double, "double")
        add("s", .string, "string")
        add("j", .json, "json")
        add("raw", .bytes, "bytes")
        add("u", .uuid, "uuid")
        add("fx", .fixedBytes(length: 5), "fixed")
        add("d9", .decimal(precision: 9, scale: 2), "decimal")
        add("d12", .decimal(precision: 12, scale: 2), "decimal")
        add("d30", .decimal(precision: 30, scale: 5), "decimal")
        add("d38", .decimal(precision: 38, scale: 0), "decimal")
        add("day", .date, "date")
        add("t", .timeMicros, "time")
        add("ts_utc", .timestampMicros(adjustedToUTC: true), "timestamp")
        add("ts_local", .timestampMicros(adjustedToUTC: false), "timestamp")
        result.append(Column(column: .list(name: "l_i32", element: .int32), kind: "int32"))
        result.append(Column(column: .list(name: "l_s", element: .string, nullable: false), kind: "string"))
        result.append(Column(column: .list(name: "l_f64", element: .double, elementNullable: false), kind: "double"))
        result.append(Column(column: .list(name: "l_d12", element: .decimal(precision: 12, scale: 2)), kind: "decimal"))
        result.append(Column(column: .list(name: "l_ts", element: .timestampMicros(adjustedToUTC: true)), kind: "timestamp"))
        return result
    }

    /// A generated value: what to append and its expected JSON.
    typealias Cell = (value: ParquetValue, json: String)

    static let minTimestamp: Int64 = -62_135_596_800_000_000  // 0001-01-01
    static let maxTimestamp: Int64 = 253_402_300_799_999_999  // 9999-12-31 23:59:59.999999
    static let minDay: Int64 = -719_162
    static let maxDay: Int64 = 2_932_896

    /// A leaf value of `type`; `edge` favours extreme values.
    static func leaf(_ type: ParquetValueType, _ r: inout Random, edge: Bool, huge: Bool, largeBytes: Int = 1_000_000) -> Cell {
        switch type {
        case .boolean:
            let v = r.chance(0.5)
            return (.bool(v), v ? "true" : "false")
        case .int8, .int16, .int32:
            let (lo, hi): (Int64, Int64) = type == .int8 ? (-128, 127) : type == .int16 ? (-32768, 32767) : (Int64(Int32.min), Int64(Int32.max))
            let v = edge ? r.pick([lo, hi, 0, -1]) : r.int(r.chance(0.5) ? -100...100 : lo...hi)
            return (.int32(Int32(v)), "\(v)")
        case .int64:
            let v = edge ? r.pick([Int64.min, Int64.max, 0, -1]) : r.int(r.chance(0.5) ? -1000...1000 : Int64.min...Int64.max)
            return (.int64(v), "\(v)")
        case .float:
            let v: Float =
                edge
                ? r.pick([.nan, .infinity, -.infinity, -0.0, 0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude])
                : Float(r.int(-1_000_000...1_000_000)) / 64
            return (.float(v), floatJSON(Double(v), v.isNaN, v.description))
        case .double:
            let v: Double =
                edge
                ? r.pick([.nan, .infinity, -.infinity, -0.0, 0.0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude, .leastNonzeroMagnitude])
                : Double(bitPattern: r.next() & 0x3FFF_FFFF_FFFF_FFFF | (r.chance(0.5) ? 1 << 63 : 0))
            return (.double(v), floatJSON(v, v.isNaN, v.description))
        case .string, .json:
            var s: String
            if huge {
                s = String(repeating: "é日x", count: largeBytes / 6)
                if type == .json { s = "{\"big\": \"" + s + "\"}" }
            } else if type == .json {
                s = "{\"k\": \(r.int(-5...5)), \"v\": \"\(r.pick(["a", "é", "日本"]))\"}"
            } else if edge {
                s = r.pick(["", "\u{0}", "\u{10FFFF}", "\u{7F}\u{80}", "z"])
            } else {
                s = ""
                for _ in 0..<r.int(0...12) { s += r.pick(["a", "b", "Z", "0", " ", "é", "日", "😀", "\"", "\\", "\n"]) }
            }
            return (.string(s), jsonString(s))
        case .bytes:
            let n = huge ? largeBytes : edge ? Int(r.pick([0, 1] as [Int64])) : Int(r.int(0...20))
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            return (.bytes(bytes), "\"\(hex(bytes))\"")
        case .uuid, .fixedBytes:
            let n = type.fixedLength!
            let bytes: [UInt8] = edge ? [UInt8](repeating: r.pick([0, 0xFF, 0x80]), count: n) : (0..<n).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            return (.bytes(bytes), "\"\(hex(bytes))\"")
        case .decimal(let precision, _):
            if precision <= 18 {
                var limit: Int64 = 1
                for _ in 0..<precision { limit *= 10 }
                let v = edge ? r.pick([limit - 1, -(limit - 1), 0]) : r.int(-(limit - 1)...(limit - 1))
                return (.decimal(v), "\"\(v)\"")
            }
            var limit: Int128 = 1
            for _ in 0..<precision { limit *= 10 }
            let v: Int128
            if edge {
                v = r.pick([limit - 1, -(limit - 1), 0, -1])
            } else {
                let hi = Int128(Int64(bitPattern: r.next())), lo = Int128(r.next())
                v = (hi << 64 | lo) % limit
            }
            let n = type.fixedLength!
            let bytes = (0..<n).map { k in UInt8(truncatingIfNeeded: v >> (8 * (n - 1 - k))) }
            return (.bytes(bytes), "\"\(v)\"")
        case .date:
            let v = edge ? r.pick([minDay, maxDay, 0, -1]) : r.int(-20000...40000)
            return (.int32(Int32(v)), "\(v)")
        case .timeMicros:
            let v = edge ? r.pick([0, 86_399_999_999]) : r.int(0...86_399_999_999)
            return (.int64(v), "\(v)")
        case .timestampMicros:
            let v = edge ? r.pick([minTimestamp, maxTimestamp, 0, -1]) : r.int(minTimestamp...maxTimestamp)
            return (.int64(v), "\(v)")
        case .timestampMillis:
            let v = edge ? r.pick([minTimestamp / 1000, maxTimestamp / 1000, 0, -1]) : r.int((minTimestamp / 1000)...(maxTimestamp / 1000))
            return (.int64(v), "\(v)")
        }
    }

    static func floatJSON(_ v: Double, _ isNaN: Bool, _ description: String) -> String {
        if isNaN { return "\"nan\"" }
        if v == .infinity { return "\"inf\"" }
        if v == -.infinity { return "\"-inf\"" }
        return "\"\(description)\""
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// How a generated file is shaped.
    struct Shape {
        var rows: Int
        var nullProbability: [Double]  // per column; 1.0 makes it all-null
        var edgeProbability = 0.05
        var largeRows: Set<Int> = []  // rows that get a `largeBytes` string / bytes and a 10,000-element list
        var largeBytes = 1_000_000
        var options = ParquetWriterOptions()
    }

    /// Writes `directory/name.parquet` and `directory/name.json`; returns the summary.
    @discardableResult
    static func write(name: String, in directory: URL, seed: UInt64, shape: Shape) throws -> ParquetWriteSummary {
        var r = Random(seed: seed)
        let cols = columns()
        let schema = ParquetSchema(cols.map(\.column))
        let path = directory.appendingPathComponent("\(name).parquet").path
        let sink = try ParquetFileSink(path: path)
        let writer = try ParquetWriter(schema: schema, sink: sink, options: shape.options)
        var values = [[String]](repeating: [], count: cols.count)
        for row in 0..<shape.rows {
            var cells: [ParquetValue] = []
            for (ci, c) in cols.enumerated() {
                let column = c.column
                let nullable = column.isNullable
                if nullable && r.chance(shape.nullProbability[ci]) {
                    cells.append(.null)
                    values[ci].append("null")
                    continue
                }
                let huge = shape.largeRows.contains(row)
                if column.isList {
                    let count = huge ? 10_000 : Int(r.int(0...4))
                    var elements: [ParquetValue] = []
                    var json: [String] = []
                    for _ in 0..<count {
                        if column.isElementNullable && r.chance(0.2) {
                            elements.append(.null)
                            json.append("null")
                        } else {
                            let cell = leaf(column.type, &r, edge: r.chance(shape.edgeProbability), huge: false)
                            elements.append(cell.value)
                            json.append(cell.json)
                        }
                    }
                    cells.append(.list(elements))
                    values[ci].append("[" + json.joined(separator: ",") + "]")
                } else {
                    let cell = leaf(column.type, &r, edge: r.chance(shape.edgeProbability), huge: huge, largeBytes: shape.largeBytes)
                    cells.append(cell.value)
                    values[ci].append(cell.json)
                }
            }
            try writer.appendRow(cells)
        }
        let summary = try writer.close()
        try sink.close()
        var json = "{\"rows\": \(shape.rows), \"codec\": \"\(codecName(shape.options.codec))\", \"columns\": ["
        json += cols.map { c in
            let col = c.column
            var extra = ""
            if case .decimal(let p, let s) = col.type { extra += ", \"precision\": \(p), \"scale\": \(s)" }
            if case .fixedBytes(let n) = col.type { extra += ", \"length\": \(n)" }
            if case .timestampMicros(let utc) = col.type { extra += ", \"utc\": \(utc)" }
            return "{\"name\": \"\(col.name)\", \"kind\": \"\(c.kind)\", \"nullable\": \(col.isNullable), \"list\": \(col.isList)\(extra)}"
        }.joined(separator: ", ")
        json += "], \"values\": {"
        json += cols.enumerated().map { ci, c in
            "\"\(c.column.name)\": [" + values[ci].joined(separator: ",") + "]"
        }.joined(separator: ",\n")
        json += "}}"
        try json.write(toFile: directory.appendingPathComponent("\(name).json").path, atomically: false, encoding: .utf8)
        return summary
    }

    static func codecName(_ codec: ParquetCodec) -> String {
        switch codec {
        case .uncompressed: "UNCOMPRESSED"
        case .snappy: "SNAPPY"
        case .gzip: "GZIP"
        case .zstd: "ZSTD"
        }
    }
}

extension SeededRandom {
    mutating func int(_ range: ClosedRange<Int64>) -> Int64 {
        let span = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        return range.lowerBound &+ Int64(bitPattern: span == 0 ? next() : next() % span)
    }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ xs: [T]) -> T { xs[Int(next() % UInt64(xs.count))] }
}
