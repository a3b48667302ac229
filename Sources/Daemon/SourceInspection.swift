import Foundation
import Logging
import ObjectStore
import Replication

/// `replicatord check`: reaches PostgreSQL and the store with the configuration, runs the source
/// checks, and describes what the daemon would replicate. Reads only; creates no slot and writes
/// no object.
public enum SourceInspection {
    /// Lines to print, and one line per problem (empty when all is well).
    public static func run(configuration config: Configuration, logger: Logger) async -> (lines: [String], problems: [String]) {
        var lines: [String] = []
        var problems: [String] = []
        let settings = config.engineSettings
        lines.append("migration type: \(settings.migrationType.rawValue), publication \(settings.publication), slot \(settings.slot)")

        // PostgreSQL: the checks of every cycle, and the slot.
        struct SourceFacts: Sendable {
            var version = "", systemID = "", tables: [TableDescription] = [], problems: [String] = []
            var slot: (active: Bool, plugin: String, confirmed: String, ownDatabase: Bool)?
        }
        do {
            let facts = try await DedicatedThread.run(name: "replicatord-check") { () throws -> SourceFacts in
                var facts = SourceFacts()
                let source = SourceDatabase(conninfo: settings.conninfo)
                facts.version = try source.serverVersion()
                do {
                    facts.tables = try SourceCheck.run(publication: settings.publication, source: source)
                } catch let error as EngineError {
                    facts.problems = SourceInspection.split(error.message)
                }
                facts.systemID = try source.systemID()
                if let slot = try source.facts(of: ReplicationSlot(name: settings.slot)) {
                    facts.slot = (slot.active, slot.plugin, slot.confirmedFlush ?? "", slot.ownDatabase)
                }
                return facts
            }
            lines.append("source: PostgreSQL \(facts.version), system \(facts.systemID)")
            problems += facts.problems
            if !facts.tables.isEmpty {
                lines.append("publication \(settings.publication): \(facts.tables.count) table(s)")
                for t in facts.tables.sorted(by: { ($0.schema, $0.name) < ($1.schema, $1.name) }) {
                    let identity =
                        switch t.replicaIdentity {
                        case "d": "primary key";
                        case "f": "full";
                        case "i": "index";
                        default: "nothing"
                        }
                    lines.append("  \(t.schema).\(t.name): \(t.columns.count) columns, about \(max(0, t.estimatedRows)) rows, replica identity \(identity)")
                }
                for warning in SourceCheck.identityWarnings(facts.tables) { lines.append("warning: " + warning) }
            }
            if let slot = facts.slot {
                if slot.plugin != "pgoutput" || !slot.ownDatabase {
                    problems.append(
                        "replication slot \(settings.slot) exists but is not a pgoutput slot of this database (choose another [source] slot, or drop it)")
                } else {
                    lines.append("slot \(settings.slot): exists, \(slot.active ? "in use" : "not in use"), confirmed \(slot.confirmed)")
                }
            } else if settings.migrationType != .fullLoad {
                lines.append("slot \(settings.slot): does not exist yet; the first run creates it")
            }
        } catch {
            problems.append(
                "PostgreSQL cannot be reached: \(SecretScrubber.scrub("\(error)")) (check [source] conninfo, PGPASSWORD or ~/.pgpass)" + SourceCheck.setupHint)
        }

        // The store: list the prefix, read the checkpoint.
        do {
            let store = try config.makeStore(logger: logger)
            let objects = try await store.list(prefix: "")
            lines.append("target \(config.target.location): reachable, \(objects.count) object(s) under the prefix")
            let keeper = CheckpointStore(store: store, logger: logger)
            if let state = try await keeper.load() {
                lines.append("checkpoint: phase \(state.phase.rawValue), confirmed \(state.confirmedLSN), \(state.tables.count) table(s)")
                if state.slot != settings.slot {
                    problems.append("the checkpoint is for slot \(state.slot), the configuration names \(settings.slot) (use another target prefix)")
                }
            } else {
                lines.append("checkpoint: none; the first run starts with \(settings.migrationType == .cdc ? "changes only" : "a full load")")
            }
        } catch {
            problems.append("the target cannot be used: \(SecretScrubber.scrub("\(error)")) (check [target] and the AWS credentials)")
        }
        let glue = await GlueCatalogSync.check(settings, logger: logger)
        if let line = glue.line { lines.append(line) }
        if let problem = glue.problem { problems.append(problem) }
        return (lines, problems)
    }

    /// The sentences of a ``SourceCheck`` failure, each pointing at the setup script.
    static func split(_ message: String) -> [String] {
        let suffix = SourceCheck.setupHint
        let body = message.hasSuffix(suffix) ? String(message.dropLast(suffix.count)) : message
        return body.components(separatedBy: "; ").map { $0 + suffix }
    }
}
