import ArgumentParser
import Foundation
import PGClient

/// `replicatord-datagen`: the successor of the original project's `insert.py`. Creates demo tables
/// (`public.customers`, `public.orders`) and keeps inserting, updating and deleting random rows at a
/// chosen rate, for demos and load tests. Every change is counted and printed at the end, so a
/// test can compare the CDC rows with the changes made.
@main
struct DataGenerator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicatord-datagen",
        abstract: "Create demo tables and make random inserts, updates and deletes at a chosen rate.")

    @Option(help: "libpq conninfo of the database.")
    var conninfo: String

    @Option(help: "Rows of public.orders created at setup (when the table does not exist yet).")
    var initialRows = 10_000

    @Option(help: "Changes per second (0: as fast as possible).")
    var rate = 100.0

    @Option(help: "Stop after this many changes (0: no limit).")
    var count = 1_000

    @Option(help: "Stop after this many seconds (0: no limit).")
    var seconds = 0.0

    @Option(help: "Changes per transaction.")
    var transactionSize = 10

    @Option(help: "Also create the publication of this name for the demo tables (empty: none).")
    var publication = ""

    @Option(help: "Seed of the random choices (0: random).")
    var seed: UInt64 = 0

    @Flag(help: "Only create the tables (and the publication), make no change.")
    var setupOnly = false

    func run() throws {
        let connection = try PGConnection(conninfo: conninfo, applicationName: "replicatord-datagen")
        try setUp(connection)
        if setupOnly {
            print("{\"inserts\": 0, \"updates\": 0, \"deletes\": 0, \"seconds\": 0}")
            return
        }
        var random = SplitMix64(seed: seed == 0 ? UInt64.random(in: 1...UInt64.max) : seed)
        var nextID = Int64(try connection.query("SELECT coalesce(max(id), 0) FROM public.orders").rows[0][0] ?? "0") ?? 0
        var made = (inserts: 0, updates: 0, deletes: 0)
        let started = Date()
        var done = 0
        while (count == 0 || done < count) && (seconds == 0 || Date().timeIntervalSince(started) < seconds) {
            let batch = count == 0 ? transactionSize : min(transactionSize, count - done)
            try connection.query("BEGIN")
            for _ in 0..<batch {
                let roll = random.next() % 100
                if roll < 50 || nextID == 0 {
                    nextID += 1
                    try connection.query(
                        """
                        INSERT INTO public.orders (id, customer_id, status, amount, created_at)
                        VALUES ($1, $2, 'new', $3, now())
                        """, [String(nextID), String(1 + random.next() % 1000), String(Double(random.next() % 100_000) / 100)])
                    made.inserts += 1
                } else {
                    let id = String(1 + Int64(random.next() % UInt64(nextID)))
                    if roll < 85 {
                        let r = try connection.query("UPDATE public.orders SET status = 'updated', amount = amount + 1 WHERE id = $1", [id])
                        if r.commandTag == "UPDATE 1" { made.updates += 1 }
                    } else {
                        let r = try connection.query("DELETE FROM public.orders WHERE id = $1", [id])
                        if r.commandTag == "DELETE 1" { made.deletes += 1 }
                    }
                }
            }
            try connection.query("COMMIT")
            done += batch
            if rate > 0 {
                let due = started.addingTimeInterval(Double(done) / rate)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
        }
        print(
            "{\"inserts\": \(made.inserts), \"updates\": \(made.updates), \"deletes\": \(made.deletes), \"seconds\": \(String(format: "%.2f", Date().timeIntervalSince(started)))}"
        )
    }

    /// Creates the demo tables (and the publication) when they do not exist.
    func setUp(_ connection: PGConnection) throws {
        try connection.query(
            """
            CREATE TABLE IF NOT EXISTS public.customers (id int PRIMARY KEY, name text NOT NULL, vip boolean NOT NULL DEFAULT false)
            """)
        try connection.query("INSERT INTO public.customers SELECT g, 'customer ' || g, g % 10 = 0 FROM generate_series(1, 1000) g ON CONFLICT DO NOTHING")
        let exists = try connection.query("SELECT to_regclass('public.orders') IS NOT NULL").rows[0][0] == "t"
        if !exists {
            try connection.query(
                """
                CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, note text,
                  amount numeric(12,2), created_at timestamptz NOT NULL)
                """)
            try connection.query(
                """
                INSERT INTO public.orders SELECT g, 1 + g % 1000, 'new', md5(g::text), (g % 100000) / 100.0, now()
                FROM generate_series(1, $1::bigint) g
                """, [String(initialRows)])
        }
        if !publication.isEmpty {
            let has = try connection.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication]).rows.isEmpty == false
            if !has {
                try connection.query("CREATE PUBLICATION \(PGConnection.quoteIdentifier(publication)) FOR TABLE public.orders, public.customers")
            }
        }
    }
}

/// A small seeded generator, so a run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
