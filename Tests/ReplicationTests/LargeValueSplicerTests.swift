import PGOutput
import Testing
@testable import Replication

/// A message's bytes handed out in order, as the socket does.
private final class MemorySource: LargeValueSplicer.Source {
    let bytes: [UInt8]
    var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var remaining: Int { bytes.count - at }
    func read(into destination: UnsafeMutableRawBufferPointer) throws {
        precondition(destination.count <= remaining)
        bytes.withUnsafeBytes { destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[at..<at + destination.count])) }
        at += destination.count
    }
}

@Suite struct LargeValueSplicerTests {
    static func be(_ v: Int, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: v >> (8 * (width - 1 - $0))) } }
    static func xlog(_ body: [UInt8]) -> [UInt8] { [UInt8(ascii: "w")] + [UInt8](repeating: 0, count: 24) + body }
    static func tuple(_ values: [(UInt8, [UInt8])]) -> [UInt8] {
        be(values.count, 2)
            + values.flatMap { kind, bytes in kind == UInt8(ascii: "n") || kind == UInt8(ascii: "u") ? [kind] : [kind] + be(bytes.count, 4) + bytes }
    }

    /// An Update with an old and a new tuple: the long values leave the message (their length set
    /// to 0), short ones, NULLs and unchanged TOAST stay; the result decodes with the same shape.
    @Test func longValuesOfAnUpdateAreLiftedAndTheRestDecodes() throws {
        let long = [UInt8](repeating: 7, count: 300), other = [UInt8](repeating: 9, count: 200)
        let t = UInt8(ascii: "t"), b = UInt8(ascii: "b")
        let old = Self.tuple([(t, Array("1".utf8)), (b, long), (UInt8(ascii: "n"), [])])
        let new = Self.tuple([(t, Array("1".utf8)), (UInt8(ascii: "u"), []), (t, other)])
        let message = Self.xlog([UInt8(ascii: "U")] + Self.be(16384, 4) + [UInt8(ascii: "O")] + old + [UInt8(ascii: "N")] + new)
        let (spliced, large) = try LargeValueSplicer.read(from: MemorySource(message), threshold: 100)
        #expect(large.map { [$0.tuple, $0.column, $0.bytes.count] } == [[0, 1, 300], [1, 2, 200]])
        #expect(large[0].bytes == long && large[1].bytes == other)
        #expect(spliced.count == message.count - 500)
        guard case .xLogData(let data) = try ReplicationMessage.decode(spliced),
            case .update(let update) = try data.decodeMessage()
        else { Issue.record("not an update"); return }
        #expect(update.oldTuple?.tuple[1] == .binary(update.oldTuple!.tuple[1].range!) && update.oldTuple?.tuple[1].range?.isEmpty == true)
        #expect(update.newTuple[1] == .unchangedToast && update.newTuple[2].range?.isEmpty == true)
    }

    /// Other messages, short values and every truncation come back as they were read: no lift,
    /// no crash, and the decoder reports what is wrong.
    @Test func otherMessagesAndTruncationsPassThrough() throws {
        let insert = Self.xlog([UInt8(ascii: "I")] + Self.be(1, 4) + [UInt8(ascii: "N")] + Self.tuple([(UInt8(ascii: "t"), [UInt8](repeating: 1, count: 50))]))
        let begin = Self.xlog([UInt8(ascii: "B")] + [UInt8](repeating: 0, count: 20))
        let keepalive = [UInt8(ascii: "k")] + [UInt8](repeating: 0, count: 17)
        for message in [insert, begin, keepalive] {
            let (spliced, large) = try LargeValueSplicer.read(from: MemorySource(message), threshold: 100)
            #expect(spliced == message && large.isEmpty)
        }
        for cut in 0..<insert.count {
            let (spliced, large) = try LargeValueSplicer.read(from: MemorySource(Array(insert[..<cut])), threshold: 10)
            #expect(spliced == Array(insert[..<cut]) || !large.isEmpty)
            #expect(throws: (any Error).self) {
                guard case .xLogData(let data) = try ReplicationMessage.decode(spliced) else { return }
                _ = try data.decodeMessage()
            }
        }
    }
}
