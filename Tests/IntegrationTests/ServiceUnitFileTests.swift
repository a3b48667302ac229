import Replication
import Foundation
import PGClient
import Testing

/// The unit files of `systemd/` pass `systemd-analyze verify` and rate "OK" or better in
/// `systemd-analyze security --offline=true` (where systemd-analyze is installed).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")))
struct ServiceUnitFileTests {
    static let analyze = "/usr/bin/systemd-analyze"

    /// Copies of the units whose ExecStart names the binary just built (verify wants it to exist).
    func units() throws -> (dir: String, names: [String]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("units-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let root = TestEnvironment.repositoryRoot.appendingPathComponent("systemd")
        for (file, name) in [("replicatord.service", "replicatord.service"), ("replicatord@.service", "replicatord@sales.service")] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/replicatord", with: CrashRecoveryIntegrationTests.binary)
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        return (dir, ["replicatord.service", "replicatord@sales.service"])
    }

    @Test func theUnitsVerifyWithoutComplaint() async throws {
        let (dir, names) = try units()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = names.map { dir + "/" + $0 }
        // On a thread of its own: waiting for a process must not hold one of the pool's two threads.
        let (status, output) = try await DedicatedThread.run(name: "test-verify") { () throws -> (Int32, String) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.analyze)
            process.arguments = ["verify"] + paths
            let err = Pipe()
            process.standardError = err
            process.standardOutput = err
            try process.run()
            let output = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }
        #expect(status == 0, "\(output)")
        // Complaints about our own lines (not about the machine, e.g. a missing dbus) fail the test.
        let ours = output.split(separator: "\n").filter { $0.contains(dir) }
        #expect(ours.isEmpty, "\(ours)")
    }

    @Test func theSandboxRatesOKOrBetter() async throws {
        let (dir, names) = try units()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in names {
            let path = dir + "/" + name
            let out = try await DedicatedThread.run(name: "test-security") { try TestEnvironment.run(Self.analyze, ["security", "--offline=true", path]) }
            let line = out.split(separator: "\n").last { $0.contains("Overall exposure level") }.map(String.init) ?? ""
            let level = line.split(separator: " ").compactMap { Double($0) }.first ?? 10
            #expect(level < 2.0, "\(name): \(line)")
        }
    }
}
