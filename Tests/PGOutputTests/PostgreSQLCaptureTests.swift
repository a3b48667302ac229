import Testing
@testable import PGOutput

/// Decodes pgoutput bytes captured from a real PostgreSQL 15.20 server (``PostgreSQLCapture``), so the decoders
/// are checked against what the server sends and not only against our reading of the spec.
///
/// The capture came from a throwaway cluster (`wal_level=logical`, `logical_decoding_work_mem=64kB`,
/// `max_prepared_transactions=10`) and this SQL:
///
///     CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
///     CREATE TABLE orders (id bigint PRIMARY KEY, note text, amount numeric(12,2), m mood, big text);
///     ALTER TABLE orders ALTER COLUMN big SET STORAGE EXTERNAL;
///     CREATE TABLE audit (id int, v text);  ALTER TABLE audit REPLICA IDENTITY FULL;
///     CREATE PUBLICATION pub FOR TABLE orders, audit;
///     SELECT pg_create_logical_replication_slot('s1', 'pgoutput');
///     SELECT pg_create_logical_replication_slot('s2', 'pgoutput', false, true);
///     INSERT INTO orders VALUES (1, 'first', 19.99, 'happy', repeat('x', 5000));
///     INSERT INTO orders VALUES (2, NULL, NULL, NULL, NULL);
///     UPDATE orders SET note = 'changed' WHERE id = 1;   -- big is unchanged TOAST
///     UPDATE orders SET id = 10 WHERE id = 2;            -- old key K
///     DELETE FROM orders WHERE id = 10;
///     INSERT INTO audit VALUES (1, 'a'); UPDATE audit SET v = 'b'; DELETE FROM audit;  -- old row O
///     TRUNCATE audit, orders RESTART IDENTITY CASCADE;
///     SELECT pg_logical_emit_message(true, 'replicatord', 'hello');
///     SELECT pg_logical_emit_message(false, 'replicatord', '\x00ff'::bytea);
///     -- streaming: 3000 rows with a rolled-back savepoint of 1500 rows, committed; then 3000 rows rolled back
///     -- two-phase: PREPARE TRANSACTION 'gid-commit' + COMMIT PREPARED; 'gid-rollback' + ROLLBACK PREPARED
///
/// read back with `pg_logical_slot_peek_binary_changes` and the options named on each capture.
@Suite struct PostgreSQLCaptureTests {
    private func decodeAll(_ hexes: [String], decoder: inout PGOutputDecoder) throws -> [PGOutputMessage] {
        try hexes.map { hex in
            // Wrap each payload in an XLogData frame, as START_REPLICATION delivers it.
            let frame = Fixture.xLogData(
                walStart: LSN(1), walEnd: LSN(2), serverTime: .postgresEpoch,
                payload: PostgreSQLCapture.bytes(hex))
            guard case .xLogData(let data) = try ReplicationMessage.decode(frame) else {
                throw PGOutputError(code: .invalidValue, offset: 0, detail: "not XLogData")
            }
            return try decoder.decode(data)
        }
    }

    private func decodeAll(_ hexes: [String]) throws -> [PGOutputMessage] {
        var decoder = PGOutputDecoder()
        return try decodeAll(hexes, decoder: &decoder)
    }

