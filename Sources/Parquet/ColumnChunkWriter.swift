/// Buffers, encodes and compresses one column's values for the current row group.
///
/// Values arrive one at a time with their levels; when the current page passes the page size
/// (checked at row boundaries, so DATA_PAGE_V2 pages hold whole rows) it is encoded —
/// RLE-hybrid levels, then RLE_DICTIONARY indices or PLAIN values — compressed and appended to
/// the chunk. The chunk's dictionary page is built when the dictionary overflows (the rest of
/// the chunk falls back to PLAIN) or when the chunk ends, and is written first.
final class ColumnChunkWriter {
    let column: ParquetColumn
    let physicalType: ParquetPhysicalType
    /// Byte length of FIXED_LEN_BYTE_ARRAY values, 0 otherwise.
    let fixedLength: Int
    let maxDefinitionLevel: UInt8
    let maxRepetitionLevel: UInt8
    private let options: ParquetWriterOptions
    private let dataPageSize: Int
    private let dictionaryPageSizeLimit: Int
    private let compressor: PageCompressor

    // The current page.
    @exclusivity(unchecked) private var definitionLevels = ByteBuffer(capacity: 1 << 12)
    @exclusivity(unchecked) private var repetitionLevels = ByteBuffer(capacity: 256)
    @exclusivity(unchecked) private var plainValues = ByteBuffer(capacity: 1 << 12)
    @exclusivity(unchecked) private var dictionaryIndices = ByteBuffer(capacity: 1 << 12)
    @exclusivity(unchecked) private var pageLevelCount = 0
    @exclusivity(unchecked) private var pageValueCount = 0
    @exclusivity(unchecked) private var pageRowCount = 0
    @exclusivity(unchecked) private var pageNullCount = 0
    @exclusivity(unchecked) private var booleanBitCount = 0

    // The current chunk.
    @exclusivity(unchecked) private var dictionary: DictionaryTable?
    @exclusivity(unchecked) private var dictionaryActive: Bool
    @exclusivity(unchecked) private var chunkPages = PageSegments()
    @exclusivity(unchecked) private var dictionaryPage = PageSegments()
    @exclusivity(unchecked) private var dictionaryPageEntries = 0
    @exclusivity(unchecked) private var chunkLevelCount: Int64 = 0
    @exclusivity(unchecked) private var chunkUncompressedBytes: Int64 = 0
    @exclusivity(unchecked) private var usedDictionary = false
    /// Values looked up in this chunk's dictionary so far (until the cardinality probe is done).
    @exclusivity(unchecked) private var probedValues = 0
    /// Set when nearly every value was new after the probe: the dictionary cannot pay off, so the
    /// column falls back to PLAIN at the next row boundary instead of filling a 1 MiB dictionary
    /// (cache misses on every lookup), and later row groups start PLAIN.
    @exclusivity(unchecked) private var dictionaryHopeless = false
    @exclusivity(unchecked) private var statistics: ColumnStatistics
    /// How the column's byte values order in its statistics.
    var statisticsByteOrder: ColumnStatistics.ByteOrder { statistics.byteOrder }

    // Scratch buffers reused for every page.
    @exclusivity(unchecked) private var pageBody = ByteBuffer(capacity: 1 << 16)
    @exclusivity(unchecked) private var levelsScratch = ByteBuffer(capacity: 1 << 10)

    // Row assembly.
    /// Top-level entries (a value, a null or a whole list) given since the last row ended.
    @exclusivity(unchecked) private(set) var entriesInRow = 0
    /// Whether a list is open (between `beginList` and `endList`).
    @exclusivity(unchecked) private(set) var inList = false
    @exclusivity(unchecked) private var listElementCount = 0

