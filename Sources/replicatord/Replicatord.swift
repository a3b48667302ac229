import ArgumentParser
import Daemon
import Foundation
import Logging

/// The `replicatord` command line. `replicatord --config FILE` runs the service, `--once` one
/// cycle; `validate`, `check`, `status` and `drop-slot` help operators.
@main
struct Replicatord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicatord",
        abstract: "Replicates a PostgreSQL publication into Parquet files on S3 or a local directory: full load, then CDC.",
        version: BuildInfo.version,
        subcommands: [Run.self, Validate.self, Check.self, Status.self, ReloadTable.self, DDL.self, DropSlot.self],
        defaultSubcommand: Run.self
    )
}

/// Options every subcommand takes.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The TOML configuration file.")
    var config: String = "/etc/replicatord/replicatord.toml"

    /// Loads the configuration, or exits with the loader's one-line error.
    func load() throws -> Configuration {
        do { return try ConfigurationLoader.load(path: config) } catch {
            throw OneLineFailure("\(error)")
        }
    }
}

/// A failure printed as one line on stderr with a non-zero exit status.
struct OneLineFailure: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

extension Configuration {
    /// Bootstraps swift-log with the `[log]` settings (once per process).
    func bootstrapLogging() -> Logger {
        let format: LineLogHandler.Format = log.format == .json ? .json : .logfmt
        let level = log.level
        LoggingSystem.bootstrap { LineLogHandler(label: $0, format: format, level: level) }
        return Logger(label: "replicatord")
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the service (the default), or one cycle with --once.")

    @OptionGroup var options: ConfigOption

    @Flag(name: .long, help: "Run one cycle (the full load if not done, else one CDC cycle up to the server's WAL position now), then exit.")
    var once = false

    @Option(name: .long, help: ArgumentHelp("Seconds an error that cannot heal stays on /health before the process exits non-zero.", visibility: .hidden))
    var fatalExitSeconds: Int = 30

    func run() async throws {
        let config = try options.load()
        let logger = config.bootstrapLogging()
        let engine: Engine
        do {
            engine = Engine(settings: config.engineSettings, store: try config.makeStore(logger: logger), logger: logger, keepStreamOpen: !once)
        } catch {
            throw OneLineFailure("\(error)")
        }
        if once {
            do {
                var outcome = try await engine.runCycle()
                // A cycle whose cut stopped early (the spool ran low) left changes before the
                // server's position of its start: --once stores them all, a cycle at a time.
                while case .cdc(let report) = outcome, report.stoppedEarly {
                    logger.notice(
                        "cdc cycle stored part of the changes (the spool ran low); running another",
                        metadata: ["rows": "\(report.rows)", "lsn.confirmed": "\(report.confirmedLSN)", "lsn.target": "\(report.targetLSN)"])
                    outcome = try await engine.runCycle()
                }
                switch outcome {
                case .fullLoad(let tables): logger.info("full load complete", metadata: ["tables": "\(tables)"])
                case .cdc(let report):
                    logger.info(
                        "cdc cycle complete", metadata: ["files": "\(report.files.count)", "rows": "\(report.rows)", "lsn.confirmed": "\(report.confirmedLSN)"])
                }
            } catch {
                throw OneLineFailure("\(error)")
            }
            return
        }
        let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment)
        do {
            try await ServiceMode.run(
                configuration: config, engine: engine, notifier: notifier,
                fatalExitDelay: .seconds(max(0, fatalExitSeconds)), configPath: options.config, logger: logger)
        } catch {
            throw OneLineFailure(SecretScrubber.scrub("\(error)"))
        }
    }
}

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the configuration file and print the effective settings (no secrets).")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        print(config.effectiveTOML)
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the running service's health (its /health body, for a person); when it does not answer, the checkpoint's table statistics.",
        discussion: "Exits 0 when the service answers healthy or does not answer, 1 when it answers unhealthy.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        let listen = config.health.listen
        let address = "\(listen.host):\(listen.port)"
        if let answer = HealthClient.fetch(host: listen.host, port: listen.port) {
            print(StatusTable.render(answer.report, address: address))
            if !answer.report.healthy { throw ExitCode(1) }
            return
        }
        print("no service answers on \(address) ([health] listen); from the checkpoint in the store:")
        let logger = Logger(label: "replicatord")
        let keeper = CheckpointStore(store: try config.makeStore(logger: logger), logger: logger)
        guard let state = try await keeper.load() else {
            print("no checkpoint yet: the full load has not started")
            return
        }
        print(StatusTable.render(state))
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration, PostgreSQL and the store, and print what would be replicated; changes nothing.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        var logger = Logger(label: "replicatord")
        logger.logLevel = .critical
        let (lines, problems) = await SourceInspection.run(configuration: config, logger: logger)
        lines.forEach { print($0) }
        if !problems.isEmpty {
            var stderr = StandardError()
            for problem in problems { print("problem: \(problem)", to: &stderr) }
            throw ExitCode.failure
        }
        print("ok: ready to replicate (nothing was changed)")
    }
}

