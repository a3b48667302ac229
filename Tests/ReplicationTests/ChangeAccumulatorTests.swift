import PGOutput
import Testing
@testable import Replication

/// A tuple of int4 binary values (nil = NULL, "u" marker = unchanged TOAST via `toast`).
private func tuple(_ values: [Int32?], toast: Set<Int> = []) -> TupleData {
    var bytes: [UInt8] = []
    var slots: [TupleValue] = []
    for (i, v) in values.enumerated() {
        if toast.contains(i) { slots.append(.unchangedToast); continue }
        guard let v else { slots.append(.null); continue }
        let start = bytes.count
        let u = UInt32(bitPattern: v)
        bytes += [UInt8(u >> 24), UInt8((u >> 16) & 0xFF), UInt8((u >> 8) & 0xFF), UInt8(u & 0xFF)]
        slots.append(.binary(start..<bytes.count))
    }
    return TupleData(bytes: bytes, values: slots)
}

private let t0 = PostgresTimestamp(microsecondsSince2000: 0)

private func relation(_ oid: UInt32 = 1, columns: [String] = ["id", "v"]) -> PGOutputMessage {
    .relation(
        .init(
            oid: oid, namespace: "public", name: "t\(oid)", replicaIdentity: .default,
            columns: columns.enumerated().map { .init(flags: $0.offset == 0 ? 1 : 0, name: $0.element, typeOID: 23, typeModifier: -1) }))
}

private func resolve(_ r: PGOutputMessage.Relation) -> StreamRelation {
    StreamRelation(
        oid: r.oid, schema: r.namespace, name: r.name, columnNames: r.columns.map(\.name),
        kinds: r.columns.map { _ in .int32 }, keyColumns: [0], replicaIdentity: "d", primaryKeyColumns: [0])
}

private func run(
    _ messages: [PGOutputMessage], start: LSN = .zero, tableStart: [UInt32: LSN] = [:], spillRows: Int = 1000,
    spill: (inout ChangeSegment) throws -> Void = { _ in }
) throws -> ChangeAccumulator {
    var acc = ChangeAccumulator(globalStart: start) { _, _ in Issue.record("text value") }
    acc.tableStart = tableStart
    acc.spillRows = spillRows
    for m in messages { try acc.handle(m, resolve: resolve, spill: spill) }
    return acc
}

private func txn(_ lsn: UInt64, _ body: [PGOutputMessage]) -> [PGOutputMessage] {
    [.begin(.init(finalLSN: LSN(lsn), commitTimestamp: t0, xid: 1))] + body + [.commit(.init(commitLSN: LSN(lsn), endLSN: LSN(lsn + 8), commitTimestamp: t0))]
}

@Suite struct ChangeAccumulatorTests {
    /// DMS's `CdcInsertsOnly` and `CdcInsertsAndUpdates`: the other changes never enter a segment.
    @Test(arguments: [(WrittenChanges.all, "IUDDIT"), (.insertsOnly, "I"), (.insertsAndUpdates, "IUU")])
    func writtenChangesKeepOnlyTheirOps(_ written: WrittenChanges, _ expected: String) throws {
        var acc = ChangeAccumulator(globalStart: .zero) { _, _ in Issue.record("text value") }
        acc.writtenChanges = written
        for m in [relation()]
            + txn(
                100,
                [
                    .insert(.init(relationOID: 1, newTuple: tuple([1, 10]))),
                    .update(.init(relationOID: 1, oldTuple: nil, newTuple: tuple([1, 11]))),
                    .delete(.init(relationOID: 1, oldTuple: .key(tuple([1, nil])))),
                    // A key change: D + I, or one U of the new row under CdcInsertsAndUpdates.
                    .update(.init(relationOID: 1, oldTuple: .key(tuple([2, nil])), newTuple: tuple([3, 30]))),
                    .truncate(.init(options: [], relationOIDs: [1])),
                ])
        { try acc.handle(m, resolve: resolve) }
        let segments = acc.takeSegments()
        #expect(String(decoding: segments.first?.ops ?? [], as: UTF8.self) == expected)
        let inserts = expected.filter { $0 == "I" }.count, updates = expected.filter { $0 == "U" }.count
        #expect(segments.first?.inserts == inserts && segments.first?.updates == updates)
        #expect(segments.first?.deletes == expected.filter { $0 == "D" }.count)
    }

