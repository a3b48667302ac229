import Foundation

/// How the checkpoint is laid out in the store, so that what a save writes follows what changed
/// rather than how many tables there are.
///
/// - The head, `_replicatord/state.json`: everything but the tables (slot, phase, confirmed LSN,
///   the pending cycle), a generation number, and the list of table shards.
/// - The table shards, `_replicatord/tables/<generation>-<n>.json`, each written once under a new
///   key and never overwritten: base shards (every table, cut by name into shards of
///   ``tablesPerShard``), then delta shards, each holding the tables one save changed. A table's
///   state is its entry in the last shard of the list that holds it.
///
/// A save writes one delta shard with the tables that changed (none when none did), then the head
/// that lists it (one atomic put: the commit point), then removes the shards the head no longer
/// lists. When the deltas would hold as many entries as there are tables, the save writes new base shards
/// instead (so every entry written is paid for once more, at most: the bytes stay proportional to
/// the changes); past ``maxDeltas`` deltas, they are merged into one. A crash before the head
/// leaves only unlisted shards, which the next writer removes; readers only follow the head.
///
/// So an idle cycle writes the head alone, a cycle that changed k tables the head and k entries,
/// and a full load of n tables, recording them in batches, about 3n entries in all.
///
/// Checkpoints of version 1 (the tables inline in the head) are read as they are and written in
/// this layout by the next save.
enum CheckpointLayout {
    /// The layout's version, in the head's `version`.
    static let version = 2
    /// Where the shard objects live, relative to the prefix.
    static let shardFolder = "_replicatord/tables/"
    /// Tables per base shard.
    static let tablesPerShard = 128
    /// Delta shards the head lists at most; more are merged into one.
    static let maxDeltas = 32
    /// The deltas may hold this many entries (or as many as there are tables, if more) before new
    /// base shards are written.
    static let minCompactionEntries = 256

    /// The key of the `index`th shard written by the save of `generation`.
    static func shardKey(generation: Int, index: Int) -> String {
        shardFolder + String(format: "%08x-%04d.json", generation, index)
    }

    /// One shard as the head lists it.
    struct ShardRef: Codable, Equatable {
        /// The object key, relative to the prefix.
        var key: String
        /// Table entries in it.
        var tables: Int
        /// A delta (the tables one save changed) rather than a base shard.
        var delta: Bool
    }

    /// The head as stored: the state without its tables, plus where the tables are.
    struct Head: Codable {
        /// The state; its `tables` are empty in a head of this layout, full in a version 1 head.
        var state: Checkpoint
        /// Counts the saves; names the shard objects each save writes.
        var generation: Int
        /// The shards, base shards first, then deltas oldest first; nil in version 1.
        var tableShards: [ShardRef]?

        private enum Keys: String, CodingKey { case generation, tableShards }

        init(state: Checkpoint, generation: Int, tableShards: [ShardRef]?) {
            self.state = state; self.generation = generation; self.tableShards = tableShards
        }

        init(from decoder: any Decoder) throws {
            state = try Checkpoint(from: decoder)
            let container = try decoder.container(keyedBy: Keys.self)
            generation = try container.decodeIfPresent(Int.self, forKey: .generation) ?? 0
            tableShards = try container.decodeIfPresent([ShardRef].self, forKey: .tableShards)
        }

        func encode(to encoder: any Encoder) throws {
            // The state's keys and ours side by side in one JSON object.
            try state.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(generation, forKey: .generation)
            try container.encode(tableShards, forKey: .tableShards)
        }

        /// JSON bytes, keys sorted, indented (the head is small and read by people).
        func encoded() throws -> [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            return Array(try encoder.encode(self))
        }

