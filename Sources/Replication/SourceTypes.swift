import PGClient
import PGOutput
import Parquet

// The PostgreSQL and Parquet types the daemon works with, reached through Replication so that
// `Daemon` imports neither PGClient, PGOutput nor Parquet (scripts/check-direction says so).

/// A WAL position (`X/Y`), as pgoutput and the slot functions give it.
public typealias LSN = PGOutput.LSN
/// A failure reported by libpq or PostgreSQL, with its SQLSTATE.
public typealias PGError = PGClient.PGError
/// Where a Parquet writer sends its bytes.
public typealias ParquetSink = Parquet.ParquetSink
/// A file the Parquet writer refuses (a value it cannot take).
public typealias ParquetError = Parquet.ParquetError
/// A local file the writer could not write (errno), as `ParquetError.underlying`.
public typealias ParquetSystemError = Parquet.ParquetSystemError
/// One column's statistics of a written Parquet file (for Iceberg's manifests).
public typealias ParquetColumnSummary = Parquet.ParquetColumnSummary
/// The Parquet writer and its schema, for the daemon's Iceberg day simulation (`replicatord-bench iceberg-day`).
public typealias ParquetWriter = Parquet.ParquetWriter
public typealias ParquetSchema = Parquet.ParquetSchema
public typealias ParquetColumn = Parquet.ParquetColumn
public typealias ParquetMemorySink = Parquet.ParquetMemorySink

extension LSN {
    /// An LSN PostgreSQL printed (`X/Y`); a protocol violation naming `source` when it is not one.
    init(serverText text: String, from source: String) throws {
        guard let lsn = LSN(text) else { throw PGError(.protocolViolation, "\(source) returned \(text), not an LSN") }
        self = lsn
    }
}
