# The "tables" section of scripts/bench (issue 20), sourced by it: many small tables, and one wide one.
# Uses bench's measure, config, log, BIN, PY, OUT, RES, TESTBED_DIR, RUNS and QUICK.
#
# Per size N (tables x 100 rows, each `(id int primary key, name text, amount numeric(12,2), at
# timestamptz)`, in schema tN, publication tN FOR TABLES IN SCHEMA tN):
#   COPY binary of every table, one psql session (the reference)
#   the full load into a local directory, an idle --once, one change in every table --once
#   the same into moto_server behind s3_fault_proxy.py --fixed-latency-ms 20 (request counts)
# Checkpoint bytes: the full load's from the daemon's "full load done" line (every write counted),
# a CDC cycle's from the checkpoint objects written during it (local directory).

TABLE_COUNTS=(1000 10000); [ "$QUICK" = 1 ] && TABLE_COUNTS=(200 1000)
[ -n "${BENCH_TABLE_COUNTS:-}" ] && read -r -a TABLE_COUNTS <<< "$BENCH_TABLE_COUNTS"
TROWS=${BENCH_TABLE_ROWS:-100}
# BENCH_TABLES_DIR_ONLY=1: the local directory only (no service, moto or wide table): for other sizes,
# e.g. BENCH_TABLE_COUNTS="1000" BENCH_TABLE_ROWS=1000.
DIR_ONLY=${BENCH_TABLES_DIR_ONLY:-0}
TRES="$TESTBED_DIR/tables.results"; : > "$TRES"
note() { echo "$1|$2|$3" >> "$TRES"; }   # size|what|value
last() { tail -1 "$RES" | cut -d'|' -f"$1"; }   # field of the last measure: 4 wall, 5 cpu, 6 rss

make_tables() {  # schema count: batches of 500 tables per transaction (each holds a lock per table)
  local schema=$1 n=$2 b
  psql -q -X -c "SET client_min_messages = warning; DROP PUBLICATION IF EXISTS $schema; CREATE SCHEMA IF NOT EXISTS $schema"
  for ((b = 1; b <= n; b += 500)); do
    psql -q -X -c "DO \$\$ BEGIN FOR i IN $b..$((b + 499 < n ? b + 499 : n)) LOOP
      EXECUTE format('CREATE TABLE $schema.t%s (id int PRIMARY KEY, name text, amount numeric(12,2), at timestamptz)', i);
      EXECUTE format('INSERT INTO $schema.t%s SELECT g, ''name '' || g, g * 1.25, timestamptz ''2026-01-01'' + g * interval ''1 minute'' FROM generate_series(1, $TROWS) g', i);
    END LOOP; END \$\$"
  done
  psql -q -X -c "CREATE PUBLICATION $schema FOR TABLES IN SCHEMA $schema"
}
change_every_table() {  # schema count: one update in each table, 500 tables per transaction
  local schema=$1 n=$2 b
  for ((b = 1; b <= n; b += 500)); do
    psql -q -X -c "DO \$\$ BEGIN FOR i IN $b..$((b + 499 < n ? b + 499 : n)) LOOP
      EXECUTE format('UPDATE $schema.t%s SET amount = amount + 1 WHERE id = 1', i); END LOOP; END \$\$"
  done
}
checkpoint_bytes_since() {  # dir marker: bytes of checkpoint objects written after the marker file
  find "$1/_replicatord" -type f -newer "$2" -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'
}
logged() {  # key: the value of key=... in the last run's log
  grep -o "$1=[0-9]*" "$TESTBED_DIR/cmd.err" | tail -1 | cut -d= -f2
}
tables_config() {  # url slot publication [endpoint]
  local lines=$S3_LINES
  [ -n "${4:-}" ] && S3_LINES=$(printf 'endpoint = "%s"\npath_style = true' "$4")
  config "$1" "$2" full-load-and-cdc "$3" | sed 's/^level = "warning"/level = "notice"/'
  S3_LINES=$lines
}

