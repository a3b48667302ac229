import Foundation
import PGClient
import Replication

/// Benchmark driver for scripts/bench-*: runs one measured piece of work and prints one
/// `key=value` line that the script tabulates. Not a test.
///
///   replicatord-bench copy-decode CONNINFO SCHEMA.TABLE   read + decode a table with binary COPY
@main
struct ReplicatordBench {
    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count >= 2 else { usage() }
        switch args[1] {
        case "copy-decode" where args.count == 4:
            try await copyDecode(conninfo: args[2], table: args[3])
        default:
            usage()
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: replicatord-bench copy-decode CONNINFO SCHEMA.TABLE\n".utf8))
        exit(2)
    }

    /// Reads every row of the table through ``SnapshotReader`` and decodes it into column batches.
    static func copyDecode(conninfo: String, table qualified: String) async throws {
        let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { usage() }
        let (rows, seconds, checksum) = try await DedicatedThread.run(name: "bench") { () throws -> (Int64, Double, Int) in
            let connection = try PGConnection(conninfo: conninfo)
            let r = try connection.query("SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2", parts)
            guard let oid = r.rows.first?[0].flatMap({ UInt32($0) }) else { throw PGError(.queryFailed, "no table \(qualified)") }
            let table = TableDescription(oid: oid, schema: parts[0], name: parts[1],
                                         columns: try Catalog.tableColumns(oid: oid, on: connection),
                                         replicaIdentity: "d", estimatedRows: -1)
            var checksum = 0
            let start = ContinuousClock.now
            let rows = try SnapshotReader(connection: connection).read(table) { batch in
                for column in batch.columns { checksum &+= column.valueCount }
            }
            let elapsed = ContinuousClock.now - start
            return (rows, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, checksum)
        }
        print("rows=\(rows) seconds=\(String(format: "%.3f", seconds)) rows_per_s=\(Int(Double(rows) / seconds)) values=\(checksum)")
    }
}
