import PGClient

/// Reads whole tables with binary COPY inside one exported snapshot, decoding rows into
/// ``ColumnBatch``es of a bounded number of rows.
public struct SnapshotReader {
    /// The connection, already inside the snapshot's transaction (see ``enterSnapshot(_:on:)``).
    public let connection: PGConnection
    /// Rows per batch handed to the consumer.
    public var batchRows: Int

    public init(connection: PGConnection, batchRows: Int = 65_536) {
        self.connection = connection
        self.batchRows = batchRows
    }

    /// Starts a `REPEATABLE READ READ ONLY` transaction that sees exactly the snapshot a
    /// replication slot exported (`CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export')`).
    public static func enterSnapshot(_ snapshotName: String, on connection: PGConnection) throws {
        try connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try connection.query("SET TRANSACTION SNAPSHOT \(PGConnection.quoteLiteral(snapshotName))")
        // Values read as text print as the change stream's session prints them (ChangeStream.sessionOptions).
        try connection.query("SELECT set_config('timezone', 'UTC', true), set_config('datestyle', 'ISO, YMD', true), set_config('intervalstyle', 'iso_8601', true), set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true)")
    }

    /// The COPY statement for `table`: its columns in attnum order, cast to text where the binary
    /// form is not one we decode.
    /// With `pages`, only the rows whose `ctid` lies in that range of heap pages (a TID range scan
    /// on PostgreSQL 14+).
    public static func copyStatement(for table: TableDescription, pages: PageRange? = nil) -> String {
        let list = table.columns.map { column -> String in
            let quoted = PGConnection.quoteIdentifier(column.name)
            // format('%s', x) runs the type's own output function, as pgoutput's text mode does
            // (`::text` differs for inet/cidr). num_nulls, not IS NULL: a composite whose fields are
            // all null IS NULL, yet it is a value (`(,)`), which the stream sends as such.
            return ColumnKind(column).needsTextCast ? "CASE WHEN num_nulls(\(quoted)) = 1 THEN NULL ELSE format('%s', \(quoted)) END" : quoted
        }.joined(separator: ", ")
        return "COPY (SELECT \(list) FROM \(table.qualifiedName)\(pages?.whereClause ?? "")) TO STDOUT (FORMAT binary)"
    }

    /// Reads every row of `table`, handing full batches (and the last partial one) to `onBatch`,
    /// which may keep the batch's storage by swapping it out. Returns the number of rows.
    @discardableResult
    public func read(_ table: TableDescription, pages: PageRange? = nil, onBatch: (inout ColumnBatch) throws -> Void) throws -> Int64 {
        let kinds = table.columns.map(ColumnKind.init)
        var batch = ColumnBatch(kinds: kinds)
        var decoder = CopyBinaryDecoder(columnCount: kinds.count)
        var total: Int64 = 0
        let limit = batchRows
        try connection.copyOut(Self.copyStatement(for: table, pages: pages)) { message in
            let rows = try decoder.decode(message, into: &batch)
            total += Int64(rows)
            if batch.rowCount >= limit {
                try onBatch(&batch)
                batch.removeAll()
            }
        }
        guard decoder.finished else { throw CopyDecodingError(reason: "COPY ended without its trailer", offset: 0) }
        if batch.rowCount > 0 { try onBatch(&batch) }
        return total
    }
}

/// A range of a table's heap pages, `lower..<upper` (`upper` nil: to the end of the table), read by
/// one connection while others read the other ranges in the same snapshot.
public struct PageRange: Sendable, Hashable, CustomStringConvertible {
    public var lower: Int
    public var upper: Int?

    public init(lower: Int, upper: Int?) {
        precondition(lower >= 0 && (upper ?? .max) > lower, "a page range is not empty")
        self.lower = lower
        self.upper = upper
    }

    /// ` WHERE ctid >= '(lower,0)'::tid AND ctid < '(upper,0)'::tid`, either bound left out when open.
    var whereClause: String {
        var conditions: [String] = []
        if lower > 0 { conditions.append("ctid >= '(\(lower),0)'::tid") }
        if let upper { conditions.append("ctid < '(\(upper),0)'::tid") }
        return conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
    }

    public var description: String { "pages \(lower)..<\(upper.map(String.init) ?? "end")" }

    /// Splits `pages` heap pages into `count` ranges of about equal size; the last one is open, so
    /// that rows on pages added after `pages` was measured are still read.
    public static func split(pages: Int, into count: Int) -> [PageRange] {
        guard count > 1, pages >= count else { return [PageRange(lower: 0, upper: nil)] }
        let step = pages / count
        return (0..<count).map { k in PageRange(lower: k * step, upper: k == count - 1 ? nil : (k + 1) * step) }
    }
}