PROXY_PID=""
stop_proxy() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null || true; PROXY_PID=""
  exec 7>&- || true
}
start_proxy() {  # sets PROXY_URL, PROXY_CONTROL; the proxy stops when its stdin closes, so it gets a FIFO held open
  rm -f "$TESTBED_DIR/proxy.in"; mkfifo "$TESTBED_DIR/proxy.in"
  "$PY" scripts/s3_fault_proxy.py "$REPLICATORD_TEST_S3_ENDPOINT" --fixed-latency-ms 20 --control \
    --lifetime 7200 --max-connections 128 < "$TESTBED_DIR/proxy.in" > "$TESTBED_DIR/proxy.out" 2> "$TESTBED_DIR/proxy.err" &
  PROXY_PID=$!
  exec 7> "$TESTBED_DIR/proxy.in"
  for _ in $(seq 1 100); do grep -q CONTROL "$TESTBED_DIR/proxy.out" 2>/dev/null && break; sleep 0.1; done
  PROXY_URL="http://127.0.0.1:$(awk '/^PORT/ {print $2}' "$TESTBED_DIR/proxy.out")"
  PROXY_CONTROL="http://127.0.0.1:$(awk '/^CONTROL/ {print $2}' "$TESTBED_DIR/proxy.out")"
}
proxy_requests() { curl -fs "$PROXY_CONTROL/stats" | "$PY" -c 'import json,sys; s=json.load(sys.stdin); print(s["requests"], json.dumps(s["by_operation"], sort_keys=True).replace(" ", ""))'; }

if [ -n "${REPLICATORD_TEST_S3_ENDPOINT:-}" ]; then
  "$PY" -c "import boto3,sys; c=boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1'); c.create_bucket(Bucket='tables')" "$REPLICATORD_TEST_S3_ENDPOINT" 2>/dev/null || true
fi