struct DropSlot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drop-slot",
        abstract: "Drop the replication slot of the configuration, when it exists and no one is using it.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        do {
            print(try await SlotRemoval.run(configuration: config))
        } catch {
            throw OneLineFailure(SecretScrubber.scrub("\(error)"))
        }
    }
}

struct ReloadTable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload-table",
        abstract: "Load one table again in a fresh snapshot (DMS's \"Reload table data\") while CDC of the others goes on; takes it out of state error.",
        discussion: """
            The running service does it at its next cycle (this command waits for it); when no service answers on \
            [health] listen, this command runs that cycle itself. The table's new LOAD set replaces its files once it is \
            stored and checkpointed, and its changes continue exactly from the new snapshot.
            """)
    @OptionGroup var options: ConfigOption

    @Argument(help: "The table, as schema.table (a table of the public schema may be named alone).")
    var table: String

    @Option(name: .long, help: "Seconds to wait for the running service to do it; the request stays after that.")
    var waitSeconds: Int = 3600

    func run() async throws {
        let config = try options.load()
        guard config.task.migrationType == .fullLoadAndCDC else {
            throw OneLineFailure(
                "reload-table works with migration_type = \"full-load-and-cdc\" (full-load reloads every table each cycle; cdc has no full load)")
        }
        var logger = Logger(label: "replicatord")
        logger.logLevel = .warning
        do {
            let store = try config.makeStore(logger: logger)
            let keeper = CheckpointStore(store: store, logger: logger)
            guard let state = try await keeper.load(), state.phase == .cdc else {
                throw OneLineFailure("the full load has not finished yet: it loads every table, there is nothing to reload")
            }
            guard let key = [table, "public." + table].first(where: { state.tables[$0] != nil }) else {
                throw OneLineFailure(
                    "\(table) is not a replicated table (the checkpoint knows \(state.tables.count): \(state.tables.keys.sorted().prefix(5).joined(separator: ", "))\(state.tables.count > 5 ? ", ..." : ""))"
                )
            }
            try await TableReloadRequest.request(key, in: store)
            let listen = config.health.listen
            if HealthClient.fetch(host: listen.host, port: listen.port) != nil {
                print("the service on \(listen.host):\(listen.port) reloads \(key) at its next cycle; waiting")
                let deadline = ContinuousClock.now + .seconds(waitSeconds)
                while try await TableReloadRequest.isWaiting(key, in: store) {
                    guard ContinuousClock.now < deadline else {
                        throw OneLineFailure("\(key) is not reloaded after \(waitSeconds) s; the request stays and the service will do it")
                    }
                    try await Task.sleep(for: .seconds(1))
                }
            } else {
                print("no service answers on \(listen.host):\(listen.port); reloading \(key) in this process")
                let engine = Engine(settings: config.engineSettings, store: store, logger: config.bootstrapLogging())
                _ = try await engine.runCycle()
            }
            guard let table = try await keeper.load()?.tables[key] else { throw OneLineFailure("\(key) is gone from the checkpoint") }
            if table.status == .error {
                throw OneLineFailure("\(key) is in state error again: \(table.errorMessage ?? "no reason recorded")")
            }
            print("\(key): reloaded, \(table.fullLoadRows) rows in \(table.loadFiles) LOAD file(s), state \(table.status.rawValue)")
        } catch let failure as OneLineFailure {
            throw failure
        } catch {
            throw OneLineFailure(SecretScrubber.scrub("\(error)"))
        }
    }
}

struct DDL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ddl",
        abstract: "Print, per replicated table, the DDL that declares its files to an engine and a view of its current state.",
        discussion: """
            <name>_changes holds every row of the table's LOAD and CDC files; <name> is its current state, from _seq \
            alone. <name> is schema_table in lower case, other characters as _.
            """)
    @OptionGroup var options: ConfigOption

    @Option(name: .long, help: "athena, spark, redshift or duckdb.")
    var engine: String = "athena"

    @Option(name: .long, help: "The database (Athena, Spark) or external schema (Redshift) of the tables.")
    var database: String = "replicatord"

    @Flag(name: .long, help: "Read each table's Iceberg table ([catalog] iceberg) and add <name>_as_of, its state as of a time (duckdb).")
    var iceberg = false

    func run() async throws {
        let config = try options.load()
        guard LakeDefinitions.engines.contains(engine) else {
            throw OneLineFailure("--engine \(engine): expected one of \(LakeDefinitions.engines.joined(separator: ", "))")
        }
        if iceberg && engine != "duckdb" {
            throw OneLineFailure(
                "--iceberg: the engine that reads the Iceberg tables here is duckdb (--engine duckdb); "
                    + "Athena and Trino read them through Glue, Spark with the Iceberg runtime (docs/iceberg.md)")
        }
        if iceberg && !config.catalog.iceberg {
            throw OneLineFailure("--iceberg: the configuration does not keep Iceberg tables (set [catalog] iceberg = true)")
        }
        do {
            print(try await LakeDefinitions.render(configuration: config, engine: engine, database: database, iceberg: iceberg), terminator: "")
        } catch {
            throw OneLineFailure(SecretScrubber.scrub("\(error)"))
        }
    }
}

/// `print(..., to:)` on stderr.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { FileHandle.standardError.write(Data(string.utf8)) }
}
