/// Parses an array in PostgreSQL's text output (`array_out`): `{1,NULL,"a b","q\"x"}`, nested
/// braces for several dimensions (`{{1,2},{3,4}}`), possibly led by explicit bounds
/// (`[0:1][1:2]={...}`). Each element is parsed by ``TextValueParser`` as the list's element kind;
/// the elements go to the list in row-major order and dimensions other than a plain `[1:n]` to
/// ``ColumnVector/arrayShapes``, as ``BinaryValueDecoder`` does for the binary form.
/// https://www.postgresql.org/docs/15/arrays.html#ARRAYS-IO
enum ArrayText {
    static func append(_ text: UnsafeRawBufferPointer, to vector: inout ColumnVector) throws {
        var parser = Parser(text: text, kind: vector.kind)
        let bounds = try parser.explicitBounds()
        var decoded = ColumnVector(kind: vector.elements[0].kind)
        guard parser.peek == UInt8(ascii: "{"), text.last == UInt8(ascii: "}") else {
            throw ValueDecodingError(kind: vector.kind, reason: "array text is not enclosed in braces")
        }
        try parser.level(depth: 0, into: &decoded)
        guard parser.i == text.count else { throw ValueDecodingError(kind: vector.kind, reason: "characters after the array's closing brace") }
        // `{}` is the empty array: no dimensions at all.
        let lengths = parser.lengths == [0] ? [] : parser.lengths
        if let bounds, bounds.count != lengths.count || zip(bounds, lengths).contains(where: { $0.length != $1 }) {
            throw ValueDecodingError(kind: vector.kind, reason: "array bounds do not match its elements")
        }
        let shape = bounds ?? lengths.map { ArrayDimension(length: $0) }
        vector.appendList(decoded, shape: shape)
    }

    private struct Parser {
        let text: UnsafeRawBufferPointer
        let kind: ColumnKind
        var i = 0
        /// The length seen at each depth (every sub-array of a depth has the same length).
        var lengths: [Int] = []
        /// The depth of the elements (all at one depth), once one was seen.
        var leafDepth: Int?
        var element: [UInt8] = []

        init(text: UnsafeRawBufferPointer, kind: ColumnKind) { self.text = text; self.kind = kind }

        var peek: UInt8? { i < text.count ? text[i] : nil }

        func failure(_ reason: String) -> ValueDecodingError { ValueDecodingError(kind: kind, reason: reason) }

        /// `[lo:hi][lo:hi]=` before the braces, when present.
        mutating func explicitBounds() throws -> [ArrayDimension]? {
            guard peek == UInt8(ascii: "[") else { return nil }
            var bounds: [ArrayDimension] = []
            while peek == UInt8(ascii: "[") {
                i += 1
                let lower = try integer()
                guard peek == UInt8(ascii: ":") else { throw failure("array bounds without ':'") }
                i += 1
                let upper = try integer()
                guard peek == UInt8(ascii: "]"), upper >= lower - 1 else { throw failure("malformed array bounds") }
                i += 1
                bounds.append(ArrayDimension(length: upper - lower + 1, lowerBound: lower))
            }
            guard peek == UInt8(ascii: "=") else { throw failure("array bounds without '='") }
            i += 1
            return bounds
        }

        mutating func integer() throws -> Int {
            let negative = peek == UInt8(ascii: "-")
            if negative { i += 1 }
            var value = 0, digits = 0
            while let c = peek, TextValueParser.isDigit(c) {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int(c &- UInt8(ascii: "0")))
                guard !o1, !o2 else { throw failure("array bound out of range") }
                value = s; digits += 1; i += 1
            }
            guard digits > 0 else { throw failure("array bound has no digits") }
            return negative ? -value : value
        }

        /// One `{...}` at `depth`: its elements, or its sub-arrays, separated by commas.
        mutating func level(depth: Int, into decoded: inout ColumnVector) throws {
            i += 1  // "{"
            if lengths.count <= depth { lengths.append(-1) }  // depths are entered in order
            var count = 0
            if peek == UInt8(ascii: "}") {
                i += 1
                guard depth == 0 else { throw failure("an empty sub-array") }
                lengths = [0]
                return
            }
            while true {
                guard let c = peek else { throw failure("array text ends inside braces") }
                if c == UInt8(ascii: "{") {
                    if let leafDepth, depth >= leafDepth { throw failure("array elements at different depths") }
                    try level(depth: depth + 1, into: &decoded)
                } else {
                    if leafDepth == nil { leafDepth = depth }
                    guard leafDepth == depth else { throw failure("array elements at different depths") }
                    try scalar(into: &decoded)
                }
                count += 1
                guard let next = peek else { throw failure("array text ends inside braces") }
                i += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw failure("expected ',' between array elements") }
            }
            if lengths[depth] == -1 { lengths[depth] = count }
            guard lengths[depth] == count else { throw failure("sub-arrays of different lengths") }
        }

        /// One element, quoted or not, up to the ',' or '}' after it.
        mutating func scalar(into decoded: inout ColumnVector) throws {
            element.removeAll(keepingCapacity: true)
            var quoted = false
            if peek == UInt8(ascii: "\"") {
                quoted = true
                i += 1
                while true {
                    guard let c = peek else { throw failure("unterminated quoted array element") }
                    if c == UInt8(ascii: "\\") {
                        guard i + 1 < text.count else { throw failure("dangling backslash in array element") }
                        element.append(text[i + 1]); i += 2
                    } else if c == UInt8(ascii: "\"") {
                        i += 1; break
                    } else {
                        element.append(c); i += 1
                    }
                }
            } else {
                while let c = peek, c != UInt8(ascii: ","), c != UInt8(ascii: "}") {
                    if c == UInt8(ascii: "\\"), i + 1 < text.count { element.append(text[i + 1]); i += 2; continue }
                    element.append(c); i += 1
                }
            }
            if !quoted, element.count == 4, String(decoding: element, as: UTF8.self).uppercased() == "NULL" {
                decoded.appendNull()
            } else {
                try element.withUnsafeBytes { try TextValueParser.append($0, to: &decoded) }
            }
        }
    }
}
