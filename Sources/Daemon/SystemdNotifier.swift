#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// systemd's readiness protocol (`sd_notify(3)`) without libsystemd: one `SOCK_DGRAM` datagram to
/// the `AF_UNIX` socket named by `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
/// Without `NOTIFY_SOCKET` every call does nothing, so the daemon runs the same outside systemd.
public struct SystemdNotifier: Sendable {
    /// The socket address from `NOTIFY_SOCKET`; nil when not run by systemd with `Type=notify`.
    public let socketPath: String?
    /// Half of `WATCHDOG_USEC` (systemd's advice), when the watchdog is on for this process.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        var interval: Duration?
        if let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            // WATCHDOG_PID, when set, names the process meant; another process's watchdog is not ours.
            if let pid = environment["WATCHDOG_PID"], let value = Int32(pid), value != getpid() {
                interval = nil
            } else {
                interval = .microseconds(Int64(usec / 2))
            }
        }
        watchdogInterval = interval
    }

    /// Whether there is a socket to notify.
    public var isEnabled: Bool { socketPath != nil }

    /// `READY=1`: start-up is done.
    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    /// `STATUS=...`: a line `systemctl status` shows.
    public func status(_ text: String) { send("STATUS=\(text)") }
    /// `WATCHDOG=1`: the service is alive.
    public func watchdog() { send("WATCHDOG=1") }
    /// `STOPPING=1`: shutdown has begun.
    public func stopping() { send("STOPPING=1") }

    /// Sends one notification; failures are ignored, as `sd_notify` callers do. Never blocks: when the
    /// receiver's queue is full the datagram is dropped rather than stall a thread of the pool.
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let socketPath, socketPath.utf8.count < 108 else { return false }
        #if canImport(Glibc)
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }  // abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in pathBytes.enumerated() { raw[i] = byte }
        }
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path)! + pathBytes.count)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), sockaddrPointer, length) }
            }
        }
        return sent == bytes.count
    }
}
