import Testing
@testable import Replication

private func parse(_ text: String, _ element: ColumnKind) throws -> ColumnVector {
    var vector = ColumnVector(kind: .list(element: element))
    var copy = text
    try copy.withUTF8 { try TextValueParser.append(UnsafeRawBufferPointer($0), to: &vector) }
    return vector
}

private func texts(_ v: ColumnVector) -> [String?] {
    let e = v.elements[0]
    var k = 0
    return e.nulls.map { isNull in
        if isNull { return nil }
        defer { k += 1 }
        return String(decoding: e.byteValue(k), as: UTF8.self)
    }
}

@Suite struct ArrayTextTests {
    @Test func parsesQuotedEscapedAndNullElements() throws {
        let v = try parse(#"{a,NULL,"with space","quote\"d","","NULL","back\\slash"}"#, .text)
        #expect(texts(v) == ["a", nil, "with space", "quote\"d", "", "NULL", "back\\slash"])
        #expect(v.listOffsets == [0, 7] && v.nulls == [false])
    }

    @Test func parsesTypedElementsEmptyListsAndBounds() throws {
        let ints = try parse("{1,-2,NULL}", .int32)
        #expect(ints.elements[0].int64s == [1, -2] && ints.elements[0].nulls == [false, false, true])
        #expect(try parse("{}", .int64).listOffsets == [0, 0])
        let bounded = try parse("[0:1]={7,8}", .int16)
        #expect(bounded.elements[0].int64s == [7, 8] && bounded.arrayShapes == [ArrayShape(row: 0, dimensions: "[0:1]")])
        #expect(try parse("{7,8}", .int16).arrayShapes.isEmpty)
    }

    /// PostgreSQL accepts `{{1,2},{3,4}}` in a column declared `int[]`: the elements in row-major
    /// order, the dimensions beside them.
    @Test func parsesSeveralDimensionsIntoElementsAndShape() throws {
        let v = try parse(#"{{1,NULL,3},{4,5,6}}"#, .int32)
        #expect(v.elements[0].int64s == [1, 3, 4, 5, 6] && v.elements[0].nulls == [false, true, false, false, false, false])
        #expect(v.listOffsets == [0, 6] && v.arrayShapes == [ArrayShape(row: 0, dimensions: "[1:2][1:3]")])
        let cube = try parse(#"[0:0][2:3][1:1]={{{"a"},{"b,}"}}}"#, .text)
        #expect(texts(cube) == ["a", "b,}"] && cube.arrayShapes == [ArrayShape(row: 0, dimensions: "[0:0][2:3][1:1]")])
    }

    @Test func parseFailsOnRaggedOrMixedDimensionsAndMalformedText() {
        #expect(throws: ValueDecodingError.self) { _ = try parse("{{1,2},{3}}", .int32) }
        #expect(throws: ValueDecodingError.self) { _ = try parse("{{1,2},3}", .int32) }
        #expect(throws: ValueDecodingError.self) { _ = try parse("{1,{2}}", .int32) }
        #expect(throws: ValueDecodingError.self) { _ = try parse("[1:3]={1,2}", .int32) }
        #expect(throws: ValueDecodingError.self) { _ = try parse("{1,2}}", .int32) }
        #expect(throws: ValueDecodingError.self) { _ = try parse("{1,2", .int32) }
        #expect(throws: ValueDecodingError.self) { _ = try parse(#"{"open}"#, .text) }
        #expect(throws: ValueDecodingError.self) { _ = try parse("{1,x}", .int32) }
        #expect(throws: ValueDecodingError.self) { _ = try parse("1,2", .int32) }
    }
}

/// array_send's wire form for int4 elements.
private func int4Array(_ values: [Int32?], dims: Int32 = 1, shape: [(length: Int32, lower: Int32)]? = nil) -> [UInt8] {
    var out: [UInt8] = []
    func be32(_ v: Int32) { let u = UInt32(bitPattern: v); out += [UInt8(u >> 24), UInt8((u >> 16) & 0xFF), UInt8((u >> 8) & 0xFF), UInt8(u & 0xFF)] }
    let shape: [(length: Int32, lower: Int32)] = shape ?? (dims > 0 ? [(Int32(values.count), Int32(1))] : [])
    be32(Int32(shape.count)); be32(values.contains(nil) ? 1 : 0); be32(23)
    for d in shape { be32(d.length); be32(d.lower) }
    for v in values { if let v { be32(4); be32(v) } else { be32(-1) } }
    return out
}

@Suite struct BinaryArrayTests {
    func decode(_ bytes: [UInt8]) throws -> ColumnVector {
        var v = ColumnVector(kind: .list(element: .int32))
        try bytes.withUnsafeBytes { try BinaryValueDecoder.append($0, to: &v) }
        return v
    }

    @Test func decodesElementsWithNullsAndEmptyArrays() throws {
        let v = try decode(int4Array([5, nil, -1]))
        #expect(v.elements[0].int64s == [5, -1] && v.elements[0].nulls == [false, true, false] && v.listOffsets == [0, 3])
        #expect(try decode(int4Array([], dims: 0)).listOffsets == [0, 0])
    }

    @Test func decodesSeveralDimensionsIntoElementsAndShape() throws {
        let v = try decode(int4Array([1, 2, nil, 4], shape: [(2, 1), (2, 0)]))
        #expect(v.elements[0].int64s == [1, 2, 4] && v.listOffsets == [0, 4])
        #expect(v.arrayShapes == [ArrayShape(row: 0, dimensions: "[1:2][0:1]")])
    }

    @Test func decodeFailsOnSizesThatDoNotMatchTheElementsAndOnTruncation() throws {
        #expect(throws: ValueDecodingError.self) { _ = try decode(int4Array([1, 2], shape: [(2, 1), (2, 1)])) }
        #expect(throws: ValueDecodingError.self) { _ = try decode(int4Array([1, 2], shape: [(Int32.max, 1), (Int32.max, 1)])) }
        var full = int4Array([1, 2, 3])
        full.removeLast()
        var v = ColumnVector(kind: .list(element: .int32))
        #expect(throws: ValueDecodingError.self) { try full.withUnsafeBytes { try BinaryValueDecoder.append($0, to: &v) } }
        #expect(v.count == 0 && v.elements[0].count == 0)
    }
}
