/// Decoded values of one column for a batch of rows, stored densely: value arrays hold only the
/// non-null rows, in row order; ``nulls`` says which rows are null.
///
/// Fixed-width values never allocate per value: integers, dates, times, timestamps and decimals
/// up to 18 digits go to ``int64s``; wider decimals to ``int128s``; floats to ``float32s`` /
/// ``float64s``; text, binary and uuid bytes are appended to one ``bytes`` arena with ``offsets``.
public struct ColumnVector: Sendable {
    /// The column's mapping.
    public let kind: ColumnKind
    /// One entry per row: true when the row's value is NULL.
    public var nulls: [Bool] = []
    public var int64s: [Int64] = []
    public var int128s: [Int128] = []
    public var float32s: [Float] = []
    public var float64s: [Double] = []
    /// Concatenated bytes of the byte-like values.
    public var bytes: [UInt8] = []
    /// Start of value i in ``bytes`` is `offsets[i]`, its end `offsets[i + 1]` (starts with 0).
    public var offsets: [Int] = [0]
    /// For a LIST column: the elements of every non-null list, one after another, in one child
    /// vector (its own nulls are NULL elements)...
    public var elements: [ColumnVector] = []
    /// ...and where list i starts in it: list i is `listOffsets[i]..<listOffsets[i + 1]`.
    public var listOffsets: [Int] = [0]
    /// Rows (in this vector) whose value was a numeric `NaN` that the column's DECIMAL cannot hold:
    /// written as NULL and listed in the file's `replicatord.numeric_nan` metadata (README's rule).
    public var nanRows: [Int] = []
    /// For a LIST column: the rows whose array is not the plain one-dimensional `[1:n]` (a
    /// multi-dimensional value, which PostgreSQL accepts in a column declared one-dimensional, or
    /// explicit lower bounds): the list holds its elements in row-major order and the file's
    /// `replicatord.array_dims` metadata lists its dimensions (README's rule).
    public var arrayShapes: [ArrayShape] = []
    /// Rows whose value PostgreSQL accepts but the column's Parquet type cannot hold (a timestamp
    /// after 294247-01-10, past INT64 microseconds since 1970): written as NULL and listed, with
    /// the value as PostgreSQL prints it, in the file's `replicatord.out_of_range` metadata.
    public var outOfRange: [OutOfRangeValue] = []

    /// An empty vector for `kind`.
    public init(kind: ColumnKind) {
        self.kind = kind
        if case .list(let element) = kind { elements = [ColumnVector(kind: element)] }
    }

    /// Rows in the vector, nulls included.
    public var count: Int { nulls.count }

    /// Number of non-null values.
    public var valueCount: Int {
        offsets.count - 1 + int64s.count + int128s.count + float32s.count + float64s.count + listOffsets.count - 1
    }

    /// Appends a NULL row.
    public mutating func appendNull() { nulls.append(true) }

    /// Appends a numeric `NaN` to a DECIMAL vector: a NULL row remembered in ``nanRows``.
    public mutating func appendDecimalNaN() {
        nanRows.append(nulls.count)
        nulls.append(true)
    }

    /// Appends a value the column's type cannot hold: a NULL row remembered in ``outOfRange``
    /// with `text`, the value as PostgreSQL prints it.
    public mutating func appendOutOfRange(_ text: String) {
        outOfRange.append(OutOfRangeValue(row: nulls.count, text: text))
        nulls.append(true)
    }

