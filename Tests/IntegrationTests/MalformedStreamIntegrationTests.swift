import Foundation
import PGClient
import PGOutput
import Replication
import Testing

/// A malformed frame from the server (scripts/fake_walsender.py plays the walsender) ends the drain
/// with an error naming what was wrong: no crash, nothing accumulated.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PYTHON")))
struct MalformedStreamIntegrationTests {
    /// The fake server for `frames`, its port read from its first line.
    final class FakeWalsender {
        let process = Process()
        let port: Int

        init(frames: String) throws {
            let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [TestEnvironment.repositoryRoot.appendingPathComponent("scripts/fake_walsender.py").path, frames]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            var line = [UInt8]()
            while let byte = out.fileHandleForReading.readData(ofLength: 1).first, byte != UInt8(ascii: "\n") { line.append(byte) }
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
                throw TestEnvironment.MissingVariable(name: "fake walsender said \(text)")
            }
            self.port = port
        }

        deinit { process.terminate() }
    }

    @Test(arguments: [
        ("truncated-insert", "truncated"),
        ("unknown-message", "unknown"),
        ("truncated-xlogdata", "truncated"),
    ])
    func aMalformedFrameIsAnErrorNotACrash(frames: String, expected: String) async throws {
        let server = try FakeWalsender(frames: frames)
        let conninfo = "host=127.0.0.1 port=\(server.port) dbname=fake user=fake connect_timeout=5"
        let message = try await DedicatedThread.run(name: "test-fake-stream") { () throws -> String in
            let stream = try ChangeStream(conninfo: conninfo, confirmed: LSN(0x1000000))
            try stream.start(slot: "s", publication: "p", from: LSN(0x1000000), binary: true)
            var accumulator = ChangeAccumulator(globalStart: LSN(0x1000000)) { _, _ in }
            let resolver = TypeResolver(connection: try PGConnection(conninfo: conninfo))
            do {
                try stream.drain(
                    until: LSN(0x2000000), into: &accumulator, resolver: resolver,
                    deadline: ContinuousClock.now + .seconds(20))
                return "the drain ended without an error"
            } catch {
                #expect(accumulator.segments.isEmpty)
                return "\(error)"
            }
        }
        print("malformed frame \(frames): \(message)")
        #expect(message.localizedCaseInsensitiveContains(expected), "\(frames): \(message)")
        #expect(!message.contains("deadline"), "\(frames): the frame was not noticed: \(message)")
    }
}
