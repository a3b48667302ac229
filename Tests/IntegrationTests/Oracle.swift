import Foundation
import PGClient
import Testing

/// The oracle of the integration tests, and their only way to run it: `scripts/oracle.py` rebuilds
/// each named table from the files (its LOAD set, then its CDC files in order) and compares it with
/// the source, printing one JSON verdict per table (`ok`, `source_rows`, `rebuilt_rows`, `lost`,
/// `extra`, `differ`, `load_rows`, `cdc_rows`, `problems`).
enum Oracle {
    /// Where the files are.
    enum Files {
        /// A `file://` target's directory.
        case directory(String)
        /// An S3 target: the endpoint, the bucket and the prefix (without a trailing slash).
        case s3(endpoint: String, bucket: String, prefix: String)

        var arguments: [String] {
            switch self {
            case .directory(let dir): ["--dir", dir]
            case .s3(let endpoint, let bucket, let prefix): ["--s3", endpoint, bucket, prefix]
            }
        }
    }

    /// The verdicts of one run, by table.
    struct Report: Sendable, CustomStringConvertible {
        /// The verdicts' JSON lines, in the order the tables were named.
        var lines: [String]
        /// What the oracle printed (its verdicts, then its error output), for failure messages.
        var output: String

        /// The verdicts, parsed.
        var verdicts: [[String: Any]] {
            lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        /// The verdict of `table` (`schema.name`), nil when the oracle printed none.
        subscript(table: String) -> [String: Any]? { verdicts.first { $0["table"] as? String == table } }
        /// Every named table rebuilt equal to the source.
        var allOK: Bool { !verdicts.isEmpty && verdicts.allSatisfy { $0["ok"] as? Bool == true } }
        /// The verdicts of the tables that differ.
        var failures: [[String: Any]] { verdicts.filter { $0["ok"] as? Bool != true } }
        var description: String { output }
    }

    /// A run that printed no verdict for a named table (the oracle itself failed).
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the oracle over `tables`, blocking (it takes a second or more). Differences are in the
    /// report, not thrown; a run without a verdict for every table throws `Failed`.
    static func check(conninfo: String, files: Files, tables: [String]) throws -> Report {
        let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/oracle.py").path
        let run = try TestEnvironment.capture(python, [script, "--conninfo", conninfo] + files.arguments + tables)
        let lines = run.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("{") }
        let report = Report(lines: lines, output: run.stdout + (run.stderr.isEmpty ? "" : "\n" + String(run.stderr.suffix(3000))))
        let missing = tables.filter { report[$0] == nil }
        guard missing.isEmpty else {
            throw Failed(description: "the oracle printed no verdict for \(missing) (exit \(run.status)): \(report.output)")
        }
        return report
    }

    /// The same, on a thread of its own (off the test pool, which has as many threads as cores).
    static func check(conninfo: String, files: Files, tables: [String]) async throws -> Report {
        try await DedicatedThread.run(name: "test-oracle") { try check(conninfo: conninfo, files: files, tables: tables) }
    }
}
