import Foundation
import Replication
import Testing
@testable import Daemon

@Suite struct CatalogCacheFileTests {
    static func snapshot(tables: Int) -> SourceCatalog.Snapshot {
        let columns: [ColumnDescription] = [
            ColumnDescription(
                named: "id", attnum: 1, typeOID: 23, typmod: -1, typeName: "integer", baseTypeOID: 23, typeKind: "b",
                elementTypeOID: 0, notNull: true, dimensions: 0, isPrimaryKey: true, missingValue: nil),
            ColumnDescription(
                named: "Naïve \"name\"", attnum: 3, typeOID: 1009, typmod: -1, typeName: "text[]", baseTypeOID: 1009,
                typeKind: "b", elementTypeOID: 25, notNull: false, dimensions: 2, isPrimaryKey: false, missingValue: "{a,b}"),
            ColumnDescription(
                named: "amount", attnum: 4, typeOID: 1700, typmod: 786_438, typeName: "numeric(12,2)", baseTypeOID: 1700,
                typeKind: "b", elementTypeOID: 0, notNull: false, dimensions: 0, isPrimaryKey: false, missingValue: ""),
        ]
        var list: [TableDescription] = []
        for i in 0..<tables {
            let identity: Character = i % 2 == 0 ? "d" : "f"
            let rows: Int64 = i == 0 ? -1 : Int64(i) * 1_000_000_007
            list.append(
                TableDescription(
                    oid: UInt32(16_384 + i), schema: "tenant_\(i % 7)", name: "t\(i)", columns: columns,
                    replicaIdentity: identity, estimatedRows: rows))
        }
        return .init(signature: "sig-1", tables: list, systemID: "7345678901234567890")
    }

    @Test func aKeptReadComesBackWholeForTheSameSourcePublicationAndSignature() {
        let original = Self.snapshot(tables: 300)
        let bytes = CatalogCacheFile.encode(original, source: "abc", publication: "pub")
        let back = CatalogCacheFile.decode(bytes, source: "abc", publication: "pub", signature: "sig-1")
        #expect(back?.tables == original.tables)
        #expect(back?.systemID == original.systemID)
    }

    @Test func anotherSignatureSourceOrPublicationOrATruncatedFileIsNotUsed() {
        let bytes = CatalogCacheFile.encode(Self.snapshot(tables: 20), source: "abc", publication: "pub")
        #expect(CatalogCacheFile.decode(bytes, source: "abc", publication: "pub", signature: "sig-2") == nil)
        #expect(CatalogCacheFile.decode(bytes, source: "abd", publication: "pub", signature: "sig-1") == nil)
        #expect(CatalogCacheFile.decode(bytes, source: "abc", publication: "other", signature: "sig-1") == nil)
        for cut in [0, 5, bytes.count / 2, bytes.count - 1] {
            #expect(CatalogCacheFile.decode(Array(bytes[0..<cut]), source: "abc", publication: "pub", signature: "sig-1") == nil, "cut at \(cut)")
        }
        #expect(CatalogCacheFile.decode(bytes + [0], source: "abc", publication: "pub", signature: "sig-1") == nil)
    }

    @Test func theFileNamesNoSecretAndIsReadBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = CatalogCacheFile(directory: dir, conninfo: "host=db password=hunter2", publication: "pub")
        #expect(file.read(signature: "sig-1") == nil)
        file.write(Self.snapshot(tables: 3))
        #expect(file.read(signature: "sig-1")?.tables.count == 3)
        #expect(file.read(signature: "sig-0") == nil)
        let bytes = try #require(FileManager.default.contents(atPath: file.path))
        #expect(String(decoding: bytes, as: UTF8.self).contains("hunter2") == false)
        // Another conninfo (another source) does not use it.
        #expect(CatalogCacheFile(directory: dir, conninfo: "host=other", publication: "pub").read(signature: "sig-1") == nil)
    }
}
