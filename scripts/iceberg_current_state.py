#!/usr/bin/env python3
"""The current-state views of `replicatord ddl --engine duckdb --iceberg` against the source, on
the Iceberg tables, at every cycle and afterwards at every recorded snapshot.

  iceberg_current_state.py round --ddl FILE --conninfo C --target DIR --record STATE.json --round N TABLE...
      After a cycle (the source quiet, the service caught up): for each table, the current-state
      view run by DuckDB over iceberg_scan (the DDL as printed), and the same view's SELECT run over
      the rows pyiceberg reads (StaticTable -> arrow, registered as <name>_changes), must equal the
      source table value by value (oracle.py's text forms). Records the source rows, the table's
      current snapshot and the DDL under round N.
  iceberg_current_state.py history --record STATE.json --target DIR TABLE...
      For every recorded round: pyiceberg's scan of that round's snapshot and DuckDB's
      <name>_as_of view at that snapshot's time, each through that round's DDL, must equal the
      source rows recorded then (time travel, schema changes included).

Prints one JSON line per table and check; exits 1 on any difference.
"""
import argparse
import collections
import datetime
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from iceberg_values import current_metadata_file, duckdb_with_iceberg  # noqa: E402

FAILED = []


def statements(text):
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [s.strip() for s in re.split(r";\s*\n", body + "\n") if s.strip()]


def object_name(table):
    schema, name = oracle.split_table(table)
    clean = lambda s: re.sub(r"[^a-z0-9_]", "_", s.lower())
    return clean(schema) + "_" + clean(name)


def folder_of(target, table):
    schema, name = oracle.split_table(table)
    return os.path.join(target, oracle.key_component(schema), oracle.key_component(name))


def view_statement(ddl, name, suffix=""):
    """The `CREATE OR REPLACE VIEW "<name><suffix>" AS ...` statement of the DDL."""
    head = f'CREATE OR REPLACE VIEW "{name}{suffix}" AS'
    return next(s for s in statements(ddl) if s.startswith(head))


def compare(what, table, arrow, cols, expected_rows):
    got = oracle.table_texts(arrow, cols)
    rebuilt = collections.Counter(tuple(r[c] for c in cols) for r in got)
    expected = collections.Counter(tuple(r) for r in expected_rows)
    missing = list((expected - rebuilt).elements())
    extra = list((rebuilt - expected).elements())
    ok = not missing and not extra
    short = lambda r: [v if not isinstance(v, str) or len(v) <= 40 else v[:20] + f"...({len(v)} chars)" for v in r]
    print(json.dumps({"check": what, "table": table, "ok": ok, "source_rows": len(expected_rows), "view_rows": len(got),
                      "missing": [short(r) for r in missing[:3]], "extra": [short(r) for r in extra[:3]]}), flush=True)
    if not ok:
        FAILED.append((what, table))


def pyiceberg_state(ddl, table, changes):
    """The DDL's current-state SELECT run by DuckDB over `changes`, an arrow table pyiceberg read."""
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    name = object_name(table)
    con.register(f"{name}_changes", changes)
    con.execute(view_statement(ddl, name))
    return con.execute(f'SELECT * FROM "{name}"').to_arrow_table()


def round_check(args):
    from pyiceberg.table import StaticTable
    ddl = open(args.ddl).read()
    con = duckdb_with_iceberg()
    con.execute("SET TimeZone = 'UTC'")
    for stmt in statements(ddl):
        con.execute(stmt)
    record = json.load(open(args.record)) if os.path.exists(args.record) else {}
    entry = record.setdefault(str(args.round), {})
    for table in args.tables:
        cols, _, src = oracle.source_rows(args.conninfo, table)
        name = object_name(table)
        compare(f"round {args.round}: DuckDB iceberg_scan current state", table,
                con.execute(f'SELECT * FROM "{name}"').to_arrow_table(), cols, src)
        static = StaticTable.from_metadata(current_metadata_file(folder_of(args.target, table)))
        compare(f"round {args.round}: pyiceberg current state", table, pyiceberg_state(ddl, table, static.scan().to_arrow()), cols, src)
        snapshot = static.current_snapshot()
        entry[table] = {"cols": cols, "rows": [list(r) for r in src], "snapshot_id": snapshot.snapshot_id,
                        "timestamp_ms": snapshot.timestamp_ms, "ddl": ddl}
    json.dump(record, open(args.record, "w"))


def history_check(args):
    from pyiceberg.table import StaticTable
    record = json.load(open(args.record))
    con = duckdb_with_iceberg()
    con.execute("SET TimeZone = 'UTC'")
    for round_ in sorted(record, key=int):
        for table in args.tables:
            entry = record[round_][table]
            ddl, cols, rows = entry["ddl"], entry["cols"], entry["rows"]
            static = StaticTable.from_metadata(current_metadata_file(folder_of(args.target, table)))
            changes = static.scan(snapshot_id=entry["snapshot_id"]).to_arrow()
            compare(f"round {round_}: pyiceberg time travel to its snapshot", table, pyiceberg_state(ddl, table, changes), cols, rows)
            at = datetime.datetime.fromtimestamp(entry["timestamp_ms"] / 1000, tz=datetime.timezone.utc).replace(tzinfo=None)
            con.execute(f"SET VARIABLE replicatord_as_of = TIMESTAMP '{at.isoformat(sep=' ')}'")
            name = object_name(table)
            con.execute(view_statement(ddl, name, "_as_of"))
            compare(f"round {round_}: DuckDB {name}_as_of at its snapshot's time", table,
                    con.execute(f'SELECT * FROM "{name}_as_of"').to_arrow_table(), cols, rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["round", "history"])
    ap.add_argument("--ddl")
    ap.add_argument("--conninfo")
    ap.add_argument("--target", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--round", type=int, default=0)
    ap.add_argument("tables", nargs="+")
    args = ap.parse_args()
    round_check(args) if args.mode == "round" else history_check(args)
    sys.stdout.flush()
    os._exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
