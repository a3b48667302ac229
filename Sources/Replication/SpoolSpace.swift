import Foundation

/// Whether the spool's file system is running out of room, so that the change feed stops reading
/// at the next transaction boundary and the cycle stores what it has (a cut that ends before its
/// target) instead of failing with ENOSPC again and again: a backlog larger than the spool disk
/// then drains in several cycles.
///
/// "Low" is free space, less the bytes the cut's files will take (their writers buffer row groups
/// in memory, so the disk shows little of them until the files are finished; counted whole, so
/// what is already written counts twice: the guard errs early), under half the file system, at most 1 GiB: 24 MiB of a 48 MiB tmpfs, 1 GiB
/// of a large disk. The reserve takes what the last transaction read adds past the line, since a
/// transaction is never cut; one larger than the free space still fails (and is retried).
public struct SpoolSpace: Sendable {
    /// Free bytes below which the spool is low.
    public let reserveBytes: Int64
    let directory: String

    /// The guard of the file system holding `directory`; nil when its size cannot be read (no guard).
    public init?(directory: String) {
        guard let (total, _) = Self.sizes(directory), total > 0 else { return nil }
        self.directory = directory
        reserveBytes = min(total / 2, 1 << 30)
    }

    /// Whether free space, less `pending` bytes still to be written (rows held in memory), is
    /// below the reserve now (false when it cannot be read).
    public func isLow(pending: Int64 = 0) -> Bool {
        guard let (_, free) = Self.sizes(directory) else { return false }
        return free - pending < reserveBytes
    }

    /// The file system's size and the bytes free to an unprivileged writer.
    static func sizes(_ directory: String) -> (total: Int64, free: Int64)? {
        var s = statvfs()
        guard statvfs(directory, &s) == 0 else { return nil }
        let unit = Int64(s.f_frsize == 0 ? s.f_bsize : s.f_frsize)
        return (Int64(s.f_blocks) * unit, Int64(s.f_bavail) * unit)
    }
}
