#!/usr/bin/env python3
"""The fault harness (issue 7): replicatord in service mode under kill -9, PostgreSQL restarts, a
flaky store and a full spool disk, while a workload makes counted changes; then a final --once,
the oracle's row-by-row comparison, the CDC row count against the changes made, and no multipart
upload left open.

    chaos.py --binary PATH [--long] [--minutes M] [--kills N] [--seed N] [--own-cluster] [--work DIR]

Uses the test bed's servers from the environment (scripts/testbed.sh exports them):
REPLICATORD_TEST_S3_ENDPOINT + AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (moto_server), and
REPLICATORD_TEST_PG + REPLICATORD_TEST_PG_DATA (+ REPLICATORD_TEST_PG_USER when run as root) for the
PostgreSQL cluster it restarts. With --own-cluster it makes a cluster of its own instead (initdb into
the work folder), so restarting PostgreSQL disturbs nothing else (the Swift integration test uses it
while other suites share the test bed's cluster).

The store is reached through scripts/s3_fault_proxy.py (its control listener switches faults on and
off). The workload pauses between transactions while PostgreSQL restarts, so every commit it counts
is known to have happened; a COMMIT whose answer is lost is settled by a marker table that is not
published. Prints a summary and one JSON line ("chaos summary"); exits 1 when anything differs.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3
import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
TABLES = ["public.bulk", "public.docs", "public.items", "public.nokey"]
T0 = time.monotonic()


def log(msg):
    print("chaos %6.1fs: %s" % (time.monotonic() - T0, msg), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Summary:
    def __init__(self):
        self.kills = 0
        self.kills_during_full_load = 0
        self.kills_mid_multipart = 0
        self.daemon_exits = 0
        self.pg_restarts = {"fast": 0, "immediate": 0}
        self.faults = {"slowdown_windows": 0, "reset_windows": 0, "latency_windows": 0, "refuse_windows": 0,
                       "disk_full": 0}
        self.disk_full = "not run"
        self.changes = {t: 0 for t in TABLES}
        self.transactions = 0
        self.largest_transaction = 0
        self.ambiguous_commits = 0
        self.problems = []


S = Summary()


# ---------------------------------------------------------------------------------------------- PostgreSQL

class Cluster:
    """The PostgreSQL cluster under test: the test bed's, or one of our own (--own-cluster)."""

    def __init__(self, args, work):
        self.run_as = []
        user = os.environ.get("REPLICATORD_TEST_PG_USER", "replicatordtest")
        if os.getuid() == 0:
            self.run_as = ["runuser", "-u", user, "--"]
        if args.own_cluster:
            home = os.path.join(work, "pg")
            os.makedirs(home)
            if os.getuid() == 0:
                subprocess.run(["useradd", "-M", "-r", "-s", "/bin/bash", user], capture_output=True)
                shutil.chown(home, user)
                os.chmod(work, 0o755)
            self.data = os.path.join(home, "data")
            self.log = os.path.join(home, "pg.log")
            subprocess.run(self.run_as + [PG_BIN + "/initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                                          "--no-sync", "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
            port = free_port()
            with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
                f.write(f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{home}'\n"
                        "wal_level = logical\nmax_replication_slots = 10\nmax_wal_senders = 10\nfsync = off\n"
                        "full_page_writes = off\nshared_buffers = 128MB\nmax_wal_size = 2GB\n")
            with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
                f.write("local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n")
            self.ctl("start")
            self.admin = f"host=127.0.0.1 port={port} dbname=postgres user=postgres"
            self.own = True
        else:
            self.data = os.environ["REPLICATORD_TEST_PG_DATA"]
            self.log = os.path.join(os.path.dirname(self.data), "pg.log")
            self.admin = os.environ["REPLICATORD_TEST_PG"]
            self.own = False

    def ctl(self, *command):
        subprocess.run(self.run_as + [PG_BIN + "/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "120"]
                       + list(command), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def restart(self, mode):
        self.ctl("restart", "-m", mode)

    def stop(self):
        if self.own:
            try:
                self.ctl("stop", "-m", "immediate")
            except subprocess.CalledProcessError:
                pass


def connect(conninfo, attempts=120):
    for i in range(attempts):
        try:
            return psycopg2.connect(conninfo)
        except psycopg2.OperationalError:
            if i == attempts - 1:
                raise
            time.sleep(0.5)


SCHEMA = """
CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL, s text, ts timestamptz NOT NULL DEFAULT now());
CREATE TABLE docs (id int PRIMARY KEY, n int NOT NULL, body text);
ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;   -- out of line, never compressed: TOASTed
CREATE TABLE bulk (id bigint PRIMARY KEY, pad text NOT NULL, x double precision);
CREATE TABLE nokey (k bigint NOT NULL, v text);
ALTER TABLE nokey REPLICA IDENTITY FULL;
CREATE TABLE chaos_txlog (tx bigint PRIMARY KEY);          -- not published: settles lost COMMIT answers
CREATE PUBLICATION chaos FOR TABLE items, docs, bulk, nokey;
INSERT INTO items (id, v, s) SELECT g, g % 97, md5(g::text) FROM generate_series(1, 20000) g;
INSERT INTO docs SELECT g, 0, (SELECT string_agg(md5(g::text || '-' || i), '') FROM generate_series(1, 100) i)
  FROM generate_series(1, 300) g;
INSERT INTO bulk SELECT g, md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text), g / 7.0
  FROM generate_series(1, BULK_ROWS) g;
INSERT INTO nokey SELECT g, md5(g::text) FROM generate_series(1, 2000) g;
"""


class Workload(threading.Thread):
    """Random counted changes on the four published tables until stopped."""

    def __init__(self, conninfo, seed, big_share):
        super().__init__(daemon=True)
        self.conninfo = conninfo
        self.rng = random.Random(seed)
        self.big_share = big_share
        self.stop_flag = threading.Event()
        self.pause_flag = threading.Event()
        self.idle = threading.Event()
        self.lock = threading.Lock()
        self.requests = []          # extra transactions asked for by the fault schedule
        self.error = None
        self.next = {"items": 20001, "docs": 301, "bulk": 10_000_001, "nokey": 2001}
        self.tx = 0
        self.completed = 0          # asked-for transactions committed

    def ask(self, kind, rows):
        with self.lock:
            self.requests.append((kind, rows))

    def pending(self):
        with self.lock:
            return len(self.requests)

    def pause(self):
        """Returns once the workload sits between transactions, and keeps it there."""
        self.idle.clear()
        self.pause_flag.set()
        self.idle.wait()

    def resume(self):
        self.pause_flag.clear()

    def run(self):
        try:
            self.loop()
        except Exception as e:  # reported by the main thread
            self.error = repr(e)
            self.idle.set()

    def new_id(self, table, n=1):
        first = self.next[table]
        self.next[table] += n
        return first

    def loop(self):
        conn = connect(self.conninfo)
        while not self.stop_flag.is_set():
            if self.pause_flag.is_set():
                self.idle.set()
                time.sleep(0.05)
                continue
            with self.lock:
                request = self.requests.pop(0) if self.requests else None
            self.tx += 1
            counts = {t: 0 for t in TABLES}
            try:
                with conn.cursor() as cur:
                    if request:
                        self.big(cur, counts, *request)
                    else:
                        self.small(cur, counts)
                    cur.execute("INSERT INTO chaos_txlog VALUES (%s)", (self.tx,))
                try:
                    conn.commit()
                    committed = True
                except psycopg2.Error:
                    # The answer to COMMIT was lost: whether it happened is in the marker table.
                    S.ambiguous_commits += 1
                    conn = connect(self.conninfo)
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1 FROM chaos_txlog WHERE tx = %s", (self.tx,))
                        committed = cur.fetchone() is not None
                    conn.commit()
                if committed:
                    if request:
                        self.completed += 1
                    for t, n in counts.items():
                        S.changes[t] += n
                    S.transactions += 1
                    S.largest_transaction = max(S.largest_transaction, sum(counts.values()))
                elif request:
                    with self.lock:
                        self.requests.insert(0, request)
            except psycopg2.Error:
                try:
                    conn.rollback()
                except psycopg2.Error:
                    pass
                if request:
                    with self.lock:
                        self.requests.insert(0, request)
                if conn.closed:
                    conn = connect(self.conninfo)
                else:
                    try:
                        conn.cursor().execute("SELECT 1")
                        conn.rollback()
                    except psycopg2.Error:
                        conn = connect(self.conninfo)
            time.sleep(self.rng.uniform(0, 0.05))
        conn.close()
        self.idle.set()

    def big(self, cur, counts, kind, rows):
        """A large transaction: `rows` inserts into bulk, or an update of that many of its rows."""
        if kind == "insert":
            first = self.new_id("bulk", rows)
            cur.execute("INSERT INTO bulk SELECT g, md5(g::text) || md5((g * 3)::text) || md5((g * 7)::text), g / 3.0 "
                        "FROM generate_series(%s::bigint, %s::bigint) g", (first, first + rows - 1))
            counts["public.bulk"] += cur.rowcount
        elif kind == "update":
            cur.execute("UPDATE bulk SET x = x + 1 WHERE id IN (SELECT id FROM bulk ORDER BY id LIMIT %s)", (rows,))
            counts["public.bulk"] += cur.rowcount
        elif kind == "truncate":
            cur.execute("TRUNCATE " + rows)
            counts["public." + rows] += 1

    def small(self, cur, counts):
        rng = self.rng
        if rng.random() < self.big_share:
            # Transactions of 1 to 100,000 rows, most of them small (log-uniform sizes).
            rows = int(10 ** rng.uniform(0, 5))
            self.big(cur, counts, rng.choice(["insert", "insert", "update"]), rows)
            return
        if rng.random() < 0.004:
            # Now and then a TRUNCATE: one T row, the table is empty there.
            self.big(cur, counts, "truncate", rng.choice(["items", "nokey"]))
            return
        for _ in range(rng.randint(1, 20)):
            r = rng.random()
            if r < 0.25:
                n = rng.randint(1, 50)
                first = self.new_id("items", n)
                cur.execute("INSERT INTO items (id, v, s) SELECT g, g %% 13, md5(random()::text) "
                            "FROM generate_series(%s::bigint, %s::bigint) g", (first, first + n - 1))
                counts["public.items"] += cur.rowcount
            elif r < 0.40:
                hi = self.next["items"]
                lo = rng.randint(1, hi)
                cur.execute("UPDATE items SET v = v + 1, s = md5(random()::text) WHERE id BETWEEN %s AND %s", (lo, lo + rng.randint(0, 5)))
                counts["public.items"] += cur.rowcount
            elif r < 0.48:
                # Primary-key change: written as D of the old key, then I of the new row.
                new = self.new_id("items")
                cur.execute("UPDATE items SET id = %s WHERE id = %s", (new, rng.randint(1, new - 1)))
                counts["public.items"] += 2 * cur.rowcount
            elif r < 0.56:
                lo = rng.randint(1, self.next["items"])
                cur.execute("DELETE FROM items WHERE id BETWEEN %s AND %s", (lo, lo + rng.randint(0, 3)))
                counts["public.items"] += cur.rowcount
            elif r < 0.66:
                # Leaves the large TOASTed body unchanged: not sent by the server.
                cur.execute("UPDATE docs SET n = n + 1 WHERE id = %s", (rng.randint(1, self.next["docs"]),))
                counts["public.docs"] += cur.rowcount
            elif r < 0.70:
                cur.execute("UPDATE docs SET body = (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 120)) "
                            "WHERE id = %s", (rng.randint(1, self.next["docs"]),))
                counts["public.docs"] += cur.rowcount
            elif r < 0.74:
                cur.execute("INSERT INTO docs SELECT %s, 0, (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 100))",
                            (self.new_id("docs"),))
                counts["public.docs"] += cur.rowcount
            elif r < 0.77:
                cur.execute("DELETE FROM docs WHERE id = %s", (rng.randint(1, self.next["docs"]),))
                counts["public.docs"] += cur.rowcount
            elif r < 0.85:
                cur.execute("INSERT INTO nokey VALUES (%s, md5(random()::text))", (self.new_id("nokey"),))
                counts["public.nokey"] += cur.rowcount
            elif r < 0.92:
                # No key, REPLICA IDENTITY FULL: an update is D of the old row, then I of the new one.
                cur.execute("UPDATE nokey SET v = md5(random()::text) WHERE k = %s", (rng.randint(1, self.next["nokey"]),))
                counts["public.nokey"] += 2 * cur.rowcount
            elif r < 0.96:
                cur.execute("DELETE FROM nokey WHERE k = %s", (rng.randint(1, self.next["nokey"]),))
                counts["public.nokey"] += cur.rowcount
            else:
                cur.execute("UPDATE bulk SET x = -x WHERE id = %s", (rng.randint(1, 1000),))
                counts["public.bulk"] += cur.rowcount


# ---------------------------------------------------------------------------------------------- the store

class Proxy:
    def __init__(self, upstream, seed, work):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "s3_fault_proxy.py"), upstream, "--control", "--seed", str(seed),
             "--lifetime", "86400", "--max-connections", "256"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(os.path.join(work, "proxy.log"), "w"), text=True)
        self.port = int(self.process.stdout.readline().split()[1])
        self.control = int(self.process.stdout.readline().split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def call(self, path, body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.control}{path}",
                                     data=None if body is None else json.dumps(body).encode(),
                                     method="GET" if body is None else "POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def stats(self):
        return self.call("/stats")

    def faults(self, **kw):
        return self.call("/faults", kw)

    def calm(self):
        return self.faults(slowdown=0, reset=0, latency=0, refuse_seconds=0)

    def stop(self):
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


# ---------------------------------------------------------------------------------------------- the daemon

class Daemon:
    """replicatord in service mode; restarted like systemd's Restart=on-failure when it exits."""

    def __init__(self, binary, config, logfile):
        self.binary, self.config, self.logfile = binary, config, logfile
        self.process = None
        self.lock = threading.Lock()
        self.supervise = True
        threading.Thread(target=self.watch, daemon=True).start()

    def start(self):
        with self.lock:
            if self.process and self.process.poll() is None:
                return
            out = open(self.logfile, "a")
            self.process = subprocess.Popen([self.binary, "--config", self.config], stdout=out, stderr=out,
                                            stdin=subprocess.DEVNULL)
            out.close()

    def kill(self):
        with self.lock:
            if self.process and self.process.poll() is None:
                self.process.send_signal(signal.SIGKILL)
                self.process.wait()
                S.kills += 1
                return True
            return False

    def terminate(self):
        with self.lock:
            self.supervise = False
            if self.process and self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=180)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
                    S.problems.append("the daemon did not stop within 180 s of SIGTERM")
                    return None
            return self.process.returncode if self.process else None

    def watch(self):
        while True:
            time.sleep(0.5)
            with self.lock:
                if not self.supervise or self.process is None:
                    continue
                code = self.process.poll()
                if code is None or code == -signal.SIGKILL:
                    continue
            S.daemon_exits += 1
            log(f"the daemon exited by itself with status {code}; restarting it (as systemd would)")
            time.sleep(1)
            with self.lock:
                if not self.supervise:
                    continue
            self.start()


class Store:
    """Direct access to moto_server (not through the proxy) to read the checkpoint and the uploads."""

    def __init__(self, endpoint, bucket, prefix):
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        self.bucket, self.prefix = bucket, prefix

    def state(self):
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + "/_replicatord/state.json")["Body"].read()
            return json.loads(body)
        except self.s3.exceptions.NoSuchKey:
            return None

    def open_uploads(self):
        return self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])


