import Foundation
import Testing
import TestSupport
@testable import Daemon

/// Bounded random-input tests of the configuration parser (issue 7's fuzz target, run in every
/// test run): whatever the file holds, parsing returns a configuration or throws a
/// ``ConfigurationError`` whose message is one line; it never crashes, hangs or echoes a secret.
@Suite struct ConfigurationFuzzTests {
    static let example = try! String(
        contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config/replicatord.toml"), encoding: .utf8)

    /// Pieces of TOML syntax spliced in at random, so mutations reach deep into the parser.
    static let tokens = [
        "[", "]", "[[", "]]", "=", "\"", "'", "\"\"\"", "'''", "\\", "\\u00", "\\U0010FFFF", "#", "\n", "\r\n",
        "{", "}", ",", ".", "0x", "0o", "0b", "1e400", "-0", "+inf", "nan", "1979-05-27T07:32:00Z",
        "true", "false", "[source]", "[target]", "[task]", "conninfo", "url", "password=s3cr3t",
        "\u{0}", "\u{7F}", "é", "\u{FEFF}", "\u{2028}", "\u{85}", "[}", ", }", String(repeating: "[", count: 200), String(repeating: "9", count: 40),
    ]

    /// Runs the parser on `text` and checks the outcome's shape.
    func check(_ text: String) {
        do {
            _ = try Configuration.parse(text, path: "fuzz.toml")
        } catch {
            let description = error.description
            #expect(!description.contains("\n"), "a multi-line error for input \(text.debugDescription): \(description.debugDescription)")
            #expect(description.hasPrefix("fuzz.toml"), "input \(text.debugDescription): \(description)")
            #expect(!description.contains("s3cr3t"), "the error quotes a secret: \(description)")
        }
    }

    /// Inputs that made toml++ fail an assertion (abort the process) when the random tests found
    /// them: each is now a one-line error naming the line.
    @Test(arguments: [
        ("[source]\nconninfo = [}", 2), ("a = [1, }", 1), ("a = [\n# c\n  }", 3), ("x = [\u{2028}1]", 1),
        ("# \u{85}\n", 1), ("s = \"\u{2029}\"", 1),
    ])
    func inputsThatAbortedTomlPlusPlusAreErrors(text: String, line: Int) throws {
        #expect(throws: ConfigurationError.self) { try Configuration.parse(text, path: "fuzz.toml") }
        do { _ = try Configuration.parse(text, path: "fuzz.toml") } catch {
            #expect(error.description.hasPrefix("fuzz.toml:\(line): not valid TOML"), "\(error.description)")
        }
        // Braces inside strings and comments, and valid arrays and inline tables, are not refused.
        let fine = "a = [\"[}\", ', }', \"\"\"\n,}\"\"\"] # [}\nb = {c = 1}\nd = [{e = 2}, {}]\n"
        #expect(ConfigurationLoader.valueTerminatorInArray(fine) == nil)
    }

    @Test func randomMutationsOfTheExampleFileNeverCrashTheParser() {
        var rng = FuzzSeed.generator(for: "randomMutationsOfTheExampleFileNeverCrashTheParser")
        let base = Array(Self.example.utf8)
        for _ in 0..<2_000 {
            var bytes = base
            for _ in 0..<(1 + Int(rng.next() % 6)) {
                let at = Int(rng.next() % UInt64(bytes.count + 1))
                switch rng.next() % 5 {
                case 0 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.insert(contentsOf: Array(Self.tokens[Int(rng.next() % UInt64(Self.tokens.count))].utf8), at: at)
                case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int(rng.next() % 40)))
                case 3: bytes = Array(bytes[..<at])
                default:
                    // Move a line elsewhere: keys out of their sections, sections doubled.
                    let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                    if lines.count > 1 {
                        let line = lines[Int(rng.next() % UInt64(lines.count))]
                        bytes.insert(contentsOf: Array(line) + [UInt8(ascii: "\n")], at: at)
                    }
                }
            }
            check(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test func randomTokenSoupNeverCrashesTheParser() {
        var rng = FuzzSeed.generator(for: "randomTokenSoupNeverCrashesTheParser")
        for _ in 0..<2_000 {
            var text = ""
            for _ in 0..<Int(rng.next() % 60) {
                if rng.next() % 3 == 0 {
                    text += String(UnicodeScalar(UInt8(truncatingIfNeeded: rng.next() % 128)))
                } else {
                    text += Self.tokens[Int(rng.next() % UInt64(Self.tokens.count))]
                }
            }
            check(text)
        }
    }

    @Test(arguments: [
        ("[source]\nconninfo = \"unterminated\n[target]\nurl = \"s3://b\"\n", 2),
        ("[source]\nconninfo = \"host=a\"\nconninfo = \"host=b\"\n[target]\nurl = \"s3://b\"\n", 3),
        ("[source]\nconninfo = \"host=a\"\n[target]\nurl = \"s3://b\"\n[source]\npublication = \"p\"\n", 5),
        ("[source\nconninfo = \"host=a\"\n", 1),
        ("[source]\nconninfo = \"host=a\" extra\n", 2),
    ])
    func malformedTOMLNamesTheFileAndLine(text: String, line: Int) {
        do {
            _ = try Configuration.parse(text, path: "bad.toml")
            Issue.record("parsed: \(text.debugDescription)")
        } catch {
            #expect(error.code == .invalidTOML)
            #expect(error.line == line, "\(error.description)")
            #expect(error.description.hasPrefix("bad.toml:\(line): "), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func emptyFileNamesTheFirstRequiredKey() {
        do {
            _ = try Configuration.parse("", path: "empty.toml")
            Issue.record("an empty file parsed")
        } catch {
            #expect(error.code == .missingKey)
            #expect(error.key == "source.conninfo")
        }
    }
}

/// Found by the fuzz tests above: toml++ aborted the whole process (an assertion, release builds
/// included) on a table header without a name; the loader now refuses such a line first.
@Suite struct TableHeaderWithoutNameTests {
    @Test(arguments: [
        ("[=", 1), ("[[[", 1), ("[#", 1), ("[\\", 1), ("[source]\nconninfo = \"a\"\n  [ =x]\n", 3),
        ("[source]\r\nconninfo = \"a\"\r\n[[ *]]\r\n", 3), ("[\u{00A0}source]", 1),
        ("[\n#x", 1), ("\u{FEFF}[=", 1), ("[[\n\n", 1), ("[source]\nconninfo = \"a\"\n[\r\n],[conninfo", 3),
    ])
    func isAnErrorOnItsLineNotACrash(text: String, line: Int) {
        do {
            _ = try Configuration.parse(text, path: "h.toml")
            Issue.record("parsed \(text.debugDescription)")
        } catch {
            #expect(error.code == .invalidTOML)
            #expect(error.line == line, "\(error.description)")
        }
    }

    @Test func validHeadersAreNotTouched() throws {
        let text = "[ source ]\nconninfo = \"a\"\n[\"target\"]\nurl = \"s3://b/p\"\n[[x]]\n[ 'y' ]\n[_z]\n[-w]\n[9]\n  [task]\n# [=\n"
        #expect(ConfigurationLoader.headerWithoutName(text) == nil)
    }

    @Test func aCommentHoldingTripleQuotesHidesNoLaterHeader() {
        #expect(ConfigurationLoader.headerWithoutName("#\\é\"\"\"0b:\r\n[[\u{1B}conninfo\n") == 2)
    }
}

@Suite struct ConfigurationErrorSecretTests {
    /// The mutation the fuzz test once made: a `password=` spliced into another key's value, which
    /// the error quotes.
    @Test func aQuotedValueHoldingAPasswordIsScrubbed() {
        let text = "[source]\nconninfo = \"host=x\"\n[target]\nurl = \"file:///tmp/x\"\n[task]\nmigration_type = \"full-load-and-cdcpassword=s3cr3t\"\n"
        do {
            _ = try Configuration.parse(text, path: "fuzz.toml")
            Issue.record("parsed")
        } catch {
            #expect(error.description.hasPrefix("fuzz.toml:6: task.migration_type: expected one of"), "\(error.description)")
            #expect(!error.description.contains("s3cr3t"), "\(error.description)")
        }
    }
}
