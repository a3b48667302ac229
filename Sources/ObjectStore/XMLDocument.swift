/// A small, strict XML reader for S3's response bodies (elements, text, the five entities, character
/// references, CDATA); attributes and namespaces are skipped. Malformed input throws, never traps.
package struct XMLElement: Sendable, Equatable {
    /// Local element name (any `prefix:` removed).
    package var name: String
    /// Child elements in document order.
    package var children: [XMLElement]
    /// Concatenated character data directly inside this element.
    package var text: String

    /// The first child named `name`.
    package func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    /// All children named `name`.
    package func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
    /// Text of the first child named `name`.
    package func value(_ name: String) -> String? { child(name)?.text }

    /// Error thrown for bytes that are not well-formed XML.
    package struct ParseError: Error, Sendable, CustomStringConvertible {
        /// What is wrong.
        package var message: String
        /// Byte offset where it was noticed.
        package var offset: Int
        package var description: String { "malformed XML at byte \(offset): \(message)" }
    }

    /// Parses a whole document and returns its root element.
    package static func parse(_ bytes: [UInt8]) throws(ParseError) -> XMLElement {
        var reader = Reader(bytes: bytes)
        return try reader.document()
    }

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        mutating func document() throws(ParseError) -> XMLElement {
            try skipMisc()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "<") else { throw fail("expected a root element") }
            let root = try element()
            try skipMisc()
            guard i == bytes.count else { throw fail("content after the root element") }
            return root
        }

        func fail(_ message: String) -> ParseError { ParseError(message: message, offset: i) }

        func starts(_ s: String) -> Bool {
            let u = Array(s.utf8)
            return i + u.count <= bytes.count && Array(bytes[i..<i + u.count]) == u
        }

        mutating func skip(past s: String) throws(ParseError) {
            let u = Array(s.utf8)
            while i + u.count <= bytes.count {
                if bytes[i] == u[0] && Array(bytes[i..<i + u.count]) == u { i += u.count; return }
                i += 1
            }
            throw fail("unterminated construct, expected \(s)")
        }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[i]) { i += 1 }
        }

        /// Whitespace, the XML declaration, processing instructions, comments, a DOCTYPE.
        mutating func skipMisc() throws(ParseError) {
            while true {
                skipSpace()
                if starts("<?") {
                    try skip(past: "?>")
                } else if starts("<!--") {
                    try skip(past: "-->")
                } else if starts("<!DOCTYPE") {
                    try skip(past: ">")
                } else {
                    return
                }
            }
        }

        mutating func name() throws(ParseError) -> String {
            let start = i
            while i < bytes.count, ![0x20, 0x09, 0x0a, 0x0d, UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "=")].contains(bytes[i]) {
                i += 1
            }
            guard i > start else { throw fail("expected a name") }
            let full = String(decoding: bytes[start..<i], as: UTF8.self)
            if let colon = full.lastIndex(of: ":") { return String(full[full.index(after: colon)...]) }
            return full
        }

        mutating func element() throws(ParseError) -> XMLElement {
            i += 1  // <
            let tag = try name()
            // Attributes: skipped, but quotes are honoured so a `>` inside a value does not end the tag.
            while true {
                skipSpace()
                guard i < bytes.count else { throw fail("unterminated start tag <\(tag)") }
                if bytes[i] == UInt8(ascii: "/") {
                    guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ">") else { throw fail("expected /> in <\(tag)") }
                    i += 2
                    return XMLElement(name: tag, children: [], text: "")
                }
                if bytes[i] == UInt8(ascii: ">") { i += 1; break }
                _ = try name()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { throw fail("expected = in an attribute of <\(tag)") }
                i += 1
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else {
                    throw fail("expected a quoted attribute value in <\(tag)")
                }
                let quote = bytes[i]
                i += 1
                while i < bytes.count, bytes[i] != quote { i += 1 }
                guard i < bytes.count else { throw fail("unterminated attribute value in <\(tag)") }
                i += 1
            }
            var children: [XMLElement] = []
            var text: [UInt8] = []
            while true {
                guard i < bytes.count else { throw fail("unterminated element <\(tag)>") }
                let b = bytes[i]
                if b == UInt8(ascii: "<") {
                    if starts("</") {
                        i += 2
                        let end = try name()
                        guard end == tag else { throw fail("</\(end)> closes <\(tag)>") }
                        skipSpace()
                        guard i < bytes.count, bytes[i] == UInt8(ascii: ">") else { throw fail("expected > after </\(end)") }
                        i += 1
                        return XMLElement(name: tag, children: children, text: String(decoding: text, as: UTF8.self))
                    } else if starts("<!--") {
                        try skip(past: "-->")
                    } else if starts("<![CDATA[") {
                        i += 9
                        let start = i
                        try skip(past: "]]>")
                        text += bytes[start..<(i - 3)]
                    } else if starts("<?") {
                        try skip(past: "?>")
                    } else {
                        children.append(try element())
                    }
                } else if b == UInt8(ascii: "&") {
                    text += try entity()
                } else {
                    text.append(b)
                    i += 1
                }
            }
        }

        mutating func entity() throws(ParseError) -> [UInt8] {
            let start = i
            while i < bytes.count, bytes[i] != UInt8(ascii: ";"), i - start < 12 { i += 1 }
            guard i < bytes.count, bytes[i] == UInt8(ascii: ";") else { throw fail("unterminated entity") }
            let body = String(decoding: bytes[(start + 1)..<i], as: UTF8.self)
            i += 1
            switch body {
            case "lt": return [UInt8(ascii: "<")]
            case "gt": return [UInt8(ascii: ">")]
            case "amp": return [UInt8(ascii: "&")]
            case "quot": return [UInt8(ascii: "\"")]
            case "apos": return [UInt8(ascii: "'")]
            default:
                var code: UInt32?
                if body.hasPrefix("#x") || body.hasPrefix("#X") {
                    code = UInt32(body.dropFirst(2), radix: 16)
                } else if body.hasPrefix("#") {
                    code = UInt32(body.dropFirst(1))
                }
                guard let c = code, let scalar = Unicode.Scalar(c) else { throw fail("unknown entity &\(body);") }
                return Array(String(Character(scalar)).utf8)
            }
        }
    }
}
