import ArgumentParser
import Daemon

/// The `replicatord` command line: `--config FILE` runs the service, `--once` runs one cycle.
@main
struct Replicatord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicatord",
        abstract: "Replicates a PostgreSQL publication into Parquet files on S3 or a local directory: full load, then CDC.",
        version: BuildInfo.version
    )

    @Option(name: .long, help: "The TOML configuration file.")
    var config: String

    @Flag(name: .long, help: "Run one cycle (the full load if not done, else one CDC cycle), then exit.")
    var once = false

    func run() async throws {
        throw ValidationError("the replication engine has not landed yet (issue 5); nothing to run")
    }
}
