#!/usr/bin/env python3
"""Reads an Iceberg table that replicatord's Iceberg module wrote, with independent readers, and
compares what each one sees with the expectations the Swift test wrote.

    iceberg_read.py EXPECTED_JSON

EXPECTED_JSON names the table folder and holds, in canonical form (decimals as strings,
timestamps as microseconds since the epoch, dates as days, binary as hex):
  - "schema": the current schema, [{"name", "id"}], in column order;
  - "current": the rows of the current snapshot, in schema order;
  - "snapshots": [{"id", "operation", "rows"}] oldest first, rows projected on "travel_columns";
  - "parquet_field_ids": {data file path: {column name: field id}} (empty for a file without ids);
  - "file_metrics": {data file path: {column: {"lower", "upper", "values", "nulls"}}}, checked
    against pyiceberg's inspect.files() (which decodes the manifests' bounds by type).

Readers: pyiceberg (StaticTable on the version-hint's metadata file, and a SqlCatalog on sqlite
with register_table), DuckDB's iceberg extension (duckdb 1.5.5, the PyPI extension wheels loaded
by path), polars scan_iceberg. Prints one "ok ..." line per check; any mismatch prints "FAIL ..."
and the script exits 1.
"""
import glob
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iceberg_values import FAILURES, canonical, current_metadata_file, duckdb_with_iceberg, quoted, report  # noqa: E402

# polars plans Iceberg scans with pyiceberg unless the separate polars_iceberg package is there.
os.environ.setdefault("POLARS_ICEBERG_PLANNER", "pyiceberg")


def rows_of_arrow(table, columns):
    data = {c: table.column(c).to_pylist() for c in columns}
    return [[canonical(data[c][i]) for c in columns] for i in range(table.num_rows)]


def rows_of_polars(frame, columns):
    return [[canonical(row[c]) for c in columns] for row in frame.select(columns).iter_rows(named=True)]


def key(row):
    return json.dumps(row, sort_keys=True)


def same_rows(what, got, expected):
    g, e = sorted(map(key, got)), sorted(map(key, expected))
    if g == e:
        report(True, what, f"{len(got)} rows")
    else:
        missing = [r for r in e if r not in g][:3]
        extra = [r for r in g if r not in e][:3]
        report(False, what, f"{len(got)} rows, expected {len(expected)}; missing {missing}; unexpected {extra}")


FILTER_MIN = 7


def filtered(exp):
    at = [f["name"] for f in exp["schema"]].index("id")
    return [r for r in exp["current"] if r[at] >= FILTER_MIN]


def check_pyiceberg(label, table, exp):
    names = [f["name"] for f in exp["schema"]]
    travel = exp["travel_columns"]
    schema = table.schema()
    got_schema = [{"name": f.name, "id": f.field_id} for f in schema.fields]
    report(got_schema == exp["schema"], f"{label} schema with field ids", json.dumps(got_schema))
    snaps = sorted(table.snapshots(), key=lambda s: s.sequence_number)
    got_snaps = [(s.snapshot_id, s.summary.operation.value) for s in snaps]
    want_snaps = [(s["id"], s["operation"]) for s in exp["snapshots"]]
    report(got_snaps == want_snaps, f"{label} snapshots", json.dumps(got_snaps))
    same_rows(f"{label} current rows", rows_of_arrow(table.scan().to_arrow(), names), exp["current"])
    # A filter lets the reader prune files by the manifests' bounds: wrong bounds lose rows.
    same_rows(f"{label} rows with id >= {FILTER_MIN}", rows_of_arrow(table.scan(row_filter=f"id >= {FILTER_MIN}").to_arrow(), names),
              filtered(exp))
    for s in exp["snapshots"]:
        if "timestamp_ms" in s:
            as_of = table.snapshot_as_of_timestamp(s["timestamp_ms"])
            report(as_of is not None and as_of.snapshot_id == s["id"], f"{label} snapshot as of {s['timestamp_ms']} ms",
                   str(as_of.snapshot_id if as_of else None))
        arrow = table.scan(snapshot_id=s["id"]).to_arrow()
        same_rows(f"{label} time travel to {s['operation']} snapshot {s['id']}", rows_of_arrow(arrow, travel), s["rows"])