    @Test func decodesProtocol1TextChanges() throws {
        let messages = try decodeAll(PostgreSQLCapture.protocol1Text)
        #expect(messages.count == 37)

        guard case .begin(let begin) = messages[0] else { Issue.record("first is not Begin"); return }
        #expect(begin.xid == 730)
        #expect(begin.finalLSN == LSN("0/1544720"))
        #expect(messages[1] == .type(.init(oid: 16385, namespace: "public", name: "mood")))

        guard case .relation(let orders) = messages[2] else { Issue.record("not Relation"); return }
        #expect(orders.oid == 16391)
        #expect(orders.namespace == "public")
        #expect(orders.name == "orders")
        #expect(orders.replicaIdentity == .default)
        #expect(orders.columns.map(\.name) == ["id", "note", "amount", "m", "big"])
        #expect(orders.columns.map(\.isKey) == [true, false, false, false, false])
        #expect(orders.columns.map(\.typeOID) == [20, 25, 1700, 16385, 25])
        #expect(orders.columns[2].typeModifier == (12 << 16 | 2) + 4)  // numeric(12,2)
        #expect(orders.columns[0].typeModifier == -1)

        guard case .insert(let first) = messages[3] else { Issue.record("not Insert"); return }
        #expect(first.relationOID == 16391)
        #expect(Array(first.newTuple.fixtureValues.prefix(4)) == [.text("1"), .text("first"), .text("19.99"), .text("happy")])
        #expect(first.newTuple.slice(4)?.count == 5000)
        #expect(first.newTuple.slice(4)?.allSatisfy { $0 == UInt8(ascii: "x") } == true)

        guard case .commit(let commit) = messages[4] else { Issue.record("not Commit"); return }
        #expect(commit.commitLSN == LSN("0/1544720"))
        #expect(commit.endLSN == LSN("0/1544750"))
        #expect(commit.commitTimestamp == begin.commitTimestamp)

        guard case .insert(let nulls) = messages[6] else { Issue.record("not Insert"); return }
        #expect(nulls.newTuple.fixtureValues == [.text("2"), .null, .null, .null, .null])

        guard case .update(let toast) = messages[9] else { Issue.record("not Update"); return }
        #expect(toast.oldTuple == nil)
        #expect(toast.newTuple.fixtureValues == [.text("1"), .text("changed"), .text("19.99"), .text("happy"), .unchangedToast])

        guard case .update(let keyChange) = messages[12] else { Issue.record("not Update"); return }
        #expect(keyChange.oldTuple == .key(try decodeTuple([.text("2"), .null, .null, .null, .null])))
        #expect(keyChange.newTuple.fixtureValues == [.text("10"), .null, .null, .null, .null])

        guard case .delete(let delete) = messages[15] else { Issue.record("not Delete"); return }
        #expect(delete.oldTuple.kind == .key)
        #expect(delete.oldTuple.tuple.fixtureValues == [.text("10"), .null, .null, .null, .null])

        guard case .relation(let audit) = messages[18] else { Issue.record("not Relation"); return }
        #expect(audit.replicaIdentity == .full)
        #expect(audit.columns.map(\.isKey) == [true, true], "with FULL every column is part of the identity")

        guard case .update(let fullUpdate) = messages[22] else { Issue.record("not Update"); return }
        #expect(fullUpdate.oldTuple?.kind == .full)
        #expect(fullUpdate.oldTuple?.tuple.fixtureValues == [.text("1"), .text("a")])
        #expect(fullUpdate.newTuple.fixtureValues == [.text("1"), .text("b")])

        guard case .delete(let fullDelete) = messages[25] else { Issue.record("not Delete"); return }
        #expect(fullDelete.oldTuple == .full(try decodeTuple([.text("1"), .text("b")])))

        #expect(messages[31] == .truncate(.init(options: [.cascade, .restartIdentity], relationOIDs: [16398, 16391])))

        guard case .message(let transactional) = messages[34] else { Issue.record("not Message"); return }
        #expect(transactional.isTransactional)
        #expect(transactional.prefix == "replicatord")
        #expect(Array(transactional.content) == Array("hello".utf8))
        guard case .message(let plain) = messages[36] else { Issue.record("not Message"); return }
        #expect(!plain.isTransactional)
        #expect(Array(plain.content) == [0x00, 0xFF])
    }

    @Test func decodesProtocol1BinaryValues() throws {
        let messages = try decodeAll(PostgreSQLCapture.protocol1Binary)
        #expect(messages.count == 37)
        guard case .insert(let first) = messages[3] else { Issue.record("not Insert"); return }
        #expect(first.newTuple.map(\.kind) == [.binary, .binary, .binary, .binary, .binary])
        #expect(first.newTuple.slice(0).map(Array.init) == [0, 0, 0, 0, 0, 0, 0, 1])  // int8 1
        #expect(first.newTuple.slice(1).map(Array.init) == Array("first".utf8))
        // numeric 19.99 in binary: ndigits 2, weight 0, sign +, dscale 2, digits 19 and 9900
        #expect(first.newTuple.slice(2).map(Array.init) == [0, 2, 0, 0, 0, 0, 0, 2, 0, 19, 0x26, 0xAC])
        guard case .update(let toast) = messages[9] else { Issue.record("not Update"); return }
        #expect(toast.newTuple[4] == .unchangedToast)
    }

