import Foundation
import ObjectStore

/// `replicatord reload-table` (DMS's "Reload table data") asks for a table to be loaded again by
/// storing a request object `_replicatord/reload/<schema.table>` next to the checkpoint. The engine
/// takes the requests at the start of a CDC cycle (in the running service, or in the command's own
/// cycle when no service runs), loads each table in a fresh snapshot (a temporary slot's) with its
/// changes continuing exactly there, replaces the folder's files once the new LOAD set is
/// checkpointed, and removes the request last: a crash at any step leaves the request, and the
/// reload is done again from the start.
public enum TableReloadRequest {
    /// Where the requests live, relative to the prefix.
    static let prefix = "_replicatord/reload/"

    /// The request object of `table` (`schema.table`).
    static func key(_ table: String) -> String { prefix + FileNaming.keyComponent(table) }

    /// Stores a request for `table` (`schema.table`).
    public static func request(_ table: String, in store: any ObjectStore) async throws {
        _ = try await store.put(key: key(table), bytes: Array(table.utf8), contentType: "text/plain")
    }

    /// Whether the request for `table` is still waiting.
    public static func isWaiting(_ table: String, in store: any ObjectStore) async throws -> Bool {
        try await store.head(key: key(table)) != nil
    }

    /// The tables asked for (`schema.table`), in name order.
    static func pending(in store: any ObjectStore) async throws -> [String] {
        var tables: [String] = []
        for object in try await store.list(prefix: prefix) {
            tables.append(String(decoding: try await store.get(key: object.key), as: UTF8.self))
        }
        return tables.sorted()
    }

    /// Removes the request for `table`: the reload is done.
    static func done(_ table: String, in store: any ObjectStore) async throws {
        try await store.delete(key: key(table))
    }
}
