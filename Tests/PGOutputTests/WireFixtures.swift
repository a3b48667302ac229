// Test-only encoders: build the wire bytes of each message so decoders are tested from byte fixtures.
import Testing
@testable import PGOutput

/// Appends big-endian PostgreSQL wire fields to a byte array.
struct WireWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }
    mutating func ascii(_ character: Character) { bytes.append(character.asciiValue!) }
    mutating func int16(_ value: Int16) { integer(value) }
    mutating func int32(_ value: Int32) { integer(value) }
    mutating func uint32(_ value: UInt32) { integer(value) }
    mutating func int64(_ value: Int64) { integer(value) }
    mutating func lsn(_ value: LSN) { integer(value.value) }
    mutating func timestamp(_ value: PostgresTimestamp) { integer(value.microsecondsSince2000) }
    mutating func cString(_ text: String) { bytes.append(contentsOf: Array(text.utf8)); bytes.append(0) }
    mutating func raw(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

/// A column value as a test writes it.
enum FixtureValue: Equatable {
    case null
    case unchangedToast
    case text(String)
    case binary([UInt8])
}

/// Wire encoders for every message the module decodes.
enum Fixture {
    static func tuple(_ values: [FixtureValue], into writer: inout WireWriter) {
        writer.int16(Int16(values.count))
        for value in values {
            switch value {
            case .null: writer.ascii("n")
            case .unchangedToast: writer.ascii("u")
            case .text(let text):
                writer.ascii("t"); writer.int32(Int32(text.utf8.count)); writer.raw(Array(text.utf8))
            case .binary(let data):
                writer.ascii("b"); writer.int32(Int32(data.count)); writer.raw(data)
            }
        }
    }

    static func tuple(_ values: [FixtureValue]) -> [UInt8] {
        var writer = WireWriter()
        tuple(values, into: &writer)
        return writer.bytes
    }

    static func begin(finalLSN: LSN, commitTimestamp: PostgresTimestamp, xid: UInt32) -> [UInt8] {
        var w = WireWriter()
        w.ascii("B"); w.lsn(finalLSN); w.timestamp(commitTimestamp); w.uint32(xid)
        return w.bytes
    }

    static func commit(flags: UInt8 = 0, commitLSN: LSN, endLSN: LSN, commitTimestamp: PostgresTimestamp) -> [UInt8] {
        var w = WireWriter()
        w.ascii("C"); w.byte(flags); w.lsn(commitLSN); w.lsn(endLSN); w.timestamp(commitTimestamp)
        return w.bytes
    }

    static func origin(commitLSN: LSN, name: String) -> [UInt8] {
        var w = WireWriter()
        w.ascii("O"); w.lsn(commitLSN); w.cString(name)
        return w.bytes
    }

    struct Column {
        var flags: UInt8
        var name: String
        var typeOID: UInt32
        var typeModifier: Int32
    }

    static func relation(
        oid: UInt32, namespace: String, name: String, replicaIdentity: Character,
        columns: [Column]
    ) -> [UInt8] {
        var w = WireWriter()
        w.ascii("R"); w.uint32(oid); w.cString(namespace); w.cString(name); w.ascii(replicaIdentity)
        w.int16(Int16(columns.count))
        for column in columns {
            w.byte(column.flags); w.cString(column.name); w.uint32(column.typeOID); w.int32(column.typeModifier)
        }
        return w.bytes
    }

    static func type(oid: UInt32, namespace: String, name: String) -> [UInt8] {
        var w = WireWriter()
        w.ascii("Y"); w.uint32(oid); w.cString(namespace); w.cString(name)
        return w.bytes
    }

    static func insert(relationOID: UInt32, new: [FixtureValue]) -> [UInt8] {
        var w = WireWriter()
        w.ascii("I"); w.uint32(relationOID); w.ascii("N"); tuple(new, into: &w)
        return w.bytes
    }

    /// `oldKind` is "K", "O" or nil.
    static func update(
        relationOID: UInt32, oldKind: Character? = nil, old: [FixtureValue] = [],
        new: [FixtureValue]
    ) -> [UInt8] {
        var w = WireWriter()
        w.ascii("U"); w.uint32(relationOID)
        if let oldKind { w.ascii(oldKind); tuple(old, into: &w) }
        w.ascii("N"); tuple(new, into: &w)
        return w.bytes
    }

    static func delete(relationOID: UInt32, oldKind: Character, old: [FixtureValue]) -> [UInt8] {
        var w = WireWriter()
        w.ascii("D"); w.uint32(relationOID); w.ascii(oldKind); tuple(old, into: &w)
        return w.bytes
    }

    static func truncate(options: UInt8, relationOIDs: [UInt32]) -> [UInt8] {
        var w = WireWriter()
        w.ascii("T"); w.int32(Int32(relationOIDs.count)); w.byte(options)
        for oid in relationOIDs { w.uint32(oid) }
        return w.bytes
    }

    static func message(flags: UInt8, lsn: LSN, prefix: String, content: [UInt8]) -> [UInt8] {
        var w = WireWriter()
        w.ascii("M"); w.byte(flags); w.lsn(lsn); w.cString(prefix); w.int32(Int32(content.count)); w.raw(content)
        return w.bytes
    }

    static func xLogData(walStart: LSN, walEnd: LSN, serverTime: PostgresTimestamp, payload: [UInt8]) -> [UInt8] {
        var w = WireWriter()
        w.ascii("w"); w.lsn(walStart); w.lsn(walEnd); w.timestamp(serverTime); w.raw(payload)
        return w.bytes
    }

    static func keepalive(walEnd: LSN, serverTime: PostgresTimestamp, replyRequested: UInt8) -> [UInt8] {
        var w = WireWriter()
        w.ascii("k"); w.lsn(walEnd); w.timestamp(serverTime); w.byte(replyRequested)
        return w.bytes
    }

    static func streamStart(xid: UInt32, firstSegment: UInt8) -> [UInt8] {
        var w = WireWriter()
        w.ascii("S"); w.uint32(xid); w.byte(firstSegment)
        return w.bytes
    }

    static func streamStop() -> [UInt8] { [UInt8(ascii: "E")] }

    static func streamCommit(xid: UInt32, flags: UInt8 = 0, commitLSN: LSN, endLSN: LSN, commitTimestamp: PostgresTimestamp) -> [UInt8] {
        var w = WireWriter()
        w.ascii("c"); w.uint32(xid); w.byte(flags); w.lsn(commitLSN); w.lsn(endLSN); w.timestamp(commitTimestamp)
        return w.bytes
    }

    static func streamAbort(xid: UInt32, subtransactionXid: UInt32, abort: (LSN, PostgresTimestamp)? = nil) -> [UInt8] {
        var w = WireWriter()
        w.ascii("A"); w.uint32(xid); w.uint32(subtransactionXid)
        if let (lsn, time) = abort { w.lsn(lsn); w.timestamp(time) }
        return w.bytes
    }

    static func beginPrepare(prepareLSN: LSN, endLSN: LSN, prepareTimestamp: PostgresTimestamp, xid: UInt32, gid: String) -> [UInt8] {
        var w = WireWriter()
        w.ascii("b"); w.lsn(prepareLSN); w.lsn(endLSN); w.timestamp(prepareTimestamp); w.uint32(xid); w.cString(gid)
        return w.bytes
    }

    /// Prepare (`P`) or, with `kind` "p", Stream Prepare.
    static func prepare(
        kind: Character = "P", flags: UInt8 = 0, prepareLSN: LSN, endLSN: LSN,
        prepareTimestamp: PostgresTimestamp, xid: UInt32, gid: String
    ) -> [UInt8] {
        var w = WireWriter()
        w.ascii(kind); w.byte(flags); w.lsn(prepareLSN); w.lsn(endLSN); w.timestamp(prepareTimestamp); w.uint32(xid)
        w.cString(gid)
        return w.bytes
    }

    static func commitPrepared(
        flags: UInt8 = 0, commitLSN: LSN, endLSN: LSN, commitTimestamp: PostgresTimestamp,
        xid: UInt32, gid: String
    ) -> [UInt8] {
        var w = WireWriter()
        w.ascii("K"); w.byte(flags); w.lsn(commitLSN); w.lsn(endLSN); w.timestamp(commitTimestamp); w.uint32(xid)
        w.cString(gid)
        return w.bytes
    }

    static func rollbackPrepared(
        flags: UInt8 = 0, prepareEndLSN: LSN, rollbackEndLSN: LSN, prepareTimestamp: PostgresTimestamp,
        rollbackTimestamp: PostgresTimestamp, xid: UInt32, gid: String
    ) -> [UInt8] {
        var w = WireWriter()
        w.ascii("r"); w.byte(flags); w.lsn(prepareEndLSN); w.lsn(rollbackEndLSN); w.timestamp(prepareTimestamp)
        w.timestamp(rollbackTimestamp); w.uint32(xid); w.cString(gid)
        return w.bytes
    }

    /// `message` with the streamed transaction's xid inserted after its type byte, as inside a streamed chunk.
    static func streamed(_ message: [UInt8], xid: UInt32) -> [UInt8] {
        var w = WireWriter()
        w.byte(message[0]); w.uint32(xid); w.raw(Array(message[1...]))
        return w.bytes
    }

    /// A sample of every pgoutput message outside streamed chunks, for loops over all of them.
    static var everyPGOutputMessage: [(name: String, bytes: [UInt8])] {
        [
            ("Begin", begin(finalLSN: LSN(0x16_B374_D848), commitTimestamp: .init(microsecondsSince2000: 1), xid: 7)),
            ("Commit", commit(commitLSN: LSN(10), endLSN: LSN(20), commitTimestamp: .init(microsecondsSince2000: 5))),
            ("Origin", origin(commitLSN: LSN(3), name: "node_a")),
            (
                "Relation",
                relation(
                    oid: 16384, namespace: "public", name: "orders", replicaIdentity: "d",
                    columns: [
                        Column(flags: 1, name: "id", typeOID: 20, typeModifier: -1),
                        Column(flags: 0, name: "note", typeOID: 25, typeModifier: -1),
                    ])
            ),
            ("Type", type(oid: 70000, namespace: "public", name: "mood")),
            ("Insert", insert(relationOID: 16384, new: [.text("1"), .null, .binary([0, 1]), .unchangedToast])),
            ("Update", update(relationOID: 16384, oldKind: "K", old: [.text("1"), .null], new: [.text("2"), .text("x")])),
            ("Update", update(relationOID: 16384, oldKind: "O", old: [.text("1"), .text("a")], new: [.text("1"), .text("b")])),
            ("Update", update(relationOID: 16384, new: [.text("1"), .unchangedToast])),
            ("Delete", delete(relationOID: 16384, oldKind: "K", old: [.text("1"), .null])),
            ("Delete", delete(relationOID: 16384, oldKind: "O", old: [.text("1"), .text("a")])),
            ("Truncate", truncate(options: 3, relationOIDs: [16384, 16390])),
            ("Message", message(flags: 1, lsn: LSN(99), prefix: "replicatord", content: [1, 2, 3])),
            ("Stream Start", streamStart(xid: 900, firstSegment: 1)),
            ("Stream Commit", streamCommit(xid: 900, commitLSN: LSN(30), endLSN: LSN(40), commitTimestamp: .postgresEpoch)),
            ("Stream Abort", streamAbort(xid: 900, subtransactionXid: 901)),
            ("Begin Prepare", beginPrepare(prepareLSN: LSN(1), endLSN: LSN(2), prepareTimestamp: .postgresEpoch, xid: 5, gid: "g1")),
            ("Prepare", prepare(prepareLSN: LSN(1), endLSN: LSN(2), prepareTimestamp: .postgresEpoch, xid: 5, gid: "g1")),
            ("Commit Prepared", commitPrepared(commitLSN: LSN(3), endLSN: LSN(4), commitTimestamp: .postgresEpoch, xid: 5, gid: "g1")),
            (
                "Rollback Prepared",
                rollbackPrepared(
                    prepareEndLSN: LSN(2), rollbackEndLSN: LSN(6), prepareTimestamp: .postgresEpoch,
                    rollbackTimestamp: .postgresEpoch, xid: 5, gid: "g1")
            ),
            ("Stream Prepare", prepare(kind: "p", prepareLSN: LSN(1), endLSN: LSN(2), prepareTimestamp: .postgresEpoch, xid: 5, gid: "g1")),
        ]
    }
}

/// Runs `body` and returns the error it threw, or nil when it returned.
func decodeError<T>(_ body: () throws(PGOutputError) -> T) -> PGOutputError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// Asserts that decoding every proper prefix of `bytes` (lengths 0 through count-1) fails with `.truncated`.
func expectEveryPrefixTruncated<T>(
    _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation,
    _ decode: ([UInt8]) throws(PGOutputError) -> T
) {
    for length in 0..<bytes.count {
        let error = decodeError { () throws(PGOutputError) in try decode(Array(bytes[..<length])) }
        #expect(
            error?.code == .truncated, "prefix of \(length) of \(bytes.count) bytes: \(String(describing: error))",
            sourceLocation: sourceLocation)
        if let error {
            #expect(
                error.offset <= length, "offset \(error.offset) beyond the \(length) bytes given",
                sourceLocation: sourceLocation)
        }
    }
}

/// Decodes a pgoutput message, failing the test on error.
func decodePGOutput(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> PGOutputMessage {
    try PGOutputMessage.decode(bytes)
}

extension TupleData {
    /// The tuple as fixture values, for comparing with what a test encoded.
    var fixtureValues: [FixtureValue] {
        indices.map { column in
            switch self[column] {
            case .null: .null
            case .unchangedToast: .unchangedToast
            case .text: .text(String(decoding: slice(column)!, as: UTF8.self))
            case .binary: .binary(Array(slice(column)!))
            }
        }
    }
}

extension PGOutputMessage {
    /// The streamed transaction id of a data message, nil for control messages or outside streamed chunks.
    var streamedXid: UInt32? {
        switch self {
        case .relation(let m): m.xid
        case .type(let m): m.xid
        case .insert(let m): m.xid
        case .update(let m): m.xid
        case .delete(let m): m.xid
        case .truncate(let m): m.xid
        case .message(let m): m.xid
        default: nil
        }
    }
}
