import Foundation
import AWSRequests
import Replication

/// The last full read of the publication's tables, kept in a local file (the slot's folder of
/// `[task] spool_dir`) so that a `--once` run whose ``CatalogSignature`` matches need not read
/// every table's columns again. A cache only: a missing, unreadable or mismatching file means a
/// full read, which writes a new one. Never a secret in it: the source is named by a SHA-256 of
/// its conninfo.
///
/// Format (little-endian, compact, read in milliseconds for 10,000 tables): `RPLCAT1\n`, then
/// strings (a varint length and UTF-8) and varints: source hash, publication, signature, system
/// identifier, table count, and per table its OID, schema, name, replica identity, estimated rows
/// and columns (each with every ``ColumnDescription`` field).
struct CatalogCacheFile: Sendable {
    /// The file.
    let path: String
    /// Hex SHA-256 of the conninfo: a file made for another source is not used.
    let source: String
    let publication: String

    init(directory: String, conninfo: String, publication: String) {
        path = (directory as NSString).appendingPathComponent("catalog-cache")
        source = Digest.sha256(Array(conninfo.utf8)).map { String(format: "%02x", $0) }.joined()
        self.publication = publication
    }

    static let magic = Array("RPLCAT1\n".utf8)

    /// The kept read, when the file is for this source and publication and was made under `signature`.
    func read(signature: String) -> SourceCatalog.Snapshot? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return Self.decode(Array(data), source: source, publication: publication, signature: signature)
    }

    /// Keeps `snapshot` (written to a temporary file, then renamed). A failure is ignored: the
    /// next run reads the catalog in full.
    func write(_ snapshot: SourceCatalog.Snapshot) {
        let bytes = Self.encode(snapshot, source: source, publication: publication)
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }

    // MARK: Encoding

    static func encode(_ snapshot: SourceCatalog.Snapshot, source: String, publication: String) -> [UInt8] {
        var out = magic
        func int(_ value: Int64) {
            var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))  // zigzag
            while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
            out.append(UInt8(v))
        }
        func text(_ s: String) { let u = Array(s.utf8); int(Int64(u.count)); out += u }
        text(source); text(publication); text(snapshot.signature); text(snapshot.systemID)
        int(Int64(snapshot.tables.count))
        for t in snapshot.tables {
            int(Int64(t.oid)); text(t.schema); text(t.name); text(String(t.replicaIdentity)); int(t.estimatedRows)
            int(Int64(t.columns.count))
            for c in t.columns {
                text(c.name); int(Int64(c.attnum)); int(Int64(c.typeOID)); int(Int64(c.typmod)); text(c.typeName)
                int(Int64(c.baseTypeOID)); text(String(c.typeKind)); int(Int64(c.elementTypeOID))
                int(c.notNull ? 1 : 0); int(Int64(c.dimensions)); int(c.isPrimaryKey ? 1 : 0)
                if let missing = c.missingValue { int(1); text(missing) } else { int(0) }
            }
        }
        return out
    }

    /// The snapshot in `bytes`, or nil when they are not a whole file of this format for this
    /// source, publication and signature.
    static func decode(_ bytes: [UInt8], source: String, publication: String, signature: String) -> SourceCatalog.Snapshot? {
        var at = 0
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else { return nil }
        at = magic.count
        func int() -> Int64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            while at < bytes.count, shift < 64 {
                let b = bytes[at]; at += 1
                v |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }
                shift += 7
            }
            return nil
        }
        func text() -> String? {
            guard let n = int(), n >= 0, n <= bytes.count - at else { return nil }
            defer { at += Int(n) }
            return String(decoding: bytes[at..<at + Int(n)], as: UTF8.self)
        }
        func char() -> Character? { text().flatMap(\.first) }
        func u32() -> UInt32? { int().flatMap { UInt32(exactly: $0) } }
        guard text() == source, text() == publication, text() == signature, let systemID = text(),
            let count = int(), count >= 0, count <= bytes.count
        else { return nil }
        var tables: [TableDescription] = []
        tables.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let oid = u32(), let schema = text(), let name = text(), let identity = char(), let rows = int(),
                let columnCount = int(), columnCount >= 0, columnCount <= bytes.count
            else { return nil }
            var columns: [ColumnDescription] = []
            columns.reserveCapacity(Int(columnCount))
            for _ in 0..<columnCount {
                guard let name = text(), let attnum = int(), let typeOID = u32(), let typmod = int().flatMap({ Int32(exactly: $0) }),
                    let typeName = text(), let baseOID = u32(), let kind = char(), let element = u32(), let notNull = int(),
                    let dimensions = int(), let primary = int(), let hasMissing = int()
                else { return nil }
                var missing: String?
                if hasMissing == 1 { guard let value = text() else { return nil }; missing = value }
                columns.append(
                    ColumnDescription(
                        named: name, attnum: Int(attnum), typeOID: typeOID, typmod: typmod, typeName: typeName,
                        baseTypeOID: baseOID, typeKind: kind, elementTypeOID: element, notNull: notNull == 1,
                        dimensions: Int(dimensions), isPrimaryKey: primary == 1, missingValue: missing))
            }
            tables.append(TableDescription(oid: oid, schema: schema, name: name, columns: columns, replicaIdentity: identity, estimatedRows: rows))
        }
        guard at == bytes.count else { return nil }
        return SourceCatalog.Snapshot(signature: signature, tables: tables, systemID: systemID)
    }
}
