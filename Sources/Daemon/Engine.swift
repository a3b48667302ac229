import Logging
import ObjectStore
import PGClient
import PGOutput
import Replication

/// The replication engine: one cycle at a time (the full load when it has not been done, else one
/// CDC cycle), each ending with the checkpoint stored and the LSN confirmed.
public final class Engine: Sendable {
    public let settings: EngineSettings
    public let store: any ObjectStore
    public let keeper: StateKeeper
    let logger: Logger

    public init(settings: EngineSettings, store: any ObjectStore, logger: Logger) {
        self.settings = settings
        self.store = store
        self.keeper = StateKeeper(store: store, logger: logger)
        self.logger = logger
    }

    /// What one call of ``runCycle()`` did.
    public enum Outcome: Sendable {
        case fullLoad(tables: Int)
        case cdc(CycleReport)
    }

    /// Runs the next cycle: checks the source, then the full load or one CDC cycle.
    public func runCycle() async throws -> Outcome {
        let state = try await keeper.load()
        let settings = self.settings
        let (tables, systemID) = try await DedicatedThread.run(name: "replicatord-check") { () throws -> ([TableDescription], String) in
            let connection = try PGConnection(conninfo: settings.conninfo)
            let tables = try SourceCheck.run(publication: settings.publication, on: connection)
            let identity = try PGConnection(conninfo: settings.conninfo, replication: true).identifySystem()
            return (tables, identity.systemID)
        }
        if let state {
            if let stored = state.systemID, stored != systemID {
                throw EngineError(.wrongCluster, "the checkpoint belongs to PostgreSQL system \(stored), the source is \(systemID)")
            }
            guard state.slot == settings.slot else {
                throw EngineError(.stateCorrupt, "the checkpoint is for slot \(state.slot), the configuration names \(settings.slot)")
            }
        }
        if state == nil || state?.phase == .fullLoad {
            try await FullLoad(settings: settings, store: store, keeper: keeper, logger: logger).run(tables: tables)
            return .fullLoad(tables: tables.count)
        }
        let cycle = CDCCycle(settings: settings, store: store, keeper: keeper, logger: logger)
        var report = try await cycle.run(state: state!, tables: tables)
        if state!.pending != nil, let recovered = await keeper.state {
            // That was the redo of an interrupted cycle, to its recorded end; now the cycle itself.
            logger.notice("interrupted cycle redone", metadata: ["files": "\(report.files.count)", "lsn.confirmed": "\(report.confirmedLSN)"])
            let next = try await cycle.run(state: recovered, tables: tables)
            report.files += next.files
            report.rows += next.rows
            report.transactions += next.transactions
            report.confirmedLSN = next.confirmedLSN
            report.targetLSN = next.targetLSN
        }
        return .cdc(report)
    }
}
