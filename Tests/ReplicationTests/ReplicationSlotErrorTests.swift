import Testing
@testable import Replication

@Suite struct ReplicationSlotErrorTests {
    @Test func aLostSlotReadsAsItDidWhenTheDaemonReportedIt() {
        let error = ReplicationSlotError(.lost, "replication slot s no longer exists")
        #expect(error.description == "replication slot lost: replication slot s no longer exists")
    }

    @Test func anUnusableSlotIsASourceCheckFailure() {
        let error = ReplicationSlotError(.unusable, "replication slot s is in use by another process")
        #expect(error.description == "source check failed: replication slot s is in use by another process")
    }

    @Test func theSpoolErrorNamesTheFolderAndTheSetting() {
        let error = SpoolError(directory: "/nope/s", reason: "Permission denied")
        #expect(error.description == "writing Parquet failed: spool directory /nope/s ([task] spool_dir) is not usable: Permission denied")
    }
}
