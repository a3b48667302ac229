@testable import Daemon
import Foundation
import ObjectStore
import PGClient
import PGOutput
import Testing

/// Failures are classified by their type and code, never by their text; an engine error keeps the
/// error that caused it and what it was about.
@Suite struct ErrorKindTests {
    @Test func engineErrorsByCode() {
        #expect(ErrorKind.classify(EngineError(.slotLost, "gone")) == (.slotLost, true))
        #expect(ErrorKind.classify(EngineError(.sourceCheckFailed, "no publication")) == (.sourceCheck, true))
        #expect(ErrorKind.classify(EngineError(.wrongCluster, "other")) == (.checkpoint, true))
        #expect(ErrorKind.classify(EngineError(.stateCorrupt, "bad json")) == (.checkpoint, true))
        #expect(ErrorKind.classify(EngineError(.writeFailed, "disk")) == (.other, false))
        #expect(ErrorKind.classify(EngineError(.cycleOrder, "bug")) == (.other, false))
    }

    @Test func postgresRefusalsByTypeNotText() {
        // The flag PGClient sets where libpq refused the credentials decides, not the words.
        #expect(ErrorKind.classify(PGError(.connectionFailed, "connection to server failed", authenticationRefused: true)) == (.credentials, true))
        #expect(ErrorKind.classify(PGError(.connectionFailed, "password authentication failed for user x")) == (.source, false))
        #expect(ErrorKind.classify(PGError(.queryFailed, "permission denied", sqlState: "28000")) == (.credentials, true))
        #expect(ErrorKind.classify(PGError(.connectionFailed, "database \"x\" does not exist", sqlState: "3D000")) == (.credentials, true))
        #expect(ErrorKind.classify(PGError(.connectionFailed, "connection refused")) == (.source, false))
    }

    @Test func storeErrorsByCode() {
        #expect(ErrorKind.classify(ObjectStoreError(.accessDenied, "no")) == (.credentials, true))
        #expect(ErrorKind.classify(ObjectStoreError(.noSuchBucket, "none")) == (.store, true))
    }

    @Test func glueCatalogFailuresAreTheCatalogsOrARefusedPermission() {
        #expect(ErrorKind.classify(GlueCatalogSync.Failure(description: "glue GetTable: unavailable")) == (.catalog, false))
        #expect(ErrorKind.classify(GlueCatalogSync.Failure(description: "glue GetTable: accessDenied", refused: true)) == (.credentials, true))
        // A write step that failed because of the catalog or the store says which.
        #expect(ErrorKind.classify(EngineError(.writeFailed, "cycle", underlying: GlueCatalogSync.Failure(description: "x"))) == (.catalog, false))
        #expect(ErrorKind.classify(EngineError(.writeFailed, "cycle", underlying: ObjectStoreError(.noSuchBucket, "none"))) == (.store, true))
    }

    @Test func tableFailureIsClassifiedByItsCause() {
        let failure = TableFailure(table: "public.t", underlying: ObjectStoreError(.accessDenied, "refused"))
        #expect(ErrorKind.classify(failure) == (.credentials, true))
    }

    @Test func engineErrorKeepsItsCauseAndContext() throws {
        let cause = PGError(.queryFailed, "relation does not exist", sqlState: "42P01")
        let error = EngineError(
            .stateCorrupt, "state.json cannot be read: \(cause)", underlying: cause,
            context: .init(table: "public.t", lsn: LSN(0x10), key: "_replicatord/state.json"))
        let kept = try #require(error.underlying as? PGError)
        #expect(kept.sqlState == "42P01")
        #expect(error.context.table == "public.t")
        #expect(error.context.lsn == LSN(0x10))
        #expect(error.context.key == "_replicatord/state.json")
        #expect(error.description == "checkpoint state unreadable: state.json cannot be read: \(cause)")
    }

    @Test func unreadableCheckpointKeepsTheDecodingError() throws {
        let error = #expect(throws: EngineError.self) { _ = try Checkpoint.decode(Array("{".utf8)) }
        #expect(error?.underlying is DecodingError)
        #expect(error?.context.key == Checkpoint.key)
    }
}