        /// Parses a stored head; the error names the object.
        static func decode(_ bytes: [UInt8]) throws -> Head {
            let head: Head
            do { head = try JSONDecoder().decode(Head.self, from: Data(bytes)) } catch {
                throw Checkpoint.unreadable(Checkpoint.key, key: Checkpoint.key, error)
            }
            guard head.state.version <= CheckpointLayout.version else {
                throw EngineError(
                    .stateCorrupt, "\(Checkpoint.key) has layout version \(head.state.version); this replicatord reads up to \(CheckpointLayout.version)",
                    context: .init(key: Checkpoint.key))
            }
            return head
        }
    }

    /// One shard object: the states of its tables.
    struct Shard: Codable {
        var tables: [String: Checkpoint.TableState]

        /// Compact JSON, keys sorted so equal shards store equal bytes.
        func encoded() throws -> [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Array(try encoder.encode(self))
        }

        static func decode(_ bytes: [UInt8], key: String) throws -> Shard {
            do { return try JSONDecoder().decode(Shard.self, from: Data(bytes)) } catch {
                throw Checkpoint.unreadable("\(key) (named by \(Checkpoint.key))", key: key, error)
            }
        }
    }

    /// The names of the tables whose state differs between `stored` and `next`, and whether a
    /// table of `stored` is gone from `next`.
    static func changes(
        from stored: [String: Checkpoint.TableState], to next: [String: Checkpoint.TableState]
    )
        -> (changed: [String], removed: Bool)
    {
        var changed: [String] = []
        for (name, table) in next where stored[name] != table { changed.append(name) }
        let removed = stored.count + changed.filter { stored[$0] == nil }.count > next.count
        return (changed.sorted(), removed)
    }

    /// What one save writes: new shard objects, and the shard list of the new head.
    struct SavePlan {
        var writes: [(key: String, tables: [String: Checkpoint.TableState])]
        var refs: [ShardRef]
    }

    /// Plans the save of `next` over the stored tables `stored`, listed by `refs` (nil when the
    /// store holds no shard: version 1, or nothing yet). `namesIn` gives the tables of a listed
    /// delta (nil when unknown, which writes new base shards). Pure: the tests drive it.
    static func plan(
        next: [String: Checkpoint.TableState], stored: [String: Checkpoint.TableState], refs: [ShardRef]?,
        generation: Int, namesIn: (String) -> [String]?
    ) -> SavePlan {
        var index = 0
        func shard(_ names: [String], delta: Bool) -> ((key: String, tables: [String: Checkpoint.TableState]), ShardRef) {
            defer { index += 1 }
            let key = shardKey(generation: generation, index: index)
            var tables: [String: Checkpoint.TableState] = [:]
            tables.reserveCapacity(names.count)
            for name in names { tables[name] = next[name] }
            return ((key, tables), ShardRef(key: key, tables: names.count, delta: delta))
        }
        func base() -> SavePlan {
            var plan = SavePlan(writes: [], refs: [])
            let names = next.keys.sorted()
            for start in stride(from: 0, to: names.count, by: tablesPerShard) {
                let (write, ref) = shard(Array(names[start..<min(names.count, start + tablesPerShard)]), delta: false)
                plan.writes.append(write); plan.refs.append(ref)
            }
            return plan
        }
        guard let refs else { return base() }
        let (changed, removed) = changes(from: stored, to: next)
        if changed.isEmpty && !removed { return SavePlan(writes: [], refs: refs) }
        let deltas = refs.filter(\.delta)
        let deltaEntries = deltas.reduce(0) { $0 + $1.tables }
        if removed || deltaEntries + changed.count >= max(next.count, minCompactionEntries) { return base() }
        var kept = refs
        var names = changed
        if deltas.count >= maxDeltas {
            // The deltas become one: every table any of them holds, at its current state.
            var merged = Set(changed)
            for delta in deltas {
                guard let inDelta = namesIn(delta.key) else { return base() }
                merged.formUnion(inDelta)
            }
            kept = refs.filter { !$0.delta }
            names = merged.sorted()
        }
        let (write, ref) = shard(names, delta: true)
        return SavePlan(writes: [write], refs: kept + [ref])
    }
}
