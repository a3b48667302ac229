import ObjectStore
import Replication

/// The kind of a failure, as `/metrics` counts them and `/health` names them.
public enum ErrorKind: String, Sendable, CaseIterable {
    /// PostgreSQL could not be reached or refused a query.
    case source
    /// The object store could not be reached or refused a request.
    case store
    /// The replication slot is gone.
    case slotLost = "slot_lost"
    /// The source no longer passes the checks (publication gone, role, wal_level).
    case sourceCheck = "source_check"
    /// The checkpoint cannot be used (another cluster, unreadable, another slot).
    case checkpoint
    /// The Glue Data Catalog (`[catalog] glue_database`) could not be reached or refused a request.
    case catalog
    /// Credentials refused or missing, by PostgreSQL, the store or the catalog.
    case credentials
    /// Anything else (writing Parquet, local files).
    case other

    /// Classifies `error` by its type and code (never its text) and says whether waiting can make
    /// it go away.
    public static func classify(_ error: any Error) -> (kind: ErrorKind, fatal: Bool) {
        switch error {
        case let e as EngineError:
            switch e.code {
            case .slotLost: return (.slotLost, true)
            case .sourceCheckFailed: return (.sourceCheck, true)
            case .wrongCluster, .stateCorrupt: return (.checkpoint, true)
            case .writeFailed, .cycleOrder:
                if let underlying = e.underlying { return classify(underlying) }
                return (.other, false)
            }
        case let e as ReplicationSlotError:
            switch e.kind {
            case .lost: return (.slotLost, true)
            case .unusable: return (.sourceCheck, true)
            }
        case let e as PGError:
            // SQLSTATE class 28: invalid authorization; 3D000: the database does not exist. A
            // connection refused during authentication has no SQLSTATE (libpq reports none before
            // the session exists): PGClient marks it.
            if let state = e.sqlState, state.hasPrefix("28") || state == "3D000" { return (.credentials, true) }
            if e.authenticationRefused { return (.credentials, true) }
            return (.source, false)
        case let e as ObjectStoreError:
            switch e.code {
            case .accessDenied, .credentials: return (.credentials, true)
            case .noSuchBucket, .configuration: return (.store, true)
            default: return (.store, false)
            }
        case let e as GlueCatalogSync.Failure:
            return e.refused ? (.credentials, true) : (.catalog, false)
        case let e as TableFailure:
            return classify(e.underlying)
        default:
            return (.other, false)
        }
    }
}
