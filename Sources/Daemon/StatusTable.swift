/// `replicatord status`: the checkpoint's per-table statistics as a table a person reads at a
/// glance, like DMS's "Table statistics".
public enum StatusTable {
    public static func render(_ state: ReplicationState) -> String {
        let header = ["table", "state", "full-load rows", "inserts", "updates", "deletes", "truncates", "files", "last change (UTC)", "last LSN"]
        var rows: [[String]] = []
        for name in state.tables.keys.sorted() {
            let t = state.tables[name]!
            rows.append([name, t.status.rawValue, "\(t.fullLoadRows)", "\(t.inserts)", "\(t.updates)", "\(t.deletes)",
                         "\(t.truncates)", "\(t.filesWritten)", t.lastChangeTime.map(Self.utc) ?? "-", t.lastChangeLSN ?? "-"])
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == 0 || i == 1 || i >= 8 ? c.padding(widths[i]) : c.leftPadding(widths[i]) }
                .joined(separator: "  ")
        }
        var out = "slot \(state.slot)  publication \(state.publication)  phase \(state.phase.rawValue)  confirmed LSN \(state.confirmedLSN)\n"
        out += line(header) + "\n" + line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        out += rows.map(line).joined(separator: "\n")
        return out
    }

    static func utc(_ micros: Int64) -> String {
        let ms = micros / 1000
        let name = FileNaming.cdcName(unixMilliseconds: ms)   // yyyyMMdd-HHmmssSSS
        let c = Array(name)
        return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8])) \(String(c[9..<11])):\(String(c[11..<13])):\(String(c[13..<15]))"
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
