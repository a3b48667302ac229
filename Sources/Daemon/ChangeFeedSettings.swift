import Logging
import Replication

extension ChangeFeed {
    /// Opens a feed from `start` with the engine's settings: its spool under `[task] spool_dir`,
    /// kept open between cycles when `continuous` (service mode), its failure logged then.
    convenience init(settings: EngineSettings, start: LSN, identity: Identity, continuous: Bool, logger: Logger) {
        var options = ChangeFeed.Options(
            conninfo: settings.conninfo, spoolDirectory: settings.spoolDirectory, spillRows: settings.cdcSpillRows,
            parquet: settings.parquet, checkpointKey: Checkpoint.key, continuous: continuous)
        options.writtenChanges = settings.writtenChanges
        let slot = settings.slot
        self.init(options: options, start: start, identity: identity, logger: logger) { error in
            logger.warning(
                "replication stream ended; the next cycle opens a new one from the checkpoint",
                metadata: ["error": "\(SecretScrubber.scrub("\(error)"))", "slot.name": "\(slot)"])
        }
    }
}