def lsn(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def wait_for(what, timeout, check, step=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except Exception:
            pass
        time.sleep(step)
    S.problems.append(f"timed out after {timeout:.0f} s waiting for {what}")
    log(f"PROBLEM: timed out waiting for {what}")
    return False


def health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
    except (OSError, ValueError):
        return None, {}


# ---------------------------------------------------------------------------------------------- the run

def kill_mid_multipart(daemon, proxy, timeout, what):
    """Kills the daemon while a multipart upload is open (created, parts going, not completed)."""
    base = proxy.stats()
    def in_upload():
        s = proxy.stats()
        return (s["mpu_created"] > base["mpu_created"] and s["parts"] > base["parts"]
                and s["mpu_created"] > s["mpu_completed"] + s["mpu_aborted"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if in_upload():
            time.sleep(random.uniform(0, 0.3))
            if daemon.kill():
                S.kills_mid_multipart += 1
                log(f"kill -9 in the middle of a multipart upload ({what})")
                return True
        time.sleep(0.05)
    log(f"no multipart upload seen within {timeout:.0f} s ({what}); killing at a random moment instead")
    daemon.kill()
    return False


# Fault windows of the store, 15 s each: the proxy's settings and how the log names them.
STORE_WINDOWS = {
    "slowdown": (dict(slowdown=0.3), "30 % of requests answered 503 SlowDown"),
    "reset": (dict(reset=0.1), "10 % of connections reset mid-body"),
    "latency": (dict(latency=0.7, max_latency_ms=3000), "up to 3 s of added latency on 70 % of requests"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--long", action="store_true", help="the long form: 30 minutes, at least 20 kills")
    ap.add_argument("--minutes", type=float, help="how long the CDC phase runs (default 2.5, --long 30)")
    ap.add_argument("--kills", type=int, help="kill -9 count (default 5, --long 24)")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--own-cluster", action="store_true")
    ap.add_argument("--bulk-rows", type=int, default=120_000, help="rows of public.bulk before the full load")
    ap.add_argument("--big-share", type=float, help="share of transactions of 1 to 100,000 rows (default 0.02, --long 0.005)")
    ap.add_argument("--work")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    minutes = args.minutes if args.minutes is not None else (30 if args.long else 2.5)
    kills_wanted = args.kills if args.kills is not None else (24 if args.long else 5)
    refuse_seconds = 30 if args.long else 12
    random.seed(args.seed)
    log(f"seed {args.seed}, CDC phase {minutes} min, {kills_wanted} kills, binary {args.binary}")

    work = args.work or tempfile.mkdtemp(prefix="replicatord-chaos.")
    moto = os.environ["REPLICATORD_TEST_S3_ENDPOINT"]
    cluster = proxy = daemon = tmpfs = None
    ok = False
    try:
        cluster = Cluster(args, work)
        dbname = "chaos_%d_%d" % (os.getpid(), time.time())
        admin = connect(cluster.admin)
        admin.autocommit = True
        admin.cursor().execute(f"CREATE DATABASE {dbname}")
        admin.close()
        conninfo = cluster.admin + f" dbname={dbname}"
        conn = connect(conninfo)
        with conn.cursor() as cur:
            cur.execute(SCHEMA.replace("BULK_ROWS", str(args.bulk_rows)))
        conn.commit()
        conn.close()

        bucket = "chaos-%d-%d" % (os.getpid(), time.time())
        store = Store(moto, bucket, "replica")
        store.s3.create_bucket(Bucket=bucket)
        proxy = Proxy(moto, args.seed, work)

        spool = os.path.join(work, "spool")
        os.makedirs(spool)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", spool], capture_output=True, text=True)
        if r.returncode == 0:
            tmpfs = spool
        else:
            S.disk_full = "skipped: mounting a tmpfs for the spool was not permitted (%s)" % (r.stderr.strip() or r.returncode)
            log(S.disk_full)

        health_port = free_port()
        config = os.path.join(work, "replicatord.toml")
        with open(config, "w") as f:
            f.write(f"""[source]
conninfo = "{conninfo}"
publication = "chaos"
slot = "{dbname}"
[target]
url = "s3://{bucket}/replica"
endpoint = "{proxy.url}"
path_style = true
part_size_mib = 5
upload_parallelism = 2
[task]
max_file_size_mib = 8
parallel_tables = 2
spool_dir = "{spool}"
[parquet]
compression = "none"
row_group_mib = 1
[schedule]
interval_seconds = 2
[health]
listen = "127.0.0.1:{health_port}"
[log]
level = "info"
""")
        daemon_log = os.path.join(work, "daemon.log")
        daemon = Daemon(args.binary, config, daemon_log)

        # Phase 1: the full load (no changes meanwhile, so every later change is a CDC row), with the
        # store slowed down and the daemon killed twice in the middle of multipart uploads.
        log(f"phase 1: full load of {args.bulk_rows} + 22,300 rows through a slowed store, killed mid-upload")
        proxy.faults(latency=0.5, max_latency_ms=400)
        S.faults["latency_windows"] += 1
        for i in range(2):
            daemon.start()
            kill_mid_multipart(daemon, proxy, 90, "full load")
            S.kills_during_full_load += 1
            time.sleep(0.5)
        proxy.faults(latency=0.2, max_latency_ms=200, slowdown=0.05)
        S.faults["slowdown_windows"] += 1
        daemon.start()
        wait_for("the full load to finish", 600, lambda: (store.state() or {}).get("phase") == "cdc")
        proxy.calm()
        log("full load done: " + json.dumps(proxy.stats()))

        # Phase 2: counted changes while the faults come, spread over the phase.
        big_share = args.big_share if args.big_share is not None else (0.005 if args.long else 0.02)
        workload = Workload(conninfo, args.seed, big_share=big_share)
        workload.start()
        end = time.monotonic() + minutes * 60
        kills_left = kills_wanted - S.kills
        events = []
        rounds = max(1, int(minutes / 2.5))
        for _ in range(rounds):
            events += ["restart-fast", "restart-immediate", "slowdown", "reset", "refuse", "latency", "big-multipart-kill"]
        events += ["kill"] * max(0, kills_left - rounds)
        if tmpfs:
            events.insert(len(events) // 2, "disk-full")
        random.shuffle(events)
        gap = (end - time.monotonic()) / (len(events) + 1)
        for event in events:
            time.sleep(random.uniform(0.5 * gap, gap))
            if workload.error:
                raise RuntimeError("workload failed: " + workload.error)
            if event == "kill":
                time.sleep(random.uniform(0, 2))
                if daemon.kill():
                    log("kill -9 at a random moment")
                time.sleep(random.uniform(0, 1.5))
                daemon.start()
            elif event == "big-multipart-kill":
                workload.ask("insert", 60_000)
                kill_mid_multipart(daemon, proxy, 60, "CDC file of a 60,000-row transaction")
                time.sleep(0.5)
                daemon.start()
            elif event.startswith("restart-"):
                mode = event.split("-", 1)[1]
                workload.pause()
                log(f"pg_ctl restart -m {mode} while the daemon streams")
                cluster.restart(mode)
                S.pg_restarts[mode] += 1
                workload.resume()
            elif event in STORE_WINDOWS:
                faults, what = STORE_WINDOWS[event]
                proxy.faults(**faults)
                S.faults[event + "_windows"] += 1
                log(f"store: {what} for 15 s")
                time.sleep(15)
                proxy.calm()
            elif event == "refuse":
                proxy.faults(refuse_seconds=refuse_seconds)
                S.faults["refuse_windows"] += 1
                log(f"store: every connection refused for {refuse_seconds} s")
                time.sleep(refuse_seconds + 1)
            elif event == "disk-full":
                disk_full(workload, store, tmpfs, health_port, conninfo)
        # Any asked-for transaction still queued runs before the workload stops.
        wait_for("the queued transactions", 300, lambda: workload.pending() == 0)
        workload.stop_flag.set()
        workload.join(120)
        if workload.error:
            raise RuntimeError("workload failed: " + workload.error)
        proxy.calm()

        # The end: stop the service, one last --once, then compare everything.
        code = daemon.terminate()
        log(f"SIGTERM: the daemon exited {code}")
        r = subprocess.run([args.binary, "--config", config, "--once"], capture_output=True, text=True)
        with open(daemon_log, "a") as f:
            f.write(r.stdout + r.stderr)
        if r.returncode != 0:
            S.problems.append(f"final --once exited {r.returncode}: {r.stderr.strip()[-500:]}")
        ok = verify(args, conninfo, store, moto, bucket, daemon_log, proxy)
    except Exception as e:
        S.problems.append(f"harness error: {e!r}")
        log(f"PROBLEM: {e!r}")
        import traceback
        traceback.print_exc()
    finally:
        if daemon:
            daemon.terminate()
        if proxy:
            proxy.stop()
        if tmpfs:
            subprocess.run(["umount", "-l", tmpfs], capture_output=True)
        if cluster:
            cluster.stop()
        if args.keep or not ok:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()
    os._exit(0 if ok else 1)


def disk_full(workload, store, tmpfs, health_port, conninfo):
    """Fills the spool's tmpfs, makes a transaction large enough to spill, checks the daemon reports
    it and holds its position, frees the space and checks it catches up."""
    S.faults["disk_full"] += 1
    st = os.statvfs(tmpfs)
    filler = os.path.join(tmpfs, "filler")
    with open(filler, "wb") as f:
        room = st.f_bavail * st.f_frsize - 256 * 1024
        while room > 0:
            n = min(room, 1 << 20)
            f.write(b"\0" * n)
            room -= n
    log("spool tmpfs filled (256 KiB left); a 100,000-row transaction must spill")
    before = workload.completed
    workload.ask("insert", 100_000)
    if not wait_for("the spilling transaction to commit", 300, lambda: workload.completed > before):
        os.remove(filler)
        return
    conn = connect(conninfo)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_current_wal_lsn()::text")
        after = lsn(cur.fetchone()[0])
    conn.close()
    seen = []
    def full_reported():
        status, body = health(health_port)
        error = json.dumps(body.get("last_error") or {})
        if "space" in error.lower():
            seen.append("%s %s" % (status, (body.get("last_error") or {}).get("message", "")[:200]))
            return True
        return False
    reported = wait_for("the daemon to report the full spool on /health", 120, full_reported, step=0.3)
    state = store.state() or {}
    held = lsn(state.get("confirmedLSN", "0/0")) < after
    if not held:
        S.problems.append("the confirmed LSN moved past a transaction that could not be spooled")
    time.sleep(5)
    os.remove(filler)
    log("spool space freed")
    caught_up = wait_for("the daemon to catch up after the spool had room again", 240,
                         lambda: lsn((store.state() or {}).get("confirmedLSN", "0/0")) >= after)
    S.disk_full = "reported on /health: %s, position held: %s, recovered: %s" % (
        "yes" if reported else "NO", "yes" if held else "NO", "yes" if caught_up else "NO")
    log("disk full: " + S.disk_full + (" (/health: %s)" % seen[0] if seen else ""))



def verify(args, conninfo, store, moto, bucket, daemon_log, proxy):
    out = subprocess.run([sys.executable, os.path.join(HERE, "oracle.py"), "--conninfo", conninfo,
                          "--s3", moto, bucket, "replica"] + TABLES, capture_output=True, text=True)
    results = {}
    for line in out.stdout.splitlines():
        try:
            o = json.loads(line)
            results[o["table"]] = o
        except ValueError:
            pass
    rows_compared = mismatches = duplicates = lost = 0
    cdc_rows = 0
    for t in TABLES:
        o = results.get(t)
        if o is None:
            S.problems.append(f"the oracle gave no result for {t}: {out.stderr.strip()[-400:]}")
            mismatches += 1
            continue
        rows_compared += o["source_rows"]
        mismatches += o["lost"] + o["extra"] + o["differ"] + len(o["problems"])
        cdc_rows += o["cdc_rows"]
        if o["cdc_rows"] > S.changes[t]:
            duplicates += o["cdc_rows"] - S.changes[t]
        elif o["cdc_rows"] < S.changes[t]:
            lost += S.changes[t] - o["cdc_rows"]
        if o["problems"]:
            S.problems += [f"{t}: {p}" for p in o["problems"][:5]]
        if not o["ok"] or o["cdc_rows"] != S.changes[t]:
            S.problems.append(f"{t}: oracle ok={o['ok']} source {o['source_rows']} rebuilt {o['rebuilt_rows']} "
                              f"lost {o['lost']} extra {o['extra']} differ {o['differ']}; CDC rows {o['cdc_rows']}, "
                              f"changes made {S.changes[t]}")
    uploads = store.open_uploads()
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    with open(daemon_log, errors="replace") as f:
        text = f.read()
    leaked = bool(secret) and secret in text
    orphans_aborted = text.count("aborted a multipart upload left open")
    if leaked:
        S.problems.append("the AWS secret key appears in the daemon's output")
    stats = proxy.stats()
    changes = sum(S.changes.values())
    summary = {
        "kills": S.kills, "kills_during_full_load": S.kills_during_full_load, "kills_mid_multipart": S.kills_mid_multipart,
        "daemon_self_exits_restarted": S.daemon_exits,
        "pg_restarts": S.pg_restarts,
        "faults": dict(S.faults, proxy_slowdown_503=stats["slowdown"], proxy_resets=stats["reset"],
                       proxy_latency=stats["latency"], proxy_refused=stats["refused"]),
        "disk_full": S.disk_full,
        "transactions": S.transactions, "largest_transaction": S.largest_transaction,
        "ambiguous_commits": S.ambiguous_commits,
        "changes_made": changes, "changes_by_table": S.changes, "cdc_rows": cdc_rows,
        "rows_compared": rows_compared, "mismatches": mismatches, "duplicates": duplicates, "lost": lost,
        "open_multipart_uploads": len(uploads), "orphaned_uploads_aborted_at_start": orphans_aborted,
        "secret_in_output": leaked,
    }
    ok = (mismatches == 0 and duplicates == 0 and lost == 0 and not uploads and not leaked
          and not S.problems and S.kills >= (args.kills if args.kills is not None else (24 if args.long else 5)))
    if S.kills < (args.kills if args.kills is not None else (24 if args.long else 5)):
        S.problems.append(f"only {S.kills} kills were made")
    print()
    print("chaos summary (seed %d, %.1f min)" % (args.seed, (time.monotonic() - T0) / 60))
    print("  kills -9             %d (%d during the full load, %d mid multipart upload)" % (S.kills, S.kills_during_full_load, S.kills_mid_multipart))
    print("  daemon self-exits    %d (restarted)" % S.daemon_exits)
    print("  PostgreSQL restarts  %d fast, %d immediate" % (S.pg_restarts["fast"], S.pg_restarts["immediate"]))
    print("  store faults         %s" % ", ".join(f"{k} {v}" for k, v in summary["faults"].items()))
    print("  disk full            %s" % S.disk_full)
    print("  changes made         %d in %d transactions (largest %d rows)" % (changes, S.transactions, S.largest_transaction))
    print("  CDC rows             %d" % cdc_rows)
    print("  rows compared        %d" % rows_compared)
    print("  mismatches           %d" % mismatches)
    print("  duplicates           %d" % duplicates)
    print("  lost                 %d" % lost)
    print("  open uploads         %d (%d left by kills, aborted by the next start)" % (len(uploads), orphans_aborted))
    print("  secret in output     %s" % ("YES" if leaked else "no"))
    for p in S.problems:
        print("  PROBLEM: " + p)
    print("  result               %s" % ("PASS" if ok else "FAIL"))
    print("chaos summary json: " + json.dumps(summary), flush=True)
    return ok


if __name__ == "__main__":
    main()
