import CLibPQ

/// The rows of a simple query, in text format. For catalog queries and replication commands, not
/// for table data (that goes through ``PGConnection/copyOut(_:onRow:)``).
public struct QueryResult: Sendable {
    /// Column names in result order.
    public var columns: [String]
    /// Rows of text values; nil is SQL NULL.
    public var rows: [[String?]]
    /// The command tag, e.g. `INSERT 0 1`.
    public var commandTag: String

    /// The value of `column` in `row`, by name; nil when NULL or no such column.
    public func value(_ row: Int, _ column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }

    init(_ result: OpaquePointer) {
        let fieldCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        columns = (0..<fieldCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            rows.append(
                (0..<fieldCount).map { c in
                    PQgetisnull(result, Int32(r), Int32(c)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(r), Int32(c)))
                })
        }
        self.rows = rows
        commandTag = String(cString: PQcmdStatus(result))
    }
}