    init(column: ParquetColumn, options: ParquetWriterOptions, compressor: PageCompressor) {
        self.column = column
        self.options = options
        self.compressor = compressor
        dataPageSize = options.dataPageSize
        dictionaryPageSizeLimit = options.dictionaryPageSizeLimit
        physicalType = column.type.physicalType
        fixedLength = column.type.fixedLength ?? 0
        maxDefinitionLevel = UInt8(column.maxDefinitionLevel)
        maxRepetitionLevel = UInt8(column.maxRepetitionLevel)
        let order: ColumnStatistics.ByteOrder
        if case .decimal = column.type { order = .signedBigEndian } else { order = .unsigned }
        statistics = ColumnStatistics(physicalType: physicalType, byteOrder: order)
        dictionaryActive = options.dictionaryEnabled && physicalType != .boolean
        if dictionaryActive {
            let width: Int
            switch physicalType {
            case .int32, .float: width = 4
            case .int64, .double: width = 8
            case .fixedLenByteArray: width = fixedLength
            default: width = 0
            }
            dictionary = DictionaryTable(width: width, growthLimitBytes: options.dictionaryPageSizeLimit)
        }
    }

    deinit {
        definitionLevels.deallocate()
        repetitionLevels.deallocate()
        plainValues.deallocate()
        dictionaryIndices.deallocate()
        chunkPages.deallocate()
        dictionaryPage.deallocate()
        pageBody.deallocate()
        levelsScratch.deallocate()
        dictionary?.deallocate()
    }

    // MARK: Levels

    /// Records the levels of a present value.
    @inline(__always)
    private func recordValueLevels() {
        if maxRepetitionLevel > 0 {
            precondition(inList, "a value of LIST column \(column.name) is appended between beginList and endList")
            repetitionLevels.append(listElementCount == 0 ? 0 : 1)
            listElementCount += 1
            definitionLevels.append(maxDefinitionLevel)
        } else {
            if maxDefinitionLevel > 0 { definitionLevels.append(maxDefinitionLevel) }
            entriesInRow += 1
        }
        pageLevelCount += 1
        pageValueCount += 1
    }

    func appendNull() {
        if maxRepetitionLevel > 0 {
            if inList {
                precondition(column.isElementNullable, "LIST column \(column.name) has non-nullable elements")
                repetitionLevels.append(listElementCount == 0 ? 0 : 1)
                definitionLevels.append(maxDefinitionLevel - 1)
                listElementCount += 1
            } else {
                precondition(column.isNullable, "column \(column.name) is not nullable")
                repetitionLevels.append(0)
                definitionLevels.append(0)
                entriesInRow += 1
            }
        } else {
            precondition(column.isNullable, "column \(column.name) is not nullable")
            definitionLevels.append(0)
            entriesInRow += 1
        }
        pageLevelCount += 1
        pageNullCount += 1
        statistics.nullCount += 1
    }

    func beginList() {
        precondition(maxRepetitionLevel > 0 && !inList, "beginList on LIST column \(column.name) with no list open")
        inList = true
        listElementCount = 0
    }

    func endList() {
        precondition(inList, "endList on LIST column \(column.name) after beginList")
        if listElementCount == 0 {  // an empty list: defined up to the list, no element
            repetitionLevels.append(0)
            definitionLevels.append(column.isNullable ? 1 : 0)
            pageLevelCount += 1
        }
        inList = false
        entriesInRow += 1
    }

    // MARK: Values

    @inline(__always)
    func appendInt32(_ v: Int32) {
        precondition(physicalType == .int32, "column \(column.name) is INT32")
        recordValueLevels()
        plainValues.appendLittleEndian(v)
        if dictionaryActive { stage() } else { statistics.updateInt(Int64(v)) }
    }

    @inline(__always)
    func appendInt64(_ v: Int64) {
        precondition(physicalType == .int64, "column \(column.name) is INT64")
        recordValueLevels()
        plainValues.appendLittleEndian(v)
        if dictionaryActive { stage() } else { statistics.updateInt(v) }
    }

    @inline(__always)
    func appendFloat(_ v: Float) {
        precondition(physicalType == .float, "column \(column.name) is FLOAT")
        recordValueLevels()
        plainValues.appendLittleEndian(v.bitPattern)
        if dictionaryActive { stage() } else { statistics.updateDouble(Double(v)) }
    }

    @inline(__always)
    func appendDouble(_ v: Double) {
        precondition(physicalType == .double, "column \(column.name) is DOUBLE")
        recordValueLevels()
        plainValues.appendLittleEndian(v.bitPattern)
        if dictionaryActive { stage() } else { statistics.updateDouble(v) }
    }

