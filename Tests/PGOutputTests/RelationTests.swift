import Testing
@testable import PGOutput

@Suite struct RelationTests {
    let columns = [
        Fixture.Column(flags: 1, name: "id", typeOID: 20, typeModifier: -1),
        Fixture.Column(flags: 0, name: "amount", typeOID: 1700, typeModifier: 0x000C_0006),
        Fixture.Column(flags: 0, name: "note", typeOID: 25, typeModifier: -1),
    ]

    var bytes: [UInt8] { Fixture.relation(oid: 16384, namespace: "sales", name: "orders", replicaIdentity: "d", columns: columns) }

    @Test func decodesAllFields() throws {
        guard case .relation(let relation) = try PGOutputMessage.decode(bytes) else { Issue.record("not a Relation"); return }
        #expect(relation.oid == 16384)
        #expect(relation.namespace == "sales")
        #expect(relation.name == "orders")
        #expect(relation.replicaIdentity == .default)
        #expect(
            relation.columns == [
                .init(flags: 1, name: "id", typeOID: 20, typeModifier: -1),
                .init(flags: 0, name: "amount", typeOID: 1700, typeModifier: 0x000C_0006),
                .init(flags: 0, name: "note", typeOID: 25, typeModifier: -1),
            ])
        #expect(relation.columns.map(\.isKey) == [true, false, false])
    }

    @Test func decodesEveryReplicaIdentity() throws {
        let expected: [Character: PGOutputMessage.Relation.ReplicaIdentity] = ["d": .default, "n": .nothing, "f": .full, "i": .index]
        for (byte, identity) in expected {
            let message = try PGOutputMessage.decode(Fixture.relation(oid: 1, namespace: "", name: "t", replicaIdentity: byte, columns: []))
            guard case .relation(let relation) = message else { Issue.record("not a Relation"); continue }
            #expect(relation.replicaIdentity == identity)
            #expect(relation.namespace == "", "pg_catalog is sent as the empty string")
        }
    }

    @Test func decodeFailsOnUnknownReplicaIdentity() {
        let bad = Fixture.relation(oid: 1, namespace: "s", name: "t", replicaIdentity: "x", columns: [])
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bad) }
        #expect(error?.code == .invalidValue)
        #expect(error?.messageKind == "Relation")
        #expect(error?.offset == 9)  // 'R', Int32 OID, "s\0", "t\0"
    }

    @Test func decodeFailsOnNegativeColumnCount() {
        var bad = Fixture.relation(oid: 1, namespace: "s", name: "t", replicaIdentity: "d", columns: [])
        bad[10] = 0xFF; bad[11] = 0xFF
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bad) }?.code == .invalidValue)
    }

    @Test func decodeFailsOnHugeColumnCount() {
        var bad = Fixture.relation(oid: 1, namespace: "s", name: "t", replicaIdentity: "d", columns: [])
        bad[10] = 0x7F; bad[11] = 0xFF
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bad) }?.code == .truncated)
    }

    @Test func decodeFailsWhenTruncated() {
        expectEveryPrefixTruncated(bytes) { (b) throws(PGOutputError) in try PGOutputMessage.decode(b) }
    }

    @Test func decodeFailsWithTrailingBytes() {
        #expect(decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(bytes + [0]) }?.code == .trailingBytes)
    }
}