for N in "${TABLE_COUNTS[@]}"; do
  S="t$N"
  log "tables: creating $N tables x $TROWS rows in schema $S"
  make_tables "$S" "$N"
  for ((i = 1; i <= N; i++)); do echo "COPY $S.t$i TO STDOUT (FORMAT binary);"; done > "$TESTBED_DIR/copy_$S.sql"
  SEC="tables $N"
  for r in $(seq 1 "$RUNS"); do
    measure "$SEC" "COPY binary of every table, one psql" "$N" sh -c "psql -X -q -f '$TESTBED_DIR/copy_$S.sql' > /dev/null"
  done
  note "$N" copy "$(grep "^$SEC|COPY" "$RES" | cut -d'|' -f4 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"

  # ---- local directory
  DIR="$OUT/tables_$N"; rm -rf "$DIR"
  tables_config "file://$DIR" "tab_dir_$N" "$S" > "$TESTBED_DIR/tab_dir.toml"
  measure "$SEC" "full load -> local dir" "$N" "$BIN" --config "$TESTBED_DIR/tab_dir.toml" --once
  note "$N" "dir full load s" "$(last 4)"; note "$N" "dir full load MiB" "$(( $(last 6) / 1024 ))"
  note "$N" "dir full load checkpoint bytes" "$(logged checkpoint.bytes)"
  note "$N" "dir full load checkpoint writes" "$(logged checkpoint.writes)"
  note "$N" "dir LOAD files" "$(find "$DIR" -name 'LOAD*.parquet' | wc -l)"
  for r in $(seq 1 "$RUNS"); do
    touch "$TESTBED_DIR/marker"; sleep 1
    measure "$SEC" "idle --once -> local dir" "$N" "$BIN" --config "$TESTBED_DIR/tab_dir.toml" --once
    note "$N" "dir idle s" "$(last 4)"; note "$N" "dir idle cpu s" "$(last 5)"
    note "$N" "dir idle checkpoint bytes" "$(checkpoint_bytes_since "$DIR" "$TESTBED_DIR/marker")"
  done
  # The service on the same checkpoint: idle cycles every 2 s; CPU per idle cycle (from /proc over
  # about 10 s, no request made meanwhile), then /health, /metrics and `status` timed.
  if [ "$DIR_ONLY" != 1 ]; then
  PORT=$(( 20000 + RANDOM % 20000 ))
  { cat "$TESTBED_DIR/tab_dir.toml"; printf '[schedule]\ninterval_seconds = 2\n[health]\nlisten = "127.0.0.1:%s"\n' "$PORT"; } > "$TESTBED_DIR/tab_svc.toml"
  "$BIN" --config "$TESTBED_DIR/tab_svc.toml" > /dev/null 2> "$TESTBED_DIR/svc.err" &
  SVC=$!
  for _ in $(seq 1 300); do
    # (grep -c, not -q: -q would close the pipe early and pipefail count curl's SIGPIPE as a failure)
    [ "$(curl -fs "http://127.0.0.1:$PORT/metrics" 2>/dev/null | grep -c '^replicatord_cycles_total{kind="cdc"' || true)" -gt 0 ] && break
    sleep 0.2
  done
  cycles() { curl -fs "http://127.0.0.1:$PORT/metrics" | awk '/^replicatord_cycles_total\{kind="cdc"/ {s += $2} END {print s + 0}'; }
  cpu_ticks() { awk '{print $14 + $15}' "/proc/$SVC/stat"; }
  c0=$(cycles); t0=$(cpu_ticks); sleep 10; t1=$(cpu_ticks); c1=$(cycles)
  if [ "$c1" -gt "$c0" ]; then
    # The two scrapes' own cost is inside the window: one scrape's is measured below and subtracted.
    note "$N" "svc idle cycles" "$((c1 - c0))"; note "$N" "svc cpu ms total" "$(( (t1 - t0) * 1000 / $(getconf CLK_TCK) ))"
  fi
  for r in 1 2 3; do
    note "$N" "health s" "$(curl -fs -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/health")"
    note "$N" "metrics s" "$(curl -fs -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/metrics")"
  done
  note "$N" "health bytes" "$(curl -fs "http://127.0.0.1:$PORT/health" | wc -c)"
  note "$N" "metrics bytes" "$(curl -fs "http://127.0.0.1:$PORT/metrics" | wc -c)"
  s0=$(date +%s.%N); "$BIN" status --config "$TESTBED_DIR/tab_svc.toml" > /dev/null 2>&1 || true; s1=$(date +%s.%N)
  note "$N" "status s" "$(echo "$s1 - $s0" | bc)"
  kill -TERM "$SVC"; wait "$SVC" 2>/dev/null || true
  fi

  change_every_table "$S" "$N"
  touch "$TESTBED_DIR/marker"; sleep 1
  measure "$SEC" "one change in every table --once -> local dir" "$N" "$BIN" --config "$TESTBED_DIR/tab_dir.toml" --once
  note "$N" "dir change s" "$(last 4)"; note "$N" "dir change MiB" "$(( $(last 6) / 1024 ))"
  note "$N" "dir change checkpoint bytes" "$(checkpoint_bytes_since "$DIR" "$TESTBED_DIR/marker")"
  note "$N" "dir CDC files" "$(find "$DIR" -name '2*.parquet' | wc -l)"
  drop_slot "tab_dir_$N"

  # ---- moto_server behind the proxy, 20 ms per request
  if [ -n "${REPLICATORD_TEST_S3_ENDPOINT:-}" ] && [ "$DIR_ONLY" != 1 ]; then
    start_proxy
    tables_config "s3://tables/run$N" "tab_s3_$N" "$S" "$PROXY_URL" > "$TESTBED_DIR/tab_s3.toml"
    measure "$SEC" "full load -> moto_server (+20 ms/request)" "$N" "$BIN" --config "$TESTBED_DIR/tab_s3.toml" --once
    note "$N" "s3 full load s" "$(last 4)"; note "$N" "s3 full load MiB" "$(( $(last 6) / 1024 ))"
    note "$N" "s3 full load checkpoint bytes" "$(logged checkpoint.bytes)"
    read -r reqs ops <<< "$(proxy_requests)"; note "$N" "s3 full load requests" "$reqs $ops"
    measure "$SEC" "idle --once -> moto_server (+20 ms/request)" "$N" "$BIN" --config "$TESTBED_DIR/tab_s3.toml" --once
    note "$N" "s3 idle s" "$(last 4)"
    read -r reqs2 ops2 <<< "$(proxy_requests)"; note "$N" "s3 idle requests" "$((reqs2 - reqs))"
    stop_proxy
    drop_slot "tab_s3_$N"
  fi
