import PGClient

/// Reads whole tables with binary COPY inside one exported snapshot, decoding rows into
/// ``ColumnBatch``es of a bounded number of rows.
public struct SnapshotReader {
    /// The connection, already inside the snapshot's transaction (see ``enterSnapshot(_:on:)``).
    public let connection: PGConnection
    /// Rows per batch handed to the consumer.
    public var batchRows: Int

    /// Values longer than this many bytes are left out of the COPY (libpq would hold the row's
    /// whole message twice) and read afterwards, in pieces of this size, in the same snapshot; each
    /// such row is handed over as a batch of its own. See ``largeValueExpression(_:limit:)``.
    public var largeValueBytes: Int
    /// Whether a large value is left to the batch's consumer to read in pieces as it writes the
    /// row (a ``LargeValueStream``, which runs its queries on this reader's connection: the consumer
    /// of `onBatch` must have written the batch before `onBatch` returns), instead of being read
    /// into the batch.
    public var streamsLargeValues = false

    public init(connection: PGConnection, batchRows: Int = 65_536, largeValueBytes: Int = 4 << 20) {
        self.connection = connection
        self.batchRows = batchRows
        self.largeValueBytes = largeValueBytes
    }

    /// Starts a `REPEATABLE READ READ ONLY` transaction that sees exactly the snapshot a
    /// replication slot exported (`CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export')`).
    public static func enterSnapshot(_ snapshotName: String, on connection: PGConnection) throws {
        try connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try connection.query("SET TRANSACTION SNAPSHOT \(PGConnection.quoteLiteral(snapshotName))")
        // Values read as text print as the change stream's session prints them (ChangeStream.sessionOptions).
        try connection.query(
            "SELECT set_config('timezone', 'UTC', true), set_config('datestyle', 'ISO, YMD', true), set_config('intervalstyle', 'iso_8601', true), set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true)"
        )
    }

    /// The COPY statement for `table`: its columns in attnum order, cast to text where the binary
    /// form is not one we decode.
    /// With `pages`, only the rows whose `ctid` lies in that range of heap pages (a TID range scan
    /// on PostgreSQL 14+).
    ///
    /// With `largeValues`, each column that may hold a large value (``largeValueExpression(_:limit:)``)
    /// reads NULL where its value is longer than that, and a last column gives the `ctid` of such
    /// rows (NULL for the others); `row` restricts the statement to one row by its `ctid`.
    public static func copyStatement(
        for table: TableDescription, pages: PageRange? = nil,
        largeValues: Int? = nil, rowIDColumn: Bool = true, row: (UInt32, UInt16)? = nil
    ) -> String {
        var conditions: [String] = []
        var list = table.columns.map { column -> String in
            let quoted = PGConnection.quoteIdentifier(column.name)
            // format('%s', x) runs the type's own output function, as pgoutput's text mode does
            // (`::text` differs for inet/cidr). num_nulls, not IS NULL: a composite whose fields are
            // all null IS NULL, yet it is a value (`(,)`), which the stream sends as such.
            if ColumnKind(column).needsTextCast {
                return "CASE WHEN num_nulls(\(quoted)) = 1 THEN NULL ELSE format('%s', \(quoted)) END"
            }
            if let largeValues, let large = largeValueExpression(column, limit: largeValues) {
                conditions.append(large.condition)
                return "CASE WHEN \(large.condition) THEN NULL ELSE \(quoted) END"
            }
            return quoted
        }
        if !conditions.isEmpty && rowIDColumn {
            list.append("CASE WHEN \(conditions.joined(separator: " OR ")) THEN ctid END")
        }
        let filter = row.map { " WHERE ctid = '(\($0.0),\($0.1))'::tid" } ?? pages?.whereClause ?? ""
        return "COPY (SELECT \(list.joined(separator: ", ")) FROM \(table.qualifiedName)\(filter)) TO STDOUT (FORMAT binary)"
    }

    /// For a column whose values may be large and are sent by COPY as their bytes (text, varchar,
    /// bpchar, xml, json, jsonb, bytea, and domains over them): the condition that its value is
    /// longer than `limit` bytes, and the expression of the bytes binary COPY sends for it (the
    /// type's send function), which is read in pieces with `substring` (each piece detoasts the
    /// whole value again, except for bytea: a 100 MB text value takes about 4 s instead of 1 s). The condition reads the
    /// value's length from its TOAST header without fetching it; for jsonb, which has no such
    /// length, it is the stored (possibly compressed) size against an eighth of `limit`.
    public static func largeValueExpression(_ column: ColumnDescription, limit: Int) -> (condition: String, sendBytes: String)? {
        let q = PGConnection.quoteIdentifier(column.name)
        switch column.baseTypeOID {
        case PGTypeOID.text: return ("octet_length(\(q)) > \(limit)", "textsend(\(q))")
        case PGTypeOID.varchar: return ("octet_length(\(q)) > \(limit)", "varcharsend(\(q))")
        case PGTypeOID.bpchar: return ("octet_length(\(q)) > \(limit)", "bpcharsend(\(q))")
        // bytea is its own binary form, and its substring fetches only the slice it needs.
        case PGTypeOID.bytea: return ("octet_length(\(q)) > \(limit)", q)
        case PGTypeOID.xml: return ("octet_length(\(q)::text) > \(limit)", "xml_send(\(q))")
        case PGTypeOID.json: return ("octet_length(\(q)::text) > \(limit)", "json_send(\(q))")
        case PGTypeOID.jsonb: return ("pg_column_size(\(q)) > \(limit / 8)", "jsonb_send(\(q))")
        default: return nil
        }
    }

