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
    public static func copyStatement(for table: TableDescription) -> String {
        let list = table.columns.map { column -> String in
            let quoted = PGConnection.quoteIdentifier(column.name)
            // format('%s', x) runs the type's own output function, as pgoutput's text mode does
            // (`::text` differs for inet/cidr). num_nulls, not IS NULL: a composite whose fields are
            // all null IS NULL, yet it is a value (`(,)`), which the stream sends as such.
            return ColumnKind(column).needsTextCast ? "CASE WHEN num_nulls(\(quoted)) = 1 THEN NULL ELSE format('%s', \(quoted)) END" : quoted
        }.joined(separator: ", ")
        return "COPY (SELECT \(list) FROM \(table.qualifiedName)) TO STDOUT (FORMAT binary)"
    }

    /// Reads every row of `table`, handing full batches (and the last partial one) to `onBatch`,
    /// which may keep the batch's storage by swapping it out. Returns the number of rows.
    @discardableResult
    public func read(_ table: TableDescription, onBatch: (inout ColumnBatch) throws -> Void) throws -> Int64 {
        let kinds = table.columns.map(ColumnKind.init)
        var batch = ColumnBatch(kinds: kinds)
        var decoder = CopyBinaryDecoder(columnCount: kinds.count)
        var total: Int64 = 0
        let limit = batchRows
        try connection.copyOut(Self.copyStatement(for: table)) { message in
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
