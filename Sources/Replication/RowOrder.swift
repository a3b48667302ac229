/// The order and time of the rows of a file, written as the `_seq` and `_commit_ts` columns (see the
/// README's "Order and time of every row") so that engines which cannot see a row's position in its
/// file (Athena, Spark, Trino, Redshift Spectrum) can still rebuild a table.
///
/// `_seq` is 24 uppercase hexadecimal digits: the commit LSN (16), then the row's position in its
/// transaction (8, from 1). Fixed width makes byte order numeric order, so sorting by `_seq` is
/// sorting by commit LSN, then by position: the apply order. A LOAD row carries the snapshot's LSN
/// and position 0, so it sorts before every change of its table that the snapshot does not hold
/// (those commit at or after that LSN). Two rows of one transaction never share a position, and two
/// transactions never share a commit LSN: a CDC row's `_seq` is unique within its table.
public enum RowOrder: Sendable {
    /// Every row of a LOAD file: the snapshot's LSN, and its time (microseconds since 1970, UTC).
    case snapshot(lsn: UInt64, unixMicros: Int64)
    /// One entry per row of a CDC file.
    case changes(ChangeOrder)

    /// Length of a `_seq` value.
    public static let seqLength = 24

    /// Writes `_seq` for `lsn` and `position` into `out` (24 bytes).
    static func seq(lsn: UInt64, position: UInt32, into out: UnsafeMutableRawBufferPointer) -> Int {
        let digits: StaticString = "0123456789ABCDEF"
        let hex = digits.utf8Start
        for i in 0..<16 { out[i] = hex[Int((lsn >> (60 - 4 * UInt64(i))) & 0xF)] }
        for i in 0..<8 { out[16 + i] = hex[Int((position >> (28 - 4 * UInt32(i))) & 0xF)] }
        return seqLength
    }

    /// `_seq` as a string (tests, docs).
    public static func seqText(lsn: UInt64, position: UInt32) -> String {
        withUnsafeTemporaryAllocation(byteCount: seqLength, alignment: 1) { buffer in
            String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<seq(lsn: lsn, position: position, into: buffer)]), as: UTF8.self)
        }
    }
}

/// The commit LSN, position in the transaction and commit time of each row of a change segment.
public struct ChangeOrder: Sendable, Equatable {
    public var lsns: [UInt64] = []
    public var positions: [UInt32] = []
    /// Commit time, microseconds since 1970 (UTC).
    public var commitTimes: [Int64] = []

    public init() {}

    public var count: Int { lsns.count }

    mutating func append(lsn: UInt64, position: UInt32, commitTime: Int64) {
        lsns.append(lsn); positions.append(position); commitTimes.append(commitTime)
    }

    mutating func removeAll() {
        lsns.removeAll(keepingCapacity: true); positions.removeAll(keepingCapacity: true); commitTimes.removeAll(keepingCapacity: true)
    }
}
