import Foundation
import Logging
import ObjectStore
import Replication

/// `replicatord drop-slot`: removes the replication slot when it exists and is not in use.
public enum SlotRemoval {
    /// What was done, in one line; throws when the slot is in use.
    public static func run(configuration config: Configuration) async throws -> String {
        let conninfo = config.source.conninfo, slot = config.source.slot
        return try await DedicatedThread.run(name: "replicatord-drop-slot") { () throws -> String in
            guard try ReplicationSlot(name: slot).drop(conninfo: conninfo) else { return "replication slot \(slot) does not exist; nothing to do" }
            return
                "replication slot \(slot) dropped; the checkpoint (\(Checkpoint.key) under the target) still names it: remove it to start over with a full load"
        }
    }
}
