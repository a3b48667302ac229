#!/usr/bin/env python3
"""Runs the DDL that `replicatord ddl` printed in an engine and compares each current-state view
with the source table, value by value (PostgreSQL's text forms, by oracle.py's rules).

  duckdb   runs `replicatord ddl --engine duckdb` as it is;
  athena   runs the Athena/Trino *views* of `replicatord ddl --engine athena` unchanged in DuckDB,
           over `<database>.<name>_changes` views made from the DuckDB DDL (DuckDB has no external
           tables): this checks that the Trino text runs as written;
  spark    runs `replicatord ddl --engine spark` in local pyspark (schema declared, no inference);
  state    reads what contrib/spark/current_state.py wrote (--state DIR) with pyarrow.

usage: current_state_check.py --engine ENGINE [--ddl FILE] [--duckdb-ddl FILE] [--database DB] [--state DIR]
                              --conninfo CONNINFO TABLE [TABLE ...]
Prints one JSON line per table; exits 1 on any difference.
"""
import argparse, collections, json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402


def statements(text):
    """The statements of a DDL text (each ends with ';' at the end of a line), comments dropped."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [s.strip() for s in re.split(r";\s*\n", body + "\n") if s.strip()]


def object_name(table):
    schema, name = oracle.split_table(table)
    clean = lambda s: re.sub(r"[^a-z0-9_]", "_", s.lower())
    return clean(schema) + "_" + clean(name)


def run_duckdb(args, tables):
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if args.engine == "athena":
        con.execute(f'CREATE SCHEMA "{args.database}"')
        for stmt in statements(open(args.duckdb_ddl).read()):
            # The DuckDB changes views, made in the database the Athena views name.
            m = re.match(r'CREATE OR REPLACE VIEW "([^"]+)_changes" AS (.*)', stmt, re.S)
            if m:
                con.execute(f'CREATE VIEW "{args.database}"."{m.group(1)}_changes" AS {m.group(2)}')
        for stmt in statements(open(args.ddl).read()):
            if stmt.startswith("CREATE OR REPLACE VIEW"):
                con.execute(stmt)   # the Athena/Trino text, unchanged
        prefix = f'"{args.database}".'
    else:
        for stmt in statements(open(args.ddl).read()):
            con.execute(stmt)
        prefix = ""
    return {t: con.execute(f'SELECT * FROM {prefix}"{object_name(t)}"').to_arrow_table() for t in tables}


def run_spark(args, tables):
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[1]").appName("current-state-check")
             .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC").getOrCreate())
    for stmt in statements(open(args.ddl).read()):
        spark.sql(stmt)
    return {t: spark.sql(f"SELECT * FROM `{args.database}`.`{object_name(t)}`").toArrow() for t in tables}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", choices=["duckdb", "athena", "spark", "state"], required=True)
    ap.add_argument("--ddl")
    ap.add_argument("--state", help="the --output folder of contrib/spark/current_state.py")
    ap.add_argument("--duckdb-ddl")
    ap.add_argument("--database", default="replicatord")
    ap.add_argument("--conninfo", required=True)
    ap.add_argument("tables", nargs="+")
    args = ap.parse_args()
    if args.engine == "state":
        import pyarrow.parquet as pq
        results = {}
        for t in args.tables:
            schema, name = oracle.split_table(t)
            folder = os.path.join(args.state, oracle.key_component(schema), oracle.key_component(name))
            results[t] = pq.read_table(folder)
    elif args.engine == "spark":
        results = run_spark(args, args.tables)
    else:
        results = run_duckdb(args, args.tables)
    failed = False
    for table in args.tables:
        cols, keys, src = oracle.source_rows(args.conninfo, table)
        got = oracle.table_texts(results[table], cols)
        expected = collections.Counter(tuple(r) for r in src)
        rebuilt = collections.Counter(tuple(r[c] for c in cols) for r in got)
        missing = list((expected - rebuilt).elements())
        extra = list((rebuilt - expected).elements())
        ok = not missing and not extra
        failed |= not ok
        short = lambda r: [v if not isinstance(v, str) or len(v) <= 40 else v[:20] + f"...({len(v)} chars)" for v in r]
        print(json.dumps({"table": table, "engine": args.engine, "ok": ok, "source_rows": len(src),
                          "view_rows": len(got), "missing": [short(r) for r in missing[:3]],
                          "extra": [short(r) for r in extra[:3]]}), flush=True)
    sys.stdout.flush()
    os._exit(1 if failed else 0)


if __name__ == "__main__":
    main()