    @inline(__always)
    func appendBool(_ v: Bool) {
        precondition(physicalType == .boolean, "column \(column.name) is BOOLEAN")
        recordValueLevels()
        let bit = booleanBitCount & 7
        if bit == 0 { plainValues.append(0) }
        if v {
            let last = plainValues.count - 1
            let byte = plainValues.base.load(fromByteOffset: last, as: UInt8.self)
            plainValues.base.storeBytes(of: byte | (1 << UInt8(bit)), toByteOffset: last, as: UInt8.self)
        }
        booleanBitCount += 1
        statistics.updateInt(v ? 1 : 0)
    }

    @inline(__always)
    func appendBytes(_ v: UnsafeRawBufferPointer) {
        precondition(
            physicalType == .byteArray || physicalType == .fixedLenByteArray,
            "column \(column.name) is BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY")
        precondition(
            fixedLength == 0 || v.count == fixedLength,
            "FIXED_LEN_BYTE_ARRAY column \(column.name) takes values of exactly \(fixedLength) bytes")
        if v.count >= Self.largeValueBytes && canStreamValue {
            writeLargeValue(v)
            return
        }
        recordValueLevels()
        if fixedLength == 0 { plainValues.appendLittleEndian(UInt32(v.count)) }
        plainValues.append(v)
        if dictionaryActive { stage() } else { statistics.updateBytes(v) }
    }

    // MARK: Large values

    /// BYTE_ARRAY values at least this long are written as a page of their own, compressed
    /// straight from the caller's bytes into the chunk: going through the page buffers would hold
    /// the value three more times (PLAIN buffer, page body, compressor output) and put it in the
    /// dictionary.
    static let largeValueBytes = 1 << 22
    /// An error of a large value's page, thrown by the row's ``endRow()`` (appends do not throw).
    @exclusivity(unchecked) private var pendingError: ParquetError?

    /// Writes `v`, the first entry of a row in a non-LIST column, as a one-value PLAIN page (see
    /// ``writeOwnPage(count:_:)``); an error waits for the row's ``endRow()``.
    @inline(never)
    private func writeLargeValue(_ v: UnsafeRawBufferPointer) {
        do {
            try writeOwnPage(count: v.count) { emit in try emit(v) }
        } catch let error as ParquetError {
            pendingError = error
        } catch {
            pendingError = ParquetError(.compressionFailed, "\(error)")
        }
        // The row's entry is given; its page is written, so endRow counts no row in the next page.
        entriesInRow += 1
    }

    /// Whether ``appendLargeValue(count:_:)`` may be used now.
    var canStreamValue: Bool { physicalType == .byteArray && maxRepetitionLevel == 0 && entriesInRow == 0 && compressor.streams }

    /// Appends a BYTE_ARRAY value of `count` bytes (more than 4 KiB) that `produce` hands over in
    /// pieces, in order, as the first entry of a row in a non-LIST column: it is compressed as the
    /// pieces come and never held whole. Errors of `produce` pass through, and so does a total
    /// other than `count`.
    func appendLargeValue(count: Int, _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        precondition(
            canStreamValue && count > ColumnStatistics.maxByteValueLength,
            "a streamed value of column \(column.name) starts a row of a flat BYTE_ARRAY column and is longer than 4 KiB")
        defer { entriesInRow += 1 }
        try writeOwnPage(count: count, produce)
    }

