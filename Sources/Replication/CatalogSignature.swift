import PGClient

/// A short text that changes whenever what ``Catalog/publicationTables(_:on:)`` and the source
/// check read may have changed, read in one query that costs the same with 10 or 10,000 tables
/// on the client (one row) and a scan of `pg_class` on the server (no per-table function calls,
/// no column rows).
///
/// It is built from the `xmin` of the catalog rows that hold a publication's membership and its
/// tables' shape: every `CREATE`, `ALTER`, `DROP`, `RENAME`, `GRANT`/`REVOKE` and `ALTER
/// PUBLICATION` writes a new version of such a row (a new `xmin`), or adds or removes one (the
/// counts). `ANALYZE` and `VACUUM` update `pg_class` in place (the `xmin` stays), so they do not
/// change it. Covered rows:
///
/// - the publication (`pg_publication`), its table list (`pg_publication_rel`) and its schema list
///   (`pg_publication_namespace`, PostgreSQL 15 and later);
/// - every schema (`pg_namespace`: a rename, a `GRANT USAGE`);
/// - every permanent table and partitioned table (`pg_class` with `relkind` `r` or `p`): `ADD
///   COLUMN`, `DROP COLUMN` and a type change rewrite the table's row (`relnatts`,
///   `relfilenode`), as do `REPLICA IDENTITY`, renames and grants;
/// - every domain and enum type (`pg_type`).
///
/// A change it misses would leave a kept table list stale until the next change it sees; the
/// change stream's own Relation messages still describe every table's columns as they are.
public enum CatalogSignature {
    /// The signature of `publication` and its tables as the server holds them now.
    public static func read(publication: String, on connection: PGConnection) throws -> String {
        let schemaList =
            connection.serverVersion >= 150_000
            ? "(SELECT count(*) || ':' || coalesce(sum(hashtext(s.xmin::text || ':' || s.pnnspid)), 0) FROM pg_publication_namespace s WHERE s.pnpubid = p.oid)"
            : "'-'"
        let result = try connection.query(
            """
            SELECT concat_ws('/',
              (SELECT p.oid || ':' || p.xmin || ':' || p.puballtables || ':' || p.pubviaroot
                      || ':' || p.pubinsert || p.pubupdate || p.pubdelete || p.pubtruncate),
              (SELECT count(*) || ':' || coalesce(sum(hashtext(r.xmin::text || ':' || r.prrelid)), 0) FROM pg_publication_rel r WHERE r.prpubid = p.oid),
              \(schemaList),
              (SELECT count(*) || ':' || coalesce(sum(hashtext(n.xmin::text || ':' || n.oid)), 0) FROM pg_namespace n),
              (SELECT count(*) || ':' || coalesce(sum(hashtext(c.xmin::text || ':' || c.oid)), 0) FROM pg_class c
               WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'),
              (SELECT count(*) || ':' || coalesce(sum(hashtext(t.xmin::text || ':' || t.oid)), 0) FROM pg_type t WHERE t.typtype IN ('d', 'e')))
            FROM pg_publication p WHERE p.pubname = $1
            """, [publication])
        // No row: the publication is gone; the full read that follows says so.
        return result.rows.first?[0].flatMap { $0 } ?? "no publication"
    }
}