    /// Whether `table` may hold a value longer than `limit`: it has a column that
    /// ``largeValueExpression(_:limit:)`` covers and a TOAST relation of at least `limit / 128`
    /// bytes (a large value is always stored out of line, compressed at most about 100 to 1).
    func mayHoldLargeValues(_ table: TableDescription, limit: Int) throws -> Bool {
        guard table.columns.contains(where: { Self.largeValueExpression($0, limit: limit) != nil }) else { return false }
        let toast = try connection.query("SELECT coalesce(pg_relation_size(NULLIF(reltoastrelid, 0)), 0) FROM pg_class WHERE oid = $1", [String(table.oid)])
        return (Int(toast.rows.first?.first.flatMap { $0 } ?? "0") ?? 0) >= limit / 128
    }

    /// Reads every row of `table`, handing full batches (and the last partial one) to `onBatch`,
    /// which may keep the batch's storage by swapping it out. Returns the number of rows.
    @discardableResult
    public func read(_ table: TableDescription, pages: PageRange? = nil, onBatch: (inout ColumnBatch) throws -> Void) throws -> Int64 {
        let kinds = table.columns.map(ColumnKind.init)
        var batch = ColumnBatch(kinds: kinds)
        let large = try mayHoldLargeValues(table, limit: largeValueBytes) ? largeValueBytes : nil
        var decoder = CopyBinaryDecoder(columnCount: kinds.count, trailingRowID: large != nil)
        var total: Int64 = 0
        let limit = batchRows
        var deferred: [(UInt32, UInt16)] = []
        try connection.copyOut(Self.copyStatement(for: table, pages: pages, largeValues: large)) { message in
            let rows = try decoder.decode(message, into: &batch) { deferred.append(($0, $1)) }
            total += Int64(rows)
            if batch.rowCount >= limit {
                try onBatch(&batch)
                batch.removeAll()
            }
        }
        guard decoder.finished else { throw CopyDecodingError(reason: "COPY ended without its trailer", offset: 0) }
        if batch.rowCount > 0 { try onBatch(&batch) }
        for row in deferred {
            batch.removeAll()
            try readRowWithLargeValues(table, row: row, limit: largeValueBytes, into: &batch)
            total += 1
            try onBatch(&batch)
        }
        return total
    }

    /// Reads one row the COPY left out (its `ctid` is `row`): its other values with a COPY of that
    /// row, then each large value in pieces of `limit` bytes, appended in place of its NULL.
    private func readRowWithLargeValues(
        _ table: TableDescription, row: (UInt32, UInt16), limit: Int,
        into batch: inout ColumnBatch
    ) throws {
        let tid = "'(\(row.0),\(row.1))'::tid"
        let large = table.columns.enumerated().compactMap { index, column in
            Self.largeValueExpression(column, limit: limit).map { (index, column, $0) }
        }
        let lengths = try connection.query(
            "SELECT "
                + large.map { "CASE WHEN \($0.2.condition) THEN octet_length(\($0.2.sendBytes)) END" }
                .joined(separator: ", ") + " FROM \(table.qualifiedName) WHERE ctid = \(tid)")
        guard let found = lengths.rows.first else {
            throw CopyDecodingError(reason: "row \(tid) of \(table.qualifiedName) is gone from the snapshot", offset: 0)
        }
        var decoder = CopyBinaryDecoder(columnCount: table.columns.count)
        var rows = 0
        try connection.copyOut(Self.copyStatement(for: table, largeValues: limit, rowIDColumn: false, row: row)) { message in
            rows += try decoder.decode(message, into: &batch)
        }
        guard rows == 1, decoder.finished else {
            throw CopyDecodingError(reason: "row \(tid) of \(table.qualifiedName) read as \(rows) rows", offset: 0)
        }
        for ((index, column, expression), text) in zip(large, found) {
            guard let text, let length = Int(text) else { continue }
            // jsonb's binary form starts with its version byte, which the value does not keep.
            let skip = ColumnKind(column) == .jsonb ? 1 : 0
            let pieces = ValuePieces(
                connection: connection,
                sql: { offset in
                    "COPY (SELECT substring(\(expression.sendBytes) FROM \(offset) FOR \(limit)) FROM \(table.qualifiedName) WHERE ctid = \(tid)) TO STDOUT (FORMAT binary)"
                }, length: length, skipVersionByte: skip == 1)
            if streamsLargeValues {
                batch.largeValueStreams.append(LargeValueStream(row: batch.rowCount - 1, column: index, count: length - skip, produce: pieces.read))
            } else {
                try batch.columns[index].replaceLastNull(withBytes: length - skip) { bytes in
                    try pieces.read { bytes.append(contentsOf: $0) }
                }
            }
        }
    }
}

/// Reads one large value in pieces (a `COPY` of a `substring` each) and hands them out in order.
private struct ValuePieces: @unchecked Sendable {
    // The connection is used by one thread at a time: the reader's, or the consumer's while the
    // reader waits for it to write the batch (SnapshotReader.streamsLargeValues).
    let connection: PGConnection
    let sql: @Sendable (Int) -> String
    let length: Int
    let skipVersionByte: Bool

    func read(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var piece = ColumnBatch(kinds: [.bytea])
        var offset = 1
        while offset <= length {
            piece.removeAll()
            var decoder = CopyBinaryDecoder(columnCount: 1)
            try connection.copyOut(sql(offset)) { message in try decoder.decode(message, into: &piece) }
            let got = piece.columns[0].bytes
            guard !got.isEmpty else { break }
            try got.withUnsafeBytes { raw in
                if offset == 1 && skipVersionByte {
                    guard raw.first == 1 else { throw ValueDecodingError(kind: .jsonb, reason: "jsonb version byte is not 1") }
                    try emit(UnsafeRawBufferPointer(rebasing: raw[1...]))
                } else {
                    try emit(raw)
                }
            }
            offset += got.count
        }
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