    /// Writes a value of `count` bytes, which `produce` hands over in pieces, as a one-value PLAIN
    /// page: the page before it is cut (it holds whole rows), the dictionary is given up for this
    /// chunk (a value this large would only fill it), and the page is compressed as the pieces come
    /// straight into the chunk. The value's statistics: none (longer than 4 KiB).
    private func writeOwnPage(count: Int, _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        drainStaged()
        if dictionaryActive {
            try flushPage()
            try writeDictionaryPage()
            dictionaryActive = false
            dictionary!.reset(keepAtMost: options.dictionaryPageSizeLimit * 2)
        } else {
            try flushPage()
        }
        statistics.giveUpByteBounds()
        levelsScratch.removeAll()
        if maxDefinitionLevel > 0 {
            definitionLevels.append(maxDefinitionLevel)
            encodeLevels(definitionLevels, maxLevel: maxDefinitionLevel, into: &levelsScratch)
            definitionLevels.removeAll()
        }
        var prefix: [UInt8] = []
        if options.dataPageVersion == .v1 && maxDefinitionLevel > 0 {
            // V1: the levels, length-prefixed, lead the compressed body.
            prefix += withUnsafeBytes(of: UInt32(levelsScratch.count).littleEndian, Array.init)
            prefix += Array(levelsScratch.bytes)
        }
        prefix += withUnsafeBytes(of: UInt32(count).littleEndian, Array.init)
        var body = PageSegments()
        defer { body.deallocate() }
        var produced = 0
        let compressed = try compressor.compress(totalBytes: prefix.count + count, into: &body) { emit in
            try prefix.withUnsafeBytes { try emit($0) }
            try withoutActuallyEscaping(emit) { emit in
                try produce { piece in
                    produced += piece.count
                    guard produced <= count else { throw ParquetError(.invalidRow, "column \(column.name): a streamed value longer than its \(count) bytes") }
                    try emit(piece)
                }
            }
            guard produced == count else {
                throw ParquetError(.invalidRow, "column \(column.name): a streamed value of \(produced) bytes, announced \(count)")
            }
        }
        let header: [UInt8]
        let uncompressedSize: Int
        switch options.dataPageVersion {
        case .v1:
            uncompressedSize = prefix.count + count
            header = PageHeader.dataPageV1(
                uncompressedSize: uncompressedSize, compressedSize: compressed,
                numValues: 1, encoding: .plain)
            chunkPages.append(header)
        case .v2:
            uncompressedSize = levelsScratch.count + prefix.count + count
            header = PageHeader.dataPageV2(
                uncompressedSize: uncompressedSize, compressedSize: levelsScratch.count + compressed,
                numValues: 1, numNulls: 0, numRows: 1, encoding: .plain,
                definitionLevelsByteLength: levelsScratch.count, repetitionLevelsByteLength: 0,
                isCompressed: options.codec != .uncompressed)
            chunkPages.append(header)
            chunkPages.append(levelsScratch.bytes)
        }
        chunkPages.append(moving: &body)
        chunkUncompressedBytes += Int64(header.count + uncompressedSize)
        chunkLevelCount += 1
    }

    // MARK: Staged dictionary encoding

    /// Values bound for the dictionary wait PLAIN-encoded in `plainValues` and are looked up in
    /// batches: consecutive independent lookups let the CPU overlap the hash table's cache misses,
    /// which a lookup per row (between every other column's work) cannot.
    @exclusivity(unchecked) private var stagedCount = 0
    private static let stageBatch = 2048
    /// Values after which a chunk's dictionary cardinality is judged.
    private static let probeValues = 32_768
    private static let stageBytes = 1 << 16

    @inline(__always)
    private func stage() {
        stagedCount &+= 1
        if stagedCount == Self.stageBatch || plainValues.count >= Self.stageBytes { drainStaged() }
    }