def main():
    with open(sys.argv[1]) as f:
        exp = json.load(f)
    table_dir = exp["table_dir"]
    metadata_dir = os.path.join(table_dir, "metadata")
    metadata_file = current_metadata_file(table_dir)
    names = [f["name"] for f in exp["schema"]]
    travel = exp["travel_columns"]

    # The data files carry the field ids.
    import pyarrow.parquet as pq
    for path, ids in exp.get("parquet_field_ids", {}).items():
        schema = pq.read_schema(path)
        got = {f.name: int(f.metadata[b"PARQUET:field_id"]) for f in schema if f.metadata and b"PARQUET:field_id" in f.metadata}
        report(got == ids, f"pyarrow field ids in {os.path.basename(path)}", json.dumps(got))

    # pyiceberg, straight from the metadata file.
    from pyiceberg.table import StaticTable
    static = StaticTable.from_metadata(metadata_file)
    check_pyiceberg("pyiceberg StaticTable", static, exp)
    if exp.get("file_metrics"):
        files = static.inspect.files().to_pylist()
        for path, columns in exp["file_metrics"].items():
            row = next((f for f in files if f["file_path"] == path), None)
            if row is None:
                report(False, f"pyiceberg inspect.files() metrics of {os.path.basename(path)}", "file not listed")
                continue
            got = {c: {"lower": canonical(row["readable_metrics"][c]["lower_bound"]),
                       "upper": canonical(row["readable_metrics"][c]["upper_bound"]),
                       "values": row["readable_metrics"][c]["value_count"],
                       "nulls": row["readable_metrics"][c]["null_value_count"]} for c in columns}
            report(got == columns, f"pyiceberg inspect.files() metrics of {os.path.basename(path)}", json.dumps(got))

    # pyiceberg through a SQL catalog on sqlite.
    from pyiceberg.catalog.sql import SqlCatalog
    with tempfile.TemporaryDirectory() as tmp:
        catalog = SqlCatalog("replicatord", uri=f"sqlite:///{tmp}/catalog.db", warehouse=f"file://{tmp}")
        catalog.create_namespace("public")
        catalog.register_table(("public", "orders"), metadata_file)
        check_pyiceberg("pyiceberg SqlCatalog", catalog.load_table(("public", "orders")), exp)

    # DuckDB's iceberg extension from the PyPI wheels, by path.
    con = duckdb_with_iceberg()
    cols, tcols = quoted(names), quoted(travel)
    for label, source in (("DuckDB iceberg_scan(metadata file)", metadata_file), ("DuckDB iceberg_scan(table folder)", table_dir)):
        described = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM iceberg_scan(?)", [source]).fetchall()]
        report(described == names, f"{label} columns", json.dumps(described))
        got = [[canonical(v) for v in r] for r in con.execute(f"SELECT {cols} FROM iceberg_scan(?)", [source]).fetchall()]
        same_rows(f"{label} current rows", got, exp["current"])
        got = [[canonical(v) for v in r] for r in
               con.execute(f"SELECT {cols} FROM iceberg_scan(?) WHERE id >= {FILTER_MIN}", [source]).fetchall()]
        same_rows(f"{label} rows with id >= {FILTER_MIN}", got, filtered(exp))
    # DuckDB's Avro reader, independent of pyiceberg's, reads every manifest list and manifest,
    # and the current snapshot's live entries name the files pyiceberg plans.
    avro_files = sorted(glob.glob(os.path.join(metadata_dir, "*.avro")))
    for path in avro_files:
        con.execute("SELECT count(*) FROM read_avro(?)", [path]).fetchall()
    report(bool(avro_files), "DuckDB read_avro reads every metadata Avro file", f"{len(avro_files)} files")
    with open(metadata_file) as f:
        meta = json.load(f)
    current = next(s for s in meta["snapshots"] if s["snapshot-id"] == meta["current-snapshot-id"])
    live = set()
    for (manifest,) in con.execute("SELECT manifest_path FROM read_avro(?)", [current["manifest-list"]]).fetchall():
        live.update(p for (p,) in con.execute("SELECT data_file.file_path FROM read_avro(?) WHERE status <> 2", [manifest]).fetchall())
    planned = {f["file_path"] for f in static.inspect.files().to_pylist()}
    report(live == planned, "DuckDB read_avro: the current manifests' live files are pyiceberg's", f"{len(live)} files")
    snaps = con.execute("SELECT snapshot_id, sequence_number FROM iceberg_snapshots(?) ORDER BY sequence_number",
                        [metadata_file]).fetchall()
    report([s[0] for s in snaps] == [s["id"] for s in exp["snapshots"]], "DuckDB iceberg_snapshots", json.dumps(snaps))
    for s in exp["snapshots"]:
        got = [[canonical(v) for v in r] for r in
               con.execute(f"SELECT {tcols} FROM iceberg_scan(?, snapshot_from_id => ?)", [metadata_file, s["id"]]).fetchall()]
        same_rows(f"DuckDB time travel to {s['operation']} snapshot {s['id']}", got, s["rows"])
        if "timestamp_ms" in s:
            got = [[canonical(v) for v in r] for r in con.execute(
                f"SELECT {tcols} FROM iceberg_scan(?, snapshot_from_timestamp => make_timestamp(? * 1000))",
                [metadata_file, s["timestamp_ms"]]).fetchall()]
            same_rows(f"DuckDB as of {s['timestamp_ms']} ms", got, s["rows"])

    # polars.
    import polars as pl
    same_rows("polars scan_iceberg current rows", rows_of_polars(pl.scan_iceberg(metadata_file).collect(), names), exp["current"])
    frame = pl.scan_iceberg(metadata_file).filter(pl.col("id") >= FILTER_MIN).collect()
    same_rows(f"polars scan_iceberg rows with id >= {FILTER_MIN}", rows_of_polars(frame, names), filtered(exp))
    for s in exp["snapshots"]:
        frame = pl.scan_iceberg(metadata_file, snapshot_id=s["id"]).collect()
        same_rows(f"polars time travel to {s['operation']} snapshot {s['id']}", rows_of_polars(frame, travel), s["rows"])

    # The first version, written before any snapshot: every reader opens it as an empty table.
    first = os.path.join(metadata_dir, "v1.metadata.json")
    if exp.get("check_empty_first_version") and os.path.exists(first):
        report(StaticTable.from_metadata(first).scan().to_arrow().num_rows == 0, "pyiceberg reads v1 (no snapshot) as empty")
        n = con.execute("SELECT count(*) FROM iceberg_scan(?)", [first]).fetchone()[0]
        report(n == 0, "DuckDB reads v1 (no snapshot) as empty", f"{n} rows")
        report(pl.scan_iceberg(first).collect().height == 0, "polars reads v1 (no snapshot) as empty")

    if FAILURES:
        print(f"{len(FAILURES)} checks failed", flush=True)
        sys.exit(1)
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
