/// Parses a one-dimensional array in PostgreSQL's text output (`array_out`): `{1,NULL,"a b","q\"x"}`,
/// possibly led by explicit bounds (`[0:1]={...}`, the bounds are not kept), each element parsed by
/// ``TextValueParser`` as the list's element kind. https://www.postgresql.org/docs/15/arrays.html#ARRAYS-IO
enum ArrayText {
    static func append(_ text: UnsafeRawBufferPointer, to vector: inout ColumnVector) throws {
        let kind = vector.kind
        var i = 0
        let n = text.count
        if n > 0, text[0] == UInt8(ascii: "[") {
            // Explicit bounds: skip to "=".
            while i < n, text[i] != UInt8(ascii: "=") { i += 1 }
            guard i < n else { throw ValueDecodingError(kind: kind, reason: "array bounds without '='") }
            i += 1
        }
        guard i < n, text[i] == UInt8(ascii: "{"), text[n - 1] == UInt8(ascii: "}") else {
            throw ValueDecodingError(kind: kind, reason: "array text is not enclosed in braces")
        }
        i += 1
        let end = n - 1
        var decoded = ColumnVector(kind: vector.elements[0].kind)
        var element: [UInt8] = []
        if i == end { vector.appendList(decoded); return }
        while true {
            element.removeAll(keepingCapacity: true)
            var quoted = false
            if i < end, text[i] == UInt8(ascii: "{") {
                throw ValueDecodingError(kind: kind, reason: "a multi-dimensional value in a column declared one-dimensional (declare it [][] to have it as text)")
            }
            if i < end, text[i] == UInt8(ascii: "\"") {
                quoted = true
                i += 1
                while true {
                    guard i < end else { throw ValueDecodingError(kind: kind, reason: "unterminated quoted array element") }
                    let c = text[i]
                    if c == UInt8(ascii: "\\") {
                        guard i + 1 < end else { throw ValueDecodingError(kind: kind, reason: "dangling backslash in array element") }
                        element.append(text[i + 1]); i += 2
                    } else if c == UInt8(ascii: "\"") {
                        i += 1; break
                    } else {
                        element.append(c); i += 1
                    }
                }
            } else {
                while i < end, text[i] != UInt8(ascii: ",") {
                    if text[i] == UInt8(ascii: "\\"), i + 1 < end { element.append(text[i + 1]); i += 2; continue }
                    element.append(text[i]); i += 1
                }
            }
            if !quoted, element.count == 4, String(decoding: element, as: UTF8.self).uppercased() == "NULL" {
                decoded.appendNull()
            } else {
                try element.withUnsafeBytes { try TextValueParser.append($0, to: &decoded) }
            }
            if i == end { break }
            guard text[i] == UInt8(ascii: ",") else { throw ValueDecodingError(kind: kind, reason: "expected ',' between array elements") }
            i += 1
        }
        vector.appendList(decoded)
    }
}