    /// Looks up every staged value in the dictionary, appending indices and updating statistics.
    private func drainStaged() {
        guard stagedCount > 0 else { return }
        let n = stagedCount
        if probedValues >= 0 { probedValues &+= n }
        let base = UnsafeRawPointer(plainValues.base)
        dictionaryIndices.reserve(n * 4)
        let out = dictionaryIndices.appendUninitialized(n * 4).assumingMemoryBound(to: UInt32.self)
        // Work on a local copy of the table (raw pointers and counters) so its fields stay in
        // registers; it is stored back below.
        var table = dictionary!
        defer { dictionary = table }
        switch physicalType {
        case .int32:
            for k in 0..<n {
                let v = base.load(fromByteOffset: k * 4, as: Int32.self)
                let (index, isNew) = table.index(fixed: UInt64(UInt32(bitPattern: v)))
                if isNew { statistics.updateInt(Int64(v)) }
                out[k] = index
            }
        case .int64:
            for k in 0..<n {
                let v = base.load(fromByteOffset: k * 8, as: Int64.self)
                let (index, isNew) = table.index(fixed: UInt64(bitPattern: v))
                if isNew { statistics.updateInt(v) }
                out[k] = index
            }
        case .float:
            for k in 0..<n {
                let bits = base.load(fromByteOffset: k * 4, as: UInt32.self)
                let (index, isNew) = table.index(fixed: UInt64(bits))
                if isNew { statistics.updateDouble(Double(Float(bitPattern: bits))) }
                out[k] = index
            }
        case .double:
            for k in 0..<n {
                let bits = base.load(fromByteOffset: k * 8, as: UInt64.self)
                let (index, isNew) = table.index(fixed: bits)
                if isNew { statistics.updateDouble(Double(bitPattern: bits)) }
                out[k] = index
            }
        case .byteArray:
            var offset = 0
            // A value equal to the one before (a LOAD file's `_seq`, `Op`, runs of a status) reuses
            // its index: a compare instead of a hash and a probe.
            var last: (start: UnsafeRawPointer, length: Int, index: UInt32)?
            for k in 0..<n {
                let length = Int(base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                let start = base + offset + 4
                offset += 4 + length
                if let last, last.length == length, memcmp(last.start, start, length) == 0 {
                    out[k] = last.index
                    continue
                }
                let value = UnsafeRawBufferPointer(start: start, count: length)
                let (index, isNew) = table.index(bytes: value)
                if isNew { statistics.updateBytes(value) }
                out[k] = index
                last = (start, length, index)
            }
        case .fixedLenByteArray:
            for k in 0..<n {
                let value = UnsafeRawBufferPointer(start: base + k * fixedLength, count: fixedLength)
                let (index, isNew) = table.index(bytes: value)
                if isNew { statistics.updateBytes(value) }
                out[k] = index
            }
        case .boolean:
            preconditionFailure("BOOLEAN columns are never dictionary-encoded")
        }
        stagedCount = 0
        plainValues.removeAll()
        if probedValues >= Self.probeValues {
            // The cardinality probe: more than 90% distinct values after this many lookups.
            if dictionary!.count &* 10 > probedValues &* 9 { dictionaryHopeless = true }
            probedValues = -1
        }
    }

    // MARK: Row boundaries and pages

    /// An estimate of the current page's encoded size.
    var pageByteEstimate: Int {
        let values: Int
        if dictionaryActive {
            let width = RLEHybridEncoder.bitWidth(UInt64(dictionary!.count))
            values = (pageValueCount * width) >> 3
        } else {
            values = plainValues.count
        }
        return values + (pageLevelCount >> 2)
    }

    /// Bytes this column holds for the current row group (for the row group budget), roughly:
    /// encoded pages, the current page's raw values and levels, the dictionary.
    @inline(__always)
    var bufferedBytes: Int {
        chunkPages.count &+ dictionaryPage.count &+ plainValues.count &+ (dictionaryIndices.count >> 2)
            &+ definitionLevels.count &+ dictionaryBytes
    }

    /// The dictionary page body's size while the dictionary is active, else 0.
    @inline(__always)
    private var dictionaryBytes: Int { dictionaryActive ? dictionary!.plain.count : 0 }

    /// Ends a row: checks it got exactly one entry, then cuts a page or falls back from the
    /// dictionary when a limit is passed.
    @inline(__always)
    func endRow() throws(ParquetError) {
        guard entriesInRow == 1 && !inList && pendingError == nil else { throw rowError() }
        entriesInRow = 0
        // Every row adds a level to the page, except one whose large value went to a page of its own.
        if pageLevelCount > 0 { pageRowCount &+= 1 }
        // Cheap bounds first: the page estimate never exceeds these raw sizes.
        guard
            plainValues.count &+ (pageLevelCount >> 2) >= dataPageSize
                || dictionaryIndices.count >= dataPageSize
                || dictionaryBytes > dictionaryPageSizeLimit || dictionaryHopeless
        else { return }
        try cutPageOrFallBack()
    }

    @inline(never)
    private func rowError() -> ParquetError {
        if let pendingError {
            self.pendingError = nil
            return pendingError
        }
        return ParquetError(
            .invalidRow,
            inList
                ? "column \(column.name): the row ended inside a list"
                : "column \(column.name) got \(entriesInRow) values in one row, expected 1")
    }

    @inline(never)
    private func cutPageOrFallBack() throws(ParquetError) {
        drainStaged()
        if dictionaryActive && (dictionary!.plain.count > options.dictionaryPageSizeLimit || dictionaryHopeless) {
            try flushPage()
            try writeDictionaryPage()
            dictionaryActive = false
            dictionary!.reset(keepAtMost: options.dictionaryPageSizeLimit * 2)
        } else if pageByteEstimate >= options.dataPageSize {
            try flushPage()
        }
    }

    /// Appends the RLE-hybrid encoding of a page's levels.
    private func encodeLevels(_ levels: ByteBuffer, maxLevel: UInt8, into out: inout ByteBuffer) {
        let p = UnsafeBufferPointer(start: levels.base.assumingMemoryBound(to: UInt8.self), count: levels.count)
        RLEHybridEncoder.encode(p, bitWidth: RLEHybridEncoder.bitWidth(UInt64(maxLevel)), into: &out)
    }

    private func encodeValues(into out: inout ByteBuffer) -> ParquetEncoding {
        if dictionaryActive && dictionary!.count > 0 {
            let width = max(1, RLEHybridEncoder.bitWidth(UInt64(dictionary!.count - 1)))
            out.append(UInt8(width))
            let p = UnsafeBufferPointer(
                start: dictionaryIndices.base.assumingMemoryBound(to: UInt32.self),
                count: dictionaryIndices.count / 4)
            RLEHybridEncoder.encode(p, bitWidth: width, into: &out)
            usedDictionary = true
            return .rleDictionary
        }
        out.append(plainValues.bytes)
        return .plain
    }

    /// Encodes, compresses and appends the current page to the chunk.
    func flushPage() throws(ParquetError) {
        drainStaged()
        guard pageLevelCount > 0 else { return }
        pageBody.removeAll()
        let header: [UInt8]
        let compressed: UnsafeRawBufferPointer
        let uncompressedSize: Int
        switch options.dataPageVersion {
        case .v1:
            if maxRepetitionLevel > 0 { lengthPrefixed(repetitionLevels, maxLevel: maxRepetitionLevel) }
            if maxDefinitionLevel > 0 { lengthPrefixed(definitionLevels, maxLevel: maxDefinitionLevel) }
            let encoding = encodeValues(into: &pageBody)
            uncompressedSize = pageBody.count
            compressed = try compressor.compress(pageBody.bytes)
            header = PageHeader.dataPageV1(
                uncompressedSize: uncompressedSize, compressedSize: compressed.count,
                numValues: pageLevelCount, encoding: encoding)
            appendPage(header: header, levels: nil, body: compressed)
        case .v2:
            levelsScratch.removeAll()
            if maxRepetitionLevel > 0 { encodeLevels(repetitionLevels, maxLevel: maxRepetitionLevel, into: &levelsScratch) }
            let repetitionLength = levelsScratch.count
            if maxDefinitionLevel > 0 { encodeLevels(definitionLevels, maxLevel: maxDefinitionLevel, into: &levelsScratch) }
            let definitionLength = levelsScratch.count - repetitionLength
            let encoding = encodeValues(into: &pageBody)
            let isCompressed = options.codec != .uncompressed
            compressed = isCompressed ? try compressor.compress(pageBody.bytes) : pageBody.bytes
            uncompressedSize = levelsScratch.count + pageBody.count
            header = PageHeader.dataPageV2(
                uncompressedSize: uncompressedSize, compressedSize: levelsScratch.count + compressed.count,
                numValues: pageLevelCount, numNulls: pageLevelCount - pageValueCount, numRows: pageRowCount,
                encoding: encoding, definitionLevelsByteLength: definitionLength,
                repetitionLevelsByteLength: repetitionLength, isCompressed: isCompressed)
            appendPage(header: header, levels: levelsScratch.bytes, body: compressed)
        }
        chunkUncompressedBytes += Int64(header.count + uncompressedSize)
        chunkLevelCount += Int64(pageLevelCount)
        definitionLevels.removeAll(keepAtMost: 1 << 22)
        repetitionLevels.removeAll(keepAtMost: 1 << 22)
        plainValues.removeAll(keepAtMost: options.dataPageSize * 4)
        dictionaryIndices.removeAll(keepAtMost: 1 << 24)
        pageLevelCount = 0
        pageValueCount = 0
        pageNullCount = 0
        pageRowCount = 0
        booleanBitCount = 0
    }

    private func lengthPrefixed(_ levels: ByteBuffer, maxLevel: UInt8) {
        let start = pageBody.count
        pageBody.appendLittleEndian(UInt32(0))
        encodeLevels(levels, maxLevel: maxLevel, into: &pageBody)
        pageBody.storeLittleEndian(UInt32(pageBody.count - start - 4), at: start)
    }

    private func appendPage(header: [UInt8], levels: UnsafeRawBufferPointer?, body: UnsafeRawBufferPointer) {
        chunkPages.append(header)
        if let levels { chunkPages.append(levels) }
        chunkPages.append(body)
    }

    private func writeDictionaryPage() throws(ParquetError) {
        guard let dictionary, dictionary.count > 0 else { return }
        let body = dictionary.plain.bytes
        let compressed = try compressor.compress(body)
        let header = PageHeader.dictionaryPage(
            uncompressedSize: body.count, compressedSize: compressed.count,
            numValues: dictionary.count)
        dictionaryPage.append(header)
        dictionaryPage.append(compressed)
        dictionaryPageEntries = dictionary.count
        chunkUncompressedBytes += Int64(header.count + body.count)
    }

    /// Finishes the chunk: flushes the last page and the dictionary, sends the chunk's bytes to
    /// `sink` starting at file offset `offset`, and resets for the next row group.
    func writeChunk(to sink: any ParquetSink, at offset: Int64) throws(ParquetError) -> ColumnChunkMetadata {
        try flushPage()
        if dictionaryActive { try writeDictionaryPage() }
        do {
            try dictionaryPage.forEachSegment { try sink.write($0) }
            try chunkPages.forEachSegment { try sink.write($0) }
        } catch let error as ParquetError {
            throw error
        } catch {
            throw ParquetError(
                .sinkFailed, "the sink refused column \(column.name)'s chunk",
                underlying: SinkFailure(description: String(describing: error)))
        }
        var encodings: [ParquetEncoding] = [.plain]
        if maxDefinitionLevel > 0 || maxRepetitionLevel > 0 { encodings.append(.rle) }
        if usedDictionary { encodings.append(.rleDictionary) }
        let bounds = statistics.encodedBounds()
        let hasDictionaryPage = !dictionaryPage.isEmpty
        let size = Int64(dictionaryPage.count + chunkPages.count)
        let metadata = ColumnChunkMetadata(
            physicalType: physicalType, encodings: encodings, path: column.path, codec: options.codec,
            numValues: chunkLevelCount, totalUncompressedSize: chunkUncompressedBytes, totalCompressedSize: size,
            dataPageOffset: offset + Int64(dictionaryPage.count),
            dictionaryPageOffset: hasDictionaryPage ? offset : nil,
            statistics: StatisticsMetadata(nullCount: statistics.nullCount, minValue: bounds?.min, maxValue: bounds?.max))
        // Reset for the next chunk.
        chunkPages.removeAll()
        dictionaryPage.removeAll()
        dictionaryPageEntries = 0
        chunkLevelCount = 0
        chunkUncompressedBytes = 0
        usedDictionary = false
        statistics.reset()
        if dictionary != nil {
            dictionary!.reset(keepAtMost: options.dictionaryPageSizeLimit * 2)
            // A column whose values were nearly all distinct starts the next row group PLAIN.
            dictionaryActive = options.dictionaryEnabled && !dictionaryHopeless
            probedValues = 0
        }
        return metadata
    }
}

/// A sink's error that is not `Sendable`, described.
public struct SinkFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
