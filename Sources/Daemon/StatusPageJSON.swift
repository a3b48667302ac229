import Foundation

extension StatusPage {
    /// `GET /status.json`'s bytes, written by hand where the volume is (each table's statistics and
    /// the recent cycles) and by `JSONEncoder` for the rest of the report: for 1,000 tables the
    /// encoder alone took 15 ms of the page's 17; this takes about 2. `JSONDecoder` reads it back
    /// as ``Data`` (tested), so both stay one format.
    static func encode(_ data: Data) -> [UInt8] {
        var report = data.health
        let tables = report.tables
        report.tables = [:]
        guard let rest = try? JSONEncoder().encode(report) else { return Array("{}".utf8) }
        var out = JSONBytes()
        out.bytes.reserveCapacity(rest.count + tables.count * 400 + data.history.count * 110 + 64)
        out.raw("{\"health\":")
        // The report with its tables written in place of the empty object the encoder wrote. A string
        // value cannot hold this sequence: the encoder escapes every quote inside a string.
        let marker = Array("\"tables\":{}".utf8)
        let restBytes = Array(rest)
        guard let at = restBytes.firstRange(of: marker) else { return Array("{}".utf8) }
        out.bytes += restBytes[..<at.lowerBound]
        out.raw("\"tables\":{")
        for (i, (name, t)) in tables.enumerated() {
            if i > 0 { out.raw(",") }
            out.string(name); out.raw(":{")
            out.field("status", t.status, first: true)
            out.field("full_load_rows", t.full_load_rows); out.field("inserts", t.inserts); out.field("updates", t.updates)
            out.field("deletes", t.deletes); out.field("truncates", t.truncates)
            out.field("files_written", t.files_written); out.field("bytes_written", t.bytes_written)
            if let v = t.last_change_lsn { out.field("last_change_lsn", v) }
            if let v = t.last_change_time { out.field("last_change_time", v) }
            if let v = t.error { out.field("error", v) }
            if let p = t.progress {
                out.raw(",\"progress\":{")
                out.field("rows", p.rows, first: true)
                if let v = p.estimated_rows { out.field("estimated_rows", v) }
                if let v = p.percent { out.field("percent", v) }
                out.field("rows_per_second", p.rows_per_second)
                if let v = p.eta_seconds { out.field("eta_seconds", v) }
                out.raw("}")
            }
            out.raw("}")
        }
        out.raw("}")
        out.bytes += restBytes[at.upperBound...]
        out.raw(",\"history\":[")
        for (i, p) in data.history.enumerated() {
            out.raw(i > 0 ? ",{" : "{")
            out.field("t", p.t, first: true); out.field("kind", p.kind); out.field("outcome", p.outcome)
            out.field("rows", Int64(p.rows))
            if let v = p.lag_bytes { out.field("lag_bytes", v) }
            if let v = p.lag_seconds { out.field("lag_seconds", v) }
            out.raw("}")
        }
        out.raw("]}")
        return out.bytes
    }
}

/// A JSON text being written as UTF-8 bytes ([RFC 8259](https://www.rfc-editor.org/rfc/rfc8259)).
struct JSONBytes {
    var bytes: [UInt8] = []

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A string, escaped: quote, backslash and the control characters (section 7).
    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                raw("\\u00"); bytes.append(hex[Int(byte >> 4)]); bytes.append(hex[Int(byte & 15)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func key(_ name: StaticString, first: Bool) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }

    mutating func field(_ name: StaticString, _ value: String, first: Bool = false) { key(name, first: first); string(value) }
    mutating func field(_ name: StaticString, _ value: Int64, first: Bool = false) { key(name, first: first); bytes += Array(String(value).utf8) }
    /// A number; JSON has no NaN or infinity, so those are written as null.
    mutating func field(_ name: StaticString, _ value: Double, first: Bool = false) {
        key(name, first: first)
        if value.isFinite { bytes += Array("\(value)".utf8) } else { raw("null") }
    }
}
