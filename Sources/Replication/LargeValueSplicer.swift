import PGClient

/// A large column value taken out of a replication message as it was read: the `column`-th value
/// of the message's `tuple`-th TupleData (an Update's old tuple is 0 and its new one 1 when the old
/// one is there; an Insert's new tuple and a Delete's old tuple are 0). In the message the value is
/// left with its kind byte and a length of 0.
public struct ExternalValue: Sendable {
    public var tuple: Int
    public var column: Int
    public var bytes: [UInt8]
}

/// Reads one CopyData message from a source of its bytes, lifting each text or binary column value
/// of at least `threshold` bytes of an Insert, Update or Delete (pgoutput protocol 1) into an
/// array of its own, read straight into it: the rest of the message is small, and the value is
/// held once, in the array the change segment then takes over (``ColumnVector/adoptBytes(_:)``).
/// Any other message, or one that does not parse, is read as it is (the decoder reports what is
/// wrong with it).
public enum LargeValueSplicer {
    /// The bytes of one message, in order: `read(into:)` fills the buffer, `remaining` is what is left.
    public protocol Source: AnyObject {
        var remaining: Int { get }
        func read(into destination: UnsafeMutableRawBufferPointer) throws
    }

    public static func read(from source: some Source, threshold: Int) throws -> (message: [UInt8], externals: [ExternalValue]) {
        var out: [UInt8] = []
        out.reserveCapacity(min(source.remaining, 1 << 16))
        var externals: [ExternalValue] = []
        func take(_ n: Int) throws {
            let count = min(n, source.remaining)
            guard count > 0 else { return }
            let at = out.count
            out.append(contentsOf: repeatElement(0, count: count))
            try out.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[at..<at + count])) }
        }
        func takeRest() throws { try take(source.remaining) }
        func bigEndian(_ at: Int, _ width: Int) -> Int {
            var v = 0
            for k in 0..<width { v = v << 8 | Int(out[at + k]) }
            return v
        }

        try take(1)
        guard out.first == UInt8(ascii: "w"), source.remaining >= 25 else { try takeRest(); return (out, []) }
        try take(25)   // XLogData header (24 bytes) and the pgoutput message type
        let type = out[25]
        guard type == UInt8(ascii: "I") || type == UInt8(ascii: "U") || type == UInt8(ascii: "D") else {
            try takeRest()
            return (out, [])
        }
        try take(4)   // relation OID
        var tuple = 0
        while source.remaining > 0 {
            try take(1)
            let marker = out[out.count - 1]
            guard marker == UInt8(ascii: "N") || marker == UInt8(ascii: "K") || marker == UInt8(ascii: "O"),
                  source.remaining >= 2 else { break }
            try take(2)
            let columns = bigEndian(out.count - 2, 2)
            for column in 0..<columns {
                guard source.remaining >= 1 else { break }
                try take(1)
                let kind = out[out.count - 1]
                guard kind == UInt8(ascii: "t") || kind == UInt8(ascii: "b") else { continue }
                guard source.remaining >= 4 else { break }
                try take(4)
                let length = Int(Int32(truncatingIfNeeded: bigEndian(out.count - 4, 4)))
                if length >= threshold && length <= source.remaining {
                    for k in 1...4 { out[out.count - k] = 0 }
                    let bytes = try [UInt8](unsafeUninitializedCapacity: length) { storage, initialized in
                        try source.read(into: UnsafeMutableRawBufferPointer(storage))
                        initialized = length
                    }
                    externals.append(ExternalValue(tuple: tuple, column: column, bytes: bytes))
                } else if length > 0 {
                    try take(length)
                }
            }
            tuple += 1
        }
        try takeRest()
        return (out, externals)
    }
}

extension ReplicationSocket: LargeValueSplicer.Source {}