    @Test func insertsUpdatesDeletesAndTruncateBecomeOpsInCommitOrder() throws {
        var acc = try run(
            [relation()]
                + txn(
                    100,
                    [
                        .insert(.init(relationOID: 1, newTuple: tuple([1, 10]))),
                        .update(.init(relationOID: 1, oldTuple: nil, newTuple: tuple([1, 11]))),
                        .delete(.init(relationOID: 1, oldTuple: .key(tuple([1, nil])))),
                        .truncate(.init(options: [], relationOIDs: [1])),
                    ]))
        let segments = acc.takeSegments()
        #expect(segments.count == 1)
        #expect(String(decoding: segments[0].ops, as: UTF8.self) == "IUDT")
        #expect(segments[0].values.columns[1].nulls == [false, false, true, true])
        #expect(segments[0].lastCommitEnd == LSN(108) && acc.lastCommitEnd == LSN(108) && acc.transactions == 1)
    }

    @Test func updateWithAnOldKeyIsADeleteThenAnInsert() throws {
        var acc = try run(
            [relation()]
                + txn(
                    100,
                    [
                        .update(.init(relationOID: 1, oldTuple: .key(tuple([1, nil])), newTuple: tuple([2, 10])))
                    ]))
        let s = try #require(acc.takeSegments().first)
        #expect(String(decoding: s.ops, as: UTF8.self) == "DI")
        #expect(s.values.columns[0].int64s == [1, 2])
        #expect(s.deletes == 1 && s.inserts == 1 && s.updates == 0)
    }

    @Test func unchangedToastIsFilledFromTheOldRowOrNamed() throws {
        var acc = try run(
            [relation()]
                + txn(
                    100,
                    [
                        .update(.init(relationOID: 1, oldTuple: nil, newTuple: tuple([1, nil], toast: [1]))),
                        .update(.init(relationOID: 1, oldTuple: .full(tuple([2, 7])), newTuple: tuple([2, nil], toast: [1]))),
                    ]))
        let s = try #require(acc.takeSegments().first)
        #expect(s.unchangedToast.nulls == [false, true])
        #expect(Array(s.unchangedToast.byteValue(0)) == Array("v".utf8))
        #expect(s.values.columns[1].nulls == [true, false] && s.values.columns[1].int64s == [7])
    }

    @Test func transactionsBeforeTheStartAreSkippedGloballyAndPerTable() throws {
        var acc = try run(
            [relation(1), relation(2)]
                + txn(50, [.insert(.init(relationOID: 1, newTuple: tuple([1, 1])))])
                + txn(150, [.insert(.init(relationOID: 1, newTuple: tuple([2, 2]))), .insert(.init(relationOID: 2, newTuple: tuple([3, 3])))])
                + txn(250, [.insert(.init(relationOID: 2, newTuple: tuple([4, 4])))]),
            start: LSN(100), tableStart: [2: LSN(200)])
        let segments = acc.takeSegments()
        #expect(segments.map(\.relation.oid) == [1, 2])
        #expect(segments[0].values.columns[0].int64s == [2])
        #expect(segments[1].values.columns[0].int64s == [4])
        #expect(acc.transactions == 2)
    }

    @Test func aNewRelationLayoutStartsANewSegment() throws {
        var acc = try run(
            [relation()] + txn(100, [.insert(.init(relationOID: 1, newTuple: tuple([1, 1])))])
                + [relation(columns: ["id", "v", "extra"])]
                + txn(200, [.insert(.init(relationOID: 1, newTuple: tuple([2, 2, 2])))]))
        let segments = acc.takeSegments()
        #expect(segments.map { $0.relation.columnNames.count } == [2, 3])
        #expect(segments.map(\.lastCommitEnd) == [LSN(108), LSN(208)])
    }

