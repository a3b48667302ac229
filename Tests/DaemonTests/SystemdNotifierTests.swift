import Foundation
import Testing
@testable import Daemon
#if canImport(Glibc)
    import Glibc
#endif

@Suite struct SystemdNotifierTests {
    /// A bound datagram socket standing in for systemd.
    func listener(_ path: String, abstract: Bool = false) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path)! + bytes.count)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    func receive(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    @Test func sendsDatagramsToAPathSocket() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        let fd = listener(path)
        defer { close(fd); unlink(path) }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        notifier.ready(status: "up")
        #expect(receive(fd) == "READY=1\nSTATUS=up")
        notifier.watchdog()
        #expect(receive(fd) == "WATCHDOG=1")
    }

    @Test func sendsDatagramsToAnAbstractSocket() {
        let name = "@replicatord-test-\(UUID().uuidString.prefix(8))"
        let fd = listener(name, abstract: true)
        defer { close(fd) }
        SystemdNotifier(environment: ["NOTIFY_SOCKET": name]).stopping()
        #expect(receive(fd) == "STOPPING=1")
    }

    @Test func withoutTheVariableItDoesNothing() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.send("READY=1"))
        #expect(notifier.watchdogInterval == nil)
    }

    @Test func theWatchdogIsPingedAtHalfItsTimeoutAndOnlyForThisProcess() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000"]).watchdogInterval == .seconds(5))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "\(getpid())"]).watchdogInterval == .seconds(5))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"]).watchdogInterval == nil)
    }
}
