import Foundation
import Testing

/// Where the live servers and tools of the test bed are, from the variables `scripts/test` exports.
///
/// When `REPLICATORD_TEST_REQUIRE_SERVERS=1` (set by `scripts/test` and so by CI) a missing server is a
/// failure, never a skip, so a green run always means the integration tests talked to the real things.
enum TestEnvironment {
    /// libpq conninfo of the throwaway PostgreSQL 15 cluster (superuser, `wal_level=logical`).
    static var postgres: String? { value("REPLICATORD_TEST_PG") }
    /// `http://127.0.0.1:PORT` of moto_server with SigV4 checking on.
    static var s3Endpoint: String? { value("REPLICATORD_TEST_S3_ENDPOINT") }
    /// The venv's python, which has pyarrow, duckdb, polars, boto3.
    static var python: String? { value("REPLICATORD_TEST_PYTHON") }
    /// The repository's root folder (for scripts/).
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// True when a missing server must fail the run instead of skipping the test.
    static var serversRequired: Bool { value("REPLICATORD_TEST_REQUIRE_SERVERS") == "1" }

    /// Whether the variables a test needs are all set; use as `.enabled(if:)` trait together with
    /// `requireOrSkip` so CI fails loudly instead of skipping.
    static func available(_ names: String...) -> Bool {
        serversRequired || names.allSatisfy { value($0) != nil }
    }

    /// Returns the variable's value or records a failure naming it.
    static func require(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        guard let v = value(name) else {
            Issue.record("\(name) is not set: run the tests through scripts/test", sourceLocation: sourceLocation)
            throw MissingVariable(name: name)
        }
        return v
    }

    struct MissingVariable: Error { var name: String }

    private static func value(_ name: String) -> String? {
        guard let v = ProcessInfo.processInfo.environment[name], !v.isEmpty else { return nil }
        return v
    }

    /// Writes a daemon configuration to `path`, the one way every integration test makes one:
    /// `target` holds the `[target]` table's lines; the publication, spool directory, schedule,
    /// health and log keys are written only when given.
    static func writeConfig(
        to path: String, conninfo: String, slot: String, publication: String? = nil, target: String,
        spoolDir: String? = nil, interval: Int? = nil, listen: String? = nil, logLevel: String? = nil
    ) throws {
        var text = """
            [source]
            conninfo = "\(conninfo)"
            slot = "\(slot)"

            """
        if let publication { text += "publication = \"\(publication)\"\n" }
        text += "[target]\n\(target)\n"
        if let spoolDir { text += "[task]\nspool_dir = \"\(spoolDir)\"\n" }
        if let interval { text += "[schedule]\ninterval_seconds = \(interval)\n" }
        if let listen { text += "[health]\nlisten = \"\(listen)\"\n" }
        if let logLevel { text += "[log]\nlevel = \"\(logLevel)\"\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `scripts/test_helpers.py COMMAND ARGS...` (the tests' Python steps live there, as a file:
    /// bucket, keys, ports, DuckDB queries...); its output, or `ProcessFailed`.
    @discardableResult
    static func helper(_ command: String, _ arguments: [String]) throws -> String {
        let python = try require("REPLICATORD_TEST_PYTHON")
        return try run(python, [repositoryRoot.appendingPathComponent("scripts/test_helpers.py").path, command] + arguments)
    }

    /// What a finished program printed and its exit status.
    struct Finished: Sendable { var status: Int32; var stdout: String; var stderr: String }

    /// Runs a program to completion, whatever its exit status.
    static func capture(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read stderr on another thread so a child that fills one pipe never blocks on it.
        let errBox = ErrBox()
        let reader = Thread {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile(); errBox.done.signal()
        }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errBox.done.wait()
        process.waitUntilExit()
        return Finished(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errBox.data, as: UTF8.self))
    }

    /// Runs a program to completion and returns its standard output; throws with its stderr on failure.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let finished = try capture(executable, arguments, environment: environment)
        guard finished.status == 0 else {
            throw ProcessFailed(
                command: ([executable] + arguments).joined(separator: " "),
                status: finished.status, stderr: finished.stderr + finished.stdout)
        }
        return finished.stdout
    }

    private final class ErrBox: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }

    struct ProcessFailed: Error, CustomStringConvertible {
        var command: String, status: Int32, stderr: String
        var description: String { "\(command) exited \(status): \(stderr)" }
    }
}