    @Test func aLargeSegmentIsSpilledAtTheThreshold() throws {
        var spilled = 0
        var acc = try run(
            [relation()] + txn(100, (1...10).map { .insert(.init(relationOID: 1, newTuple: tuple([Int32($0), 0]))) }),
            spillRows: 4
        ) { segment in
            spilled += segment.rowCount
            segment.removeRowsInMemory()
        }
        #expect(spilled == 8)
        #expect(acc.takeSegments().first?.rowCount == 2)
    }

    @Test func outOfOrderMessagesAreTypedErrors() {
        #expect(throws: ChangeStreamError.self) { _ = try run([.commit(.init(commitLSN: LSN(1), endLSN: LSN(2), commitTimestamp: t0))]) }
        #expect(throws: ChangeStreamError.self) { _ = try run(txn(1, [.insert(.init(relationOID: 9, newTuple: tuple([1])))])) }
        #expect(throws: ChangeStreamError.self) { _ = try run([relation()] + txn(1, [.insert(.init(relationOID: 1, newTuple: tuple([1])))])) }
        #expect(throws: ChangeStreamError.self) {
            _ = try run([.begin(.init(finalLSN: LSN(1), commitTimestamp: t0, xid: 1)), .begin(.init(finalLSN: LSN(2), commitTimestamp: t0, xid: 2))])
        }
    }
}

@Suite struct ChangeAccumulatorTableNameTests {
    @Test func changesLandUnderTheCycleNamesAndUnknownTablesAreSkipped() throws {
        var acc = ChangeAccumulator(globalStart: .zero) { _, _ in Issue.record("text value") }
        acc.tableNames = [1: (schema: "public", name: "before_rename")]
        acc.skipUnknownTables = true
        for m in [relation(1), relation(2)]
            + txn(
                100,
                [
                    .insert(.init(relationOID: 1, newTuple: tuple([1, 10]))),
                    .insert(.init(relationOID: 2, newTuple: tuple([1, 10]))),
                ])
        { try acc.handle(m, resolve: resolve) }
        let segments = acc.takeSegments()
        #expect(segments.count == 1)
        #expect(segments.first?.relation.name == "before_rename" && segments.first?.relation.oid == 1)
    }

    @Test func tableNamesKeepTablesThatLeftThePublicationUnderTheirStoredName() {
        let names = ChangeAccumulator.tableNames(
            current: [TableDescription(oid: 1, schema: "public", name: "now", columns: [], replicaIdentity: "d", estimatedRows: 0)],
            stored: [("public.then", 1), ("app.gone", 2)])
        #expect(names[1]?.name == "now" && names[2]?.schema == "app" && names[2]?.name == "gone")
    }

