import Foundation
import Logging
import ObjectStore
import TOMLKit

/// The checks that run on the raw text before toml++ sees it: mistakes it would abort the process on.
extension ConfigurationLoader {
    /// `text` with control characters written as escapes (toml++ quotes the offending input, which
    /// may hold a line break), so an error stays one line.
    static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The line of a table header whose name starts with a character no key can start with (`[=`,
    /// `[[[`, `[#`, `[\\`) or is missing (`[` and the line ends), or nil. toml++ (under TOMLKit)
    /// does not report these: it fails an assertion and aborts the process, release builds included
    /// (found by ConfigurationFuzzTests). Every line is looked at, also one inside a multi-line
    /// string or array (telling those apart is the parser's job, and a mistake there would let the
    /// crash through): such a line there is refused too, which no key of this file needs.
    static func headerWithoutName(_ text: String) -> Int? {
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" }
        for (index, line) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var scalars = line.drop { isSpace($0) || $0 == "\u{FEFF}" }  // a byte order mark may open the file
            guard scalars.first == "[" else { continue }
            scalars = scalars.dropFirst()
            let hadSpace = scalars.first.map(isSpace) ?? false
            scalars = scalars.drop(while: isSpace)
            if scalars.first == "[", !hadSpace { scalars = scalars.dropFirst().drop(while: isSpace) }
            guard let first = scalars.first, first != "\r" else { return index + 1 }  // "[" and the line ends
            let v = first.value
            let startsKey =
                (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
                || first == "_" || first == "-" || first == "\"" || first == "'" || first == "]"
            if !startsKey { return index + 1 }
        }
        return nil
    }

    /// Where toml++ would meet, in an array, a character that ends a value before the value (a `}`
    /// after `[` or `,`, or one of the line separators U+0085, U+2028, U+2029): its array parser
    /// then fails an assertion and aborts the process (found by ConfigurationFuzzTests) instead of
    /// reporting the mistake. The line and what is wrong, or nil. Strings and comments are skipped;
    /// the line separators are refused anywhere, since no value of this file needs them.
    static func valueTerminatorInArray(_ text: String) -> (Int, String)? {
        let scalars = Array(text.unicodeScalars)
        var line = 1
        var last: Unicode.Scalar = "\n"  // the last character outside strings, comments and blanks
        var k = 0
        func starts(_ s: String, at i: Int) -> Bool {
            let p = Array(s.unicodeScalars)
            return i + p.count <= scalars.count && Array(scalars[i..<i + p.count]) == p
        }
        while k < scalars.count {
            let c = scalars[k]
            if c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" {
                return (line, "the line separator U+\(String(c.value, radix: 16, uppercase: true)) is not allowed in this file")
            }
            switch c {
            case "\n":
                line += 1
            case " ", "\t", "\r":
                break
            case "#":
                while k + 1 < scalars.count && scalars[k + 1] != "\n" {
                    k += 1
                    if ["\u{85}", "\u{2028}", "\u{2029}"].contains(scalars[k]) {
                        return (line, "the line separator U+\(String(scalars[k].value, radix: 16, uppercase: true)) is not allowed in this file")
                    }
                }
            case "\"", "'":
                // A string: basic or literal, one line or multi-line (three quotes).
                let multi = starts(String(repeating: String(c), count: 3), at: k)
                k += multi ? 3 : 1
                while k < scalars.count {
                    let d = scalars[k]
                    if d == "\u{85}" || d == "\u{2028}" || d == "\u{2029}" {
                        return (line, "the line separator U+\(String(d.value, radix: 16, uppercase: true)) is not allowed in this file")
                    }
                    if d == "\n" {
                        line += 1
                        if !multi { break }  // the string ends unclosed: the parser reports it
                    }
                    if c == "\"" && d == "\\" { k += 2; continue }
                    if d == c && (!multi || starts(String(repeating: String(c), count: 3), at: k)) {
                        k += multi ? 2 : 0
                        break
                    }
                    k += 1
                }
                last = c
            case "}":
                if last == "[" || last == "," { return (line, "'}' where a value or ']' was expected (after '\(last)')") }
                last = c
            default:
                last = c
            }
            k += 1
        }
        return nil
    }
}
