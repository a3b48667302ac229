import Foundation
import ObjectStore
import Replication
import Synchronization

/// The LOAD files the store already holds when a full load starts, listed once for all the tables
/// (one paginated listing of the prefix) instead of once per table; and the LOAD sets a `full-load`
/// reload replaces, removed once the checkpoint names the new ones.
///
/// A full load of a few tables (tables added during CDC) lists each table's folder instead: the
/// prefix then holds every CDC file ever written.
final class LoadLeftovers: Sendable {
    /// LOAD files by table folder (`schema/table/`); nil when each table lists its own folder.
    private let byFolder: [String: [ObjectInfo]]?
    private let replacedSets = Mutex<[ObjectInfo]>([])

    /// Below this many tables, each table lists its own folder.
    static let listOnceFromTables = 8

    init(byFolder: [String: [ObjectInfo]]?) { self.byFolder = byFolder }

    /// Lists the prefix once when loading `tables` tables from the start (not `added` ones) and
    /// there are at least ``listOnceFromTables`` of them.
    static func list(in store: any ObjectStore, tables: Int, added: Bool) async throws -> LoadLeftovers {
        guard !added, tables >= listOnceFromTables else { return LoadLeftovers(byFolder: nil) }
        var byFolder: [String: [ObjectInfo]] = [:]
        for object in try await store.list(prefix: "") where FileNaming.loadIndex(object.key) != nil {
            guard let slash = object.key.lastIndex(of: "/") else { continue }
            byFolder[String(object.key[...slash]), default: []].append(object)
        }
        return LoadLeftovers(byFolder: byFolder)
    }

    /// The LOAD files in `folder` as listed at the start, or nil when the folder must be listed now.
    func loadFiles(in folder: String) -> [ObjectInfo]? {
        guard let byFolder else { return nil }
        return byFolder[folder] ?? []
    }

    /// Notes a LOAD set that the new one replaces, to remove once the checkpoint names the new one.
    func replaced(_ objects: [ObjectInfo]) {
        replacedSets.withLock { $0 += objects }
    }

    /// The replaced sets noted so far (each handed out once).
    func takeReplaced() -> [ObjectInfo] {
        replacedSets.withLock { sets in
            defer { sets = [] }
            return sets
        }
    }
}