done

# ---- a table of 1,000 columns: full load and one CDC cycle updating every row, peak RSS
if [ "$DIR_ONLY" != 1 ]; then
WROWS=${BENCH_WIDE_ROWS:-20000}; [ "$QUICK" = 1 ] && WROWS=2000
log "tables: a 1,000-column table, $WROWS rows"
"$PY" - "$WROWS" > "$TESTBED_DIR/wide.sql" <<'PY'
import sys
rows = int(sys.argv[1])
ints = [f"i{k} int" for k in range(1, 500)]
texts = [f"s{k} text" for k in range(1, 501)]
print("SET client_min_messages = warning; DROP PUBLICATION IF EXISTS wide; DROP TABLE IF EXISTS public.wide;")
print("CREATE TABLE public.wide (id int PRIMARY KEY, " + ", ".join(ints + texts) + ");")
vals = [f"g + {k}" for k in range(1, 500)] + [f"'v' || ((g + {k}) % 97)" for k in range(1, 501)]
print(f"INSERT INTO public.wide SELECT g, " + ", ".join(vals) + f" FROM generate_series(1, {rows}) g;")
print("CREATE PUBLICATION wide FOR TABLE public.wide;")
PY
psql -q -X -f "$TESTBED_DIR/wide.sql" >/dev/null
SEC="wide table"
rm -rf "$OUT/wide"; tables_config "file://$OUT/wide" wide wide > "$TESTBED_DIR/wide.toml"
measure "$SEC" "COPY binary (limit)" "$WROWS" sh -c 'psql -X -c "COPY public.wide TO STDOUT (FORMAT binary)" > /dev/null'
note wide "copy s" "$(last 4)"
measure "$SEC" "full load, 1,000 columns -> local dir" "$WROWS" "$BIN" --config "$TESTBED_DIR/wide.toml" --once
note wide "full load s" "$(last 4)"; note wide "full load MiB" "$(( $(last 6) / 1024 ))"
psql -q -X -c "UPDATE public.wide SET i1 = i1 + 1, s500 = s500 || 'x'"
measure "$SEC" "CDC, every row updated, 1,000 columns" "$WROWS" "$BIN" --config "$TESTBED_DIR/wide.toml" --once
note wide "cdc s" "$(last 4)"; note wide "cdc MiB" "$(( $(last 6) / 1024 ))"
note wide "rows in CDC files" "$("$PY" -c "import duckdb,sys; print(duckdb.sql(f\"SELECT count(*) FROM read_parquet('{sys.argv[1]}/public/wide/2*.parquet')\").fetchall()[0][0])" "$OUT/wide")"
drop_slot wide
fi

"$PY" - "$TRES" <<'PY'
import os, sys
notes = {}
for line in open(sys.argv[1]):
    size, what, value = line.rstrip("\n").split("|", 2)
    notes.setdefault(size, {}).setdefault(what, []).append(value)
def one(size, what, f=float):
    v = notes.get(size, {}).get(what)
    if not v or v[-1] in ("", None): return None
    try: return f(v[-1].split()[0])
    except ValueError: return None
def med(size, what):
    v = sorted(float(x) for x in notes.get(size, {}).get(what, []) if x)
    return v[len(v) // 2] if v else None
def fmt(x, unit="s"):
    return "-" if x is None else (f"{x:.2f} {unit}" if unit == "s" else f"{x:,.0f} {unit}")
print("\ntables section (issue 20)")
print("| tables x rows | COPY every table | full load (dir) | x COPY | peak RSS | idle --once (median) | idle CPU | one change/table | checkpoint bytes: load / idle / change | full load (moto +20 ms) | requests |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
sizes = [s for s in notes if s != "wide"]
for s in sizes:
    copy = one(s, "copy"); load = one(s, "dir full load s")
    ratio = f"{load / copy:.1f}x" if copy and load else "-"
    rss = max(filter(None, [one(s, "dir full load MiB"), one(s, "dir change MiB"), one(s, "s3 full load MiB")]), default=None)
    reqs = notes.get(s, {}).get("s3 full load requests", ["-"])[-1]
    print(f"| {int(s):,} x {os.environ.get('BENCH_TABLE_ROWS', '100')} | {fmt(copy)} | {fmt(load)} | {ratio} | {fmt(rss, 'MiB')} | {fmt(med(s, 'dir idle s'))} | {fmt(med(s, 'dir idle cpu s'))} | {fmt(one(s, 'dir change s'))} | "
          f"{fmt(one(s, 'dir full load checkpoint bytes'), 'B')} / {fmt(med(s, 'dir idle checkpoint bytes'), 'B')} / {fmt(one(s, 'dir change checkpoint bytes'), 'B')} | {fmt(one(s, 's3 full load s'))} | {reqs} |")
w = notes.get("wide", {})
if w:
    print(f"wide table (1,000 columns): COPY {fmt(one('wide', 'copy s'))}, full load {fmt(one('wide', 'full load s'))} at {fmt(one('wide', 'full load MiB'), 'MiB')}, "
          f"CDC of every row {fmt(one('wide', 'cdc s'))} at {fmt(one('wide', 'cdc MiB'), 'MiB')} ({w.get('rows in CDC files', ['?'])[-1]} rows in CDC files)")
def mark(ok): return "met" if ok else "NOT met"
big = max((int(s) for s in sizes), default=None); small = min((int(s) for s in sizes), default=None)
print("targets:")
if big:
    b = str(big); sm = str(small)
    load = one(b, "dir full load s")
    if big >= 10000 and load is not None: print(f"  {big:,} tables full load on file:// within 30 s: {load:.1f} s, {mark(load <= 30)}")
    if small and small != big and one(sm, "dir full load s"):
        r = load / one(sm, "dir full load s"); k = big / small
        print(f"  {k:.0f}x the tables cost {r:.1f}x the time ({small:,} -> {big:,}; linear would be {k:.0f}x, target <= {1.1 * k:.1f}x): {mark(r <= 1.1 * k)}")
    idle = med(b, "dir idle s")
    if idle is not None: print(f"  idle --once under 0.3 s at {big:,} tables: {idle:.2f} s, {mark(idle < 0.3)}")
    ch = one(b, "dir change s")
    if ch is not None: print(f"  one change in each of {big:,} tables under 15 s: {ch:.1f} s, {mark(ch < 15)}")
    cb = [one(s, "dir full load checkpoint bytes") for s in sorted(sizes, key=int)]
    if len(cb) == 2 and all(cb):
        print(f"  checkpoint bytes per full load O(tables): {cb[0]:,.0f} -> {cb[1]:,.0f} B, {cb[1] / cb[0]:.1f}x for {big / small:.0f}x the tables: {mark(cb[1] / cb[0] <= 1.5 * big / small)}")
    s3 = one(b, "s3 full load s")
    if s3 is not None: print(f"  {big:,} small tables into moto (+20 ms) under 120 s: {s3:.1f} s, {mark(s3 < 120)}")
print("service at each size: idle cycle CPU (a 10 s window over the cycles in it, two /metrics scrapes included), /health, /metrics, status")
for s in sizes:
    cyc = one(s, "svc idle cycles"); ms = one(s, "svc cpu ms total")
    per = f"{ms / cyc:.0f} ms CPU per idle cycle over {cyc:.0f} cycles" if cyc and ms is not None else "not measured"
    print(f"  {int(s):,} tables: {per}; /health {fmt(med(s, 'health s'))} ({fmt(one(s, 'health bytes'), 'B')}), /metrics {fmt(med(s, 'metrics s'))} ({fmt(one(s, 'metrics bytes'), 'B')}), status {fmt(one(s, 'status s'))}")
    if big and int(s) == big and cyc and ms is not None:
        print(f"  idle service cycle under 50 ms of CPU at {big:,} tables: {ms / cyc:.0f} ms, {mark(ms / cyc < 50)}")
rss_all = [one(s, k) for s in notes for k in ("dir full load MiB", "dir change MiB", "s3 full load MiB", "full load MiB", "cdc MiB")]
rss_all = [x for x in rss_all if x is not None]
if rss_all: print(f"  peak RSS under 200 MiB throughout: max {max(rss_all):.0f} MiB, {mark(max(rss_all) < 200)}")
PY