    @Test func aBinaryValueOfAColumnReadAsTextFailsTheCycle() throws {
        var acc = ChangeAccumulator(globalStart: .zero) { _, _ in Issue.record("text value") }
        let textCast: (PGOutputMessage.Relation) -> StreamRelation = { r in
            StreamRelation(
                oid: r.oid, schema: r.namespace, name: r.name, columnNames: r.columns.map(\.name),
                kinds: [.int32, .textCast], keyColumns: [0], replicaIdentity: "d", primaryKeyColumns: [0])
        }
        #expect(throws: ChangeStreamError.binaryValueOfTextType(table: "public.t1", column: "v")) {
            for m in [relation(1)] + txn(100, [.insert(.init(relationOID: 1, newTuple: tuple([1, 10])))]) {
                try acc.handle(m, resolve: textCast)
            }
        }
    }

    /// Under REPLICA IDENTITY FULL the Relation flags every column as key: the primary key alone
    /// tells whether an update changed it.
    @Test func aFullIdentityUpdateThatKeepsThePrimaryKeyIsAU() throws {
        let full: (PGOutputMessage.Relation) -> StreamRelation = { r in
            StreamRelation(
                oid: r.oid, schema: r.namespace, name: r.name, columnNames: r.columns.map(\.name),
                kinds: [.int32, .int32], keyColumns: [0, 1], replicaIdentity: "f", primaryKeyColumns: [0])
        }
        var acc = ChangeAccumulator(globalStart: .zero) { _, _ in Issue.record("text value") }
        for m in [relation(1)]
            + txn(
                100,
                [
                    .update(.init(relationOID: 1, oldTuple: .full(tuple([1, 10])), newTuple: tuple([1, 11]))),
                    .update(.init(relationOID: 1, oldTuple: .full(tuple([1, 11])), newTuple: tuple([2, 11]))),
                ])
        { try acc.handle(m, resolve: full) }
        let segment = acc.takeSegments()[0]
        #expect(String(decoding: segment.ops, as: UTF8.self) == "UDI")
        #expect(segment.updates == 1 && segment.deletes == 1 && segment.inserts == 1)
    }

    @Test func aFullIdentityUpdateOfATableWithoutPrimaryKeyIsADeleteAndAnInsert() throws {
        let keyless: (PGOutputMessage.Relation) -> StreamRelation = { r in
            StreamRelation(
                oid: r.oid, schema: r.namespace, name: r.name, columnNames: r.columns.map(\.name),
                kinds: [.int32, .int32], keyColumns: [0, 1], replicaIdentity: "f", primaryKeyColumns: [])
        }
        var acc = ChangeAccumulator(globalStart: .zero) { _, _ in Issue.record("text value") }
        for m in [relation(1)]
            + txn(
                100,
                [
                    .update(.init(relationOID: 1, oldTuple: .full(tuple([1, 10])), newTuple: tuple([1, 11])))
                ])
        { try acc.handle(m, resolve: keyless) }
        #expect(String(decoding: acc.takeSegments()[0].ops, as: UTF8.self) == "DI")
    }

    /// A value a table's mapping cannot take puts that table aside (its rows dropped, the reason
    /// kept, never the value) while the other tables' rows go on.
    @Test func aValueThatDoesNotDecodeFailsItsTableOnly() throws {
        var acc = ChangeAccumulator(globalStart: .zero) { _, _ in Issue.record("text value") }
        let short = TupleData(bytes: [0, 1, 0, 0, 0, 9], values: [.binary(0..<2), .binary(2..<6)])  // a 2-byte int4
        for m in [relation(1), relation(2)]
            + txn(
                100,
                [
                    .insert(.init(relationOID: 1, newTuple: tuple([1, 10]))),
                    .insert(.init(relationOID: 2, newTuple: tuple([1, 10]))),
                    .insert(.init(relationOID: 1, newTuple: short)),
                    .insert(.init(relationOID: 1, newTuple: tuple([3, 30]))),
                    .insert(.init(relationOID: 2, newTuple: tuple([2, 20]))),
                ])
        { try acc.handle(m, resolve: resolve) }
        let segments = acc.takeSegments()
        #expect(segments.map(\.relation.oid) == [2] && segments[0].inserts == 2)
        let failed = acc.takeFailedTables()
        #expect(failed.keys.sorted() == [1] && failed[1]?.name == "t1" && failed[1]?.reason.contains("expected 4 bytes") == true)
        #expect(acc.takeFailedTables().isEmpty)
        // Tables in state error are left out altogether.
        var excluding = ChangeAccumulator(globalStart: .zero) { _, _ in Issue.record("text value") }
        excluding.excludedTables = [1]
        for m in [relation(1)] + txn(200, [.insert(.init(relationOID: 1, newTuple: tuple([1, 10])))]) { try excluding.handle(m, resolve: resolve) }
        #expect(excluding.takeSegments().isEmpty)
    }
}