    /// Appends raw bytes as one value.
    public mutating func appendBytes(_ value: UnsafeRawBufferPointer) {
        nulls.append(false)
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    /// Appends `value` as one value, taking its array over when the vector holds no bytes yet (a
    /// large value read into an array of its own is then never copied); `value` is left empty.
    public mutating func adoptBytes(_ value: inout [UInt8]) {
        nulls.append(false)
        if bytes.isEmpty { swap(&bytes, &value); value = [] } else { bytes.append(contentsOf: value) }
        offsets.append(bytes.count)
    }

    /// Appends UTF-8 text as one value.
    public mutating func appendText(_ text: String) {
        nulls.append(false)
        bytes.append(contentsOf: text.utf8)
        offsets.append(bytes.count)
    }

    /// Appends one non-null list whose elements are the rows of `elements` (a vector of this
    /// list's element kind), and its dimensions when they are not the plain `[1:n]`.
    public mutating func appendList(_ list: ColumnVector, shape: [ArrayDimension] = []) {
        if !ArrayDimension.isPlainList(shape) {
            arrayShapes.append(ArrayShape(row: nulls.count, dimensions: ArrayDimension.text(shape)))
        }
        nulls.append(false)
        elements[0].append(contentsOf: list)
        listOffsets.append(elements[0].count)
    }

    /// Appends all rows of another vector of the same kind.
    public mutating func append(contentsOf other: ColumnVector) {
        precondition(kind == other.kind, "appending a \(other.kind) vector to a \(kind) vector")
        let rowBase = nulls.count
        nanRows += other.nanRows.map { $0 + rowBase }
        arrayShapes += other.arrayShapes.map { ArrayShape(row: $0.row + rowBase, dimensions: $0.dimensions) }
        outOfRange += other.outOfRange.map { OutOfRangeValue(row: $0.row + rowBase, text: $0.text) }
        nulls += other.nulls
        int64s += other.int64s
        int128s += other.int128s
        float32s += other.float32s
        float64s += other.float64s
        let base = bytes.count
        bytes += other.bytes
        offsets += other.offsets.dropFirst().map { $0 + base }
        if !other.elements.isEmpty {
            let listBase = elements[0].count
            elements[0].append(contentsOf: other.elements[0])
            listOffsets += other.listOffsets.dropFirst().map { $0 + listBase }
        }
    }

    /// Turns the last row, a NULL, into a byte value whose `count` bytes `fill` appends to
    /// ``bytes`` (a large value read in pieces, see ``SnapshotReader``); throws when `fill`
    /// appended another number of bytes.
    public mutating func replaceLastNull(withBytes count: Int, _ fill: (inout [UInt8]) throws -> Void) throws {
        precondition(
            kind.isByteLike && nulls.last == true && nanRows.last != nulls.count - 1 && outOfRange.last?.row != nulls.count - 1,
            "replaceLastNull on a \(kind) vector whose last row is not a NULL")
        let start = bytes.count
        bytes.reserveCapacity(start + count)
        try fill(&bytes)
        guard bytes.count - start == count else {
            let got = bytes.count - start
            bytes.removeSubrange(start...)
            throw ValueDecodingError(kind: kind, reason: "a value read in pieces has \(got) bytes, expected \(count)")
        }
        nulls[nulls.count - 1] = false
        offsets.append(bytes.count)
    }

    /// Bytes held by the vector's values (an estimate of its memory).
    public var byteCount: Int {
        bytes.count + (int64s.count + float64s.count) * 8 + int128s.count * 16 + float32s.count * 4
            + elements.reduce(0) { $0 + $1.byteCount }
    }

    /// The bytes of the i-th non-null byte-like value.
    public func byteValue(_ index: Int) -> ArraySlice<UInt8> { bytes[offsets[index]..<offsets[index + 1]] }

    /// The largest ``bytes`` capacity ``removeAll()`` keeps.
    static let keptArenaBytes = 64 << 20

    /// Empties the vector, keeping its capacity for the next batch (up to ``keptArenaBytes``).
    public mutating func removeAll() {
        nulls.removeAll(keepingCapacity: true)
        nanRows.removeAll(keepingCapacity: true)
        arrayShapes.removeAll(keepingCapacity: true)
        outOfRange.removeAll(keepingCapacity: true)
        int64s.removeAll(keepingCapacity: true)
        int128s.removeAll(keepingCapacity: true)
        float32s.removeAll(keepingCapacity: true)
        float64s.removeAll(keepingCapacity: true)
        // An arena grown by a large value is given back rather than kept for the next batch.
        if bytes.capacity > Self.keptArenaBytes { bytes = [] } else { bytes.removeAll(keepingCapacity: true) }
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
        if !elements.isEmpty {
            elements[0].removeAll()
            listOffsets.removeAll(keepingCapacity: true)
            listOffsets.append(0)
        }
    }
}

/// One dimension of an array value: its length and lower bound (PostgreSQL's default bound is 1).
public struct ArrayDimension: Sendable, Equatable {
    public var length: Int
    public var lowerBound: Int
    public init(length: Int, lowerBound: Int = 1) { self.length = length; self.lowerBound = lowerBound }

    /// Whether the dimensions are those of a plain list: none (the empty array) or one with bound 1.
    static func isPlainList(_ dimensions: [ArrayDimension]) -> Bool {
        dimensions.isEmpty || dimensions.count == 1 && dimensions[0].lowerBound == 1
    }

    /// The dimensions as PostgreSQL's `array_dims()` prints them: `[1:2][1:3]`.
    static func text(_ dimensions: [ArrayDimension]) -> String {
        dimensions.map { "[\($0.lowerBound):\($0.lowerBound + $0.length - 1)]" }.joined()
    }
}

/// A row of a LIST column whose array has other dimensions than `[1:n]` (see ``ColumnVector/arrayShapes``).
public struct ArrayShape: Sendable, Equatable {
    public var row: Int
    /// As `array_dims()` prints them: `[1:2][1:2]`.
    public var dimensions: String
    public init(row: Int, dimensions: String) { self.row = row; self.dimensions = dimensions }
}

/// A value written as NULL because its column's Parquet type cannot hold it (see ``ColumnVector/outOfRange``).
public struct OutOfRangeValue: Sendable, Equatable {
    public var row: Int
    /// The value as PostgreSQL prints it (`294250-01-01 00:00:00`).
    public var text: String
    public init(row: Int, text: String) { self.row = row; self.text = text }
}

/// A value the writer reads in pieces as it writes the row, never held whole (a large value of the
/// full load, see ``SnapshotReader/streamsLargeValues``): the column holds a NULL in its place.
public struct LargeValueStream: Sendable {
    public var row: Int
    public var column: Int
    /// The value's length in bytes.
    public var count: Int
    /// Hands the value's bytes, in order, to `emit`.
    public var produce: @Sendable (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void

    public init(
        row: Int, column: Int, count: Int,
        produce: @escaping @Sendable (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) {
        self.row = row; self.column = column; self.count = count; self.produce = produce
    }
}

/// Decoded rows of one table, column by column.
public struct ColumnBatch: Sendable {
    public var columns: [ColumnVector]
    /// Values read in pieces when the batch is written, in place of NULLs of ``columns``.
    public var largeValueStreams: [LargeValueStream] = []
    /// Rows in the batch.
    public var rowCount: Int { columns.first?.count ?? 0 }

    /// An empty batch for columns of these kinds.
    public init(kinds: [ColumnKind]) { columns = kinds.map { ColumnVector(kind: $0) } }

    /// Empties every column, keeping capacity.
    public mutating func removeAll() {
        for i in columns.indices { columns[i].removeAll() }
        largeValueStreams.removeAll()
    }

    /// Bytes held by the batch's values.
    public var byteCount: Int { columns.reduce(0) { $0 + $1.byteCount } }
}
