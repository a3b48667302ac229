import Replication
import Synchronization

/// The publication's tables as a cycle needs them, read in full (``SourceCheck`` and the catalog,
/// one row per column of every table) only when the catalog's ``CatalogSignature`` changed since
/// the last full read; otherwise the tables kept from it. So an idle cycle asks the server one
/// single-row query whatever the number of tables, and the daemon does no per-table work for it.
///
/// Kept in memory (service mode: every cycle after the first) and, for `--once`, in the spool
/// directory (see ``CatalogCacheFile``): a run whose signature matches the file's reads the
/// tables from it instead of the server.
final class SourceCatalog: Sendable {
    /// What one full read found, and the signature it was made under.
    struct Snapshot: Sendable {
        var signature: String
        var tables: [TableDescription]
        var systemID: String
    }

    private let kept = Mutex<Snapshot?>(nil)
    private let counters = Mutex((fullReads: 0, reuses: 0))
    /// Where a copy is kept between processes; nil for none.
    let cacheFile: CatalogCacheFile?

    init(cacheFile: CatalogCacheFile?) {
        self.cacheFile = cacheFile
    }

    /// Full reads of the catalog (the source check, every table's columns) made by this process.
    var fullReads: Int { counters.withLock { $0.fullReads } }
    /// Cycles that used the tables kept from an earlier read.
    var reuses: Int { counters.withLock { $0.reuses } }

    /// The publication's tables and the server's system identifier: checked and read in full when
    /// the signature changed (or nothing is kept), else the kept ones.
    func tables(settings: EngineSettings) async throws -> (tables: [TableDescription], systemID: String) {
        let known = kept.withLock { $0 }
        let cacheFile = self.cacheFile
        let snapshot = try await DedicatedThread.run(name: "replicatord-check") { () throws -> (Snapshot, reused: Bool) in
            let source = SourceDatabase(conninfo: settings.conninfo)
            let signature = try source.catalogSignature(publication: settings.publication)
            if let known, known.signature == signature { return (known, true) }
            if known == nil, let stored = cacheFile?.read(signature: signature) { return (stored, true) }
            let tables = try SourceCheck.run(publication: settings.publication, source: source)
            let systemID = try source.systemID()
            // Read again after the full read: a change made during it gives a signature that
            // does not match, so the next cycle reads once more.
            let after = try source.catalogSignature(publication: settings.publication)
            let snapshot = Snapshot(signature: after == signature ? signature : "changed during the read", tables: tables, systemID: systemID)
            if after == signature { cacheFile?.write(snapshot) }
            return (snapshot, false)
        }
        kept.withLock { $0 = snapshot.0 }
        counters.withLock { snapshot.reused ? ($0.reuses += 1) : ($0.fullReads += 1) }
        return (snapshot.0.tables, snapshot.0.systemID)
    }

    /// Forgets the kept tables: the next cycle reads the catalog in full.
    func forget() {
        kept.withLock { $0 = nil }
    }
}