    @Test func decodesProtocol2StreamedTransactions() throws {
        var decoder = PGOutputDecoder()
        let messages = try decodeAll(PostgreSQLCapture.protocol2Streaming, decoder: &decoder)
        #expect(!decoder.inStreamedTransaction)
        let kinds = messages.map(\.kind)
        #expect(kinds.filter { $0 == .streamStart }.count == 16)
        #expect(kinds.filter { $0 == .streamStop }.count == 16)
        #expect(kinds.filter { $0 == .streamAbort }.count == 2)
        #expect(kinds.filter { $0 == .streamCommit }.count == 1)

        guard case .streamStart(let start) = messages[0] else { Issue.record("not Stream Start"); return }
        #expect(start.isFirstSegment)
        #expect(start.xid == 740)
        #expect(messages[1].streamedXid == 740)
        guard case .insert(let insert) = messages[2] else { Issue.record("not Insert"); return }
        #expect(insert.xid == 740)
        #expect(insert.newTuple.fixtureValues == [.text("1"), .text("row 1")])

        // Every data message inside a chunk carries the streamed transaction's xid; none outside.
        var inChunk = false
        for message in messages {
            switch message {
            case .streamStart: inChunk = true
            case .streamStop: inChunk = false
            default: #expect((message.streamedXid != nil) == (inChunk && message.kind.carriesStreamedXid))
            }
        }

        let aborts = messages.compactMap { if case .streamAbort(let abort) = $0 { abort } else { nil } }
        #expect(aborts.contains { $0.xid == 740 && $0.subtransactionXid != 740 }, "the rolled-back savepoint")
        #expect(aborts.contains { $0.xid != 740 && $0.subtransactionXid == $0.xid }, "the rolled-back transaction")
        #expect(aborts.allSatisfy { $0.abort == nil })
        guard case .streamCommit(let commit) = messages.first(where: { $0.kind == .streamCommit }) else {
            Issue.record("no Stream Commit"); return
        }
        #expect(commit.xid == 740)
        #expect(commit.endLSN > commit.commitLSN)
    }

    @Test func decodesProtocol3TwoPhaseCommit() throws {
        let messages = try decodeAll(PostgreSQLCapture.protocol3TwoPhase)
        #expect(
            messages.map(\.kind) == [
                .beginPrepare, .type, .relation, .insert, .prepare, .commitPrepared,
                .beginPrepare, .prepare, .rollbackPrepared,
            ])
        guard case .beginPrepare(let begin) = messages[0], case .prepare(let prepare) = messages[4],
            case .commitPrepared(let commit) = messages[5], case .rollbackPrepared(let rollback) = messages[8],
            case .prepare(let rolledBackPrepare) = messages[7]
        else { Issue.record("unexpected messages"); return }
        #expect(begin.gid == "gid-commit")
        #expect(prepare.gid == "gid-commit")
        #expect(prepare.xid == begin.xid)
        #expect(prepare.prepareLSN == begin.prepareLSN)
        #expect(prepare.endLSN == begin.endLSN)
        #expect(commit.gid == "gid-commit")
        #expect(commit.xid == begin.xid)
        #expect(commit.commitTimestamp >= prepare.prepareTimestamp)
        #expect(rollback.gid == "gid-rollback")
        #expect(rollback.xid == rolledBackPrepare.xid)
        #expect(rollback.prepareEndLSN == rolledBackPrepare.endLSN)
        #expect(rollback.prepareTimestamp == rolledBackPrepare.prepareTimestamp)
        #expect(rollback.rollbackTimestamp > rollback.prepareTimestamp)
    }

    @Test func decodeFailsWhenAnyCapturedMessageTruncated() {
        for hex in PostgreSQLCapture.protocol1Text + PostgreSQLCapture.protocol3TwoPhase where hex.count < 400 {
            expectEveryPrefixTruncated(PostgreSQLCapture.bytes(hex)) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
        }
    }

    private func decodeTuple(_ values: [FixtureValue]) throws -> TupleData {
        var reader = ByteReader(Fixture.tuple(values))
        return try TupleData.decode(from: &reader)
    }
}
