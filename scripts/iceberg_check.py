#!/usr/bin/env python3
"""Checks the Iceberg tables the daemon keeps (`[catalog] iceberg = true`) against the Parquet
files themselves, with independent readers.

    iceberg_check.py EXPECTED_JSON

EXPECTED_JSON: {"tables": [{"folder": ABSOLUTE TABLE FOLDER,
                            "snapshots": [[file name, ...], ...] or null,
                            "current": [file name, ...],
                            "readers": ["pyiceberg", "duckdb", "polars"],
                            "renamed": {current name: [former names]},
                            "first_snapshot_unreadable": false}]}

- "current": the data files the current snapshot must hold: pyiceberg's (StaticTable on the
  version-hint's metadata file) current rows must equal those files' rows read with pyarrow, and
  the files it plans must be exactly those.
- "snapshots": when given, the current snapshot's ancestry, oldest first, one group of files per
  snapshot (a cycle's files): there must be as many ancestors, and time travel to the k-th must give
  the rows of the groups 0..k.
- "readers": DuckDB's iceberg extension (duckdb 1.5.5, the PyPI extension wheels by path, on the
  table folder through version-hint.text) and polars scan_iceberg read the current rows too, and
  time travel to the first snapshot when "snapshots" is given.

Rows are compared as multisets over the Iceberg schema's columns (a file without a column reads
null there). Prints one "ok ..." line per check, "FAIL ..." on a mismatch, and exits 1 on any.
"""
import datetime
import decimal
import glob
import json
import os
import sys

os.environ.setdefault("POLARS_ICEBERG_PLANNER", "pyiceberg")

FAILURES = []
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def report(ok, what, detail=""):
    line = ("ok " if ok else "FAIL ") + what + (f": {detail}" if detail else "")
    print(line, flush=True)
    if not ok:
        FAILURES.append(line)


def value(v):
    """A value in one form whichever reader produced it."""
    if isinstance(v, str) and v[:1] in ("{", "["):
        # json/jsonb: DuckDB hands back the value re-serialized ({"n":1} for PostgreSQL's {"n": 1}).
        try:
            return json.dumps(json.loads(v), sort_keys=True)
        except ValueError:
            return v
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, decimal.Decimal):
        return str(v.normalize()) if v == v else "NaN"
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        d = v - EPOCH
        return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
    if isinstance(v, datetime.date):
        return (v - datetime.date(1970, 1, 1)).days
    if isinstance(v, (bytes, bytearray, memoryview)):
        # json/jsonb columns are Iceberg binary: readers give bytes where pyarrow gives the text.
        try:
            return value(bytes(v).decode("utf-8"))
        except UnicodeDecodeError:
            return bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    if hasattr(v, "tolist"):
        return value(v.tolist())
    return str(v)


def renamed(row):
    """A row of a layout before a rename (a file, or a reader reading an older snapshot in its
    own schema) under the current names (RENAMED: current name -> former names)."""
    for new, olds in RENAMED.items():
        for old in olds:
            if new not in row and old in row:
                row[new] = row.pop(old)
    return row


def rows(dicts, columns):
    return sorted(json.dumps([value(renamed(d).get(c)) for c in columns]) for d in dicts)


RENAMED = {}


def file_rows(folder, names, columns):
    """The rows of Parquet files (a file before a rename names the column as it was then)."""
    import pyarrow.parquet as pq
    out = []
    for name in names:
        out += pq.read_table(os.path.join(folder, name)).to_pylist()
    return rows(out, columns)


def same(what, got, expected):
    if got == expected:
        report(True, what, f"{len(got)} rows")
    else:
        missing = [r for r in expected if r not in got][:2]
        extra = [r for r in got if r not in expected][:2]
        report(False, what, f"{len(got)} rows, expected {len(expected)}; missing {missing}; unexpected {extra}")


def check(spec):
    from pyiceberg.table import StaticTable
    folder = spec["folder"]
    RENAMED.clear()
    RENAMED.update(spec.get("renamed", {}))
    label = "/".join(folder.rstrip("/").split("/")[-2:])
    meta_dir = os.path.join(folder, "metadata")
    with open(os.path.join(meta_dir, "version-hint.text")) as f:
        metadata_file = os.path.join(meta_dir, f"v{f.read().strip()}.metadata.json")
    table = StaticTable.from_metadata(metadata_file)
    columns = [f.name for f in table.schema().fields]
    current = table.current_snapshot()
    report(current is not None, f"{label}: pyiceberg opens {os.path.basename(metadata_file)} with a current snapshot")
    if current is None:
        return
    # inspect.files(): every live file (planning skips files of 0 rows).
    import pyarrow.parquet as pq
    live = table.inspect.files().to_pylist()
    planned = sorted(os.path.basename(f["file_path"]) for f in live)
    stats = [(os.path.basename(f["file_path"]), f["record_count"], f["file_size_in_bytes"]) for f in live]
    actual = [(n, pq.ParquetFile(os.path.join(folder, n)).metadata.num_rows, os.path.getsize(os.path.join(folder, n)))
              for n, _, _ in stats if os.path.exists(os.path.join(folder, n))]
    report(sorted(stats) == sorted(actual), f"{label}: the manifests' record counts and sizes are the files'", json.dumps(sorted(stats)))
    report(planned == sorted(spec["current"]), f"{label}: the current snapshot's files", json.dumps(planned))
    expected = file_rows(folder, spec["current"], columns)
    same(f"{label}: pyiceberg current rows equal the Parquet files'", rows(table.scan().to_arrow().to_pylist(), columns), expected)

    ancestry = []
    s = current
    while s is not None:
        ancestry.append(s)
        s = table.snapshot_by_id(s.parent_snapshot_id) if s.parent_snapshot_id is not None else None
    ancestry.reverse()
    groups = spec.get("snapshots")
    if groups is not None:
        report(len(ancestry) == len(groups), f"{label}: one snapshot per cycle",
               json.dumps([(a.summary.operation.value, a.summary.additional_properties.get("replicatord.kind")) for a in ancestry]))
        for k, snap in enumerate(ancestry[:len(groups)]):
            names = [n for g in groups[:k + 1] for n in g]
            got = rows(table.scan(snapshot_id=snap.snapshot_id).to_arrow().to_pylist(), columns)
            same(f"{label}: pyiceberg time travel to snapshot {k} ({snap.summary.operation.value})", got,
                 file_rows(folder, names, columns))

    if spec.get("first_snapshot_unreadable"):
        # A snapshot before a reload lists files the reload removed: reading it must fail, not
        # return a part of the table.
        try:
            got = table.scan(snapshot_id=ancestry[0].snapshot_id).to_arrow().num_rows
            report(False, f"{label}: pyiceberg time travel to the snapshot before the reload fails", f"read {got} rows")
        except (OSError, FileNotFoundError) as error:
            report(True, f"{label}: pyiceberg time travel to the snapshot before the reload fails", type(error).__name__)

    readers = spec.get("readers", [])
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    if "duckdb" in readers:
        import duckdb
        import duckdb_extension_avro
        import duckdb_extension_iceberg
        con = duckdb.connect()
        con.execute("SET autoinstall_known_extensions=false")
        con.execute("SET autoload_known_extensions=false")
        for module, name in ((duckdb_extension_avro, "avro"), (duckdb_extension_iceberg, "iceberg")):
            path = glob.glob(os.path.join(module.__path__[0], "extensions", f"v{duckdb.__version__}", f"{name}.duckdb_extension"))[0]
            con.execute(f"LOAD '{path}'")

        def duck(sql, params):
            cur = con.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]
        same(f"{label}: DuckDB iceberg_scan(table folder) current rows",
             rows(duck(f"SELECT {quoted} FROM iceberg_scan(?)", [folder]), columns), expected)
        if groups:
            same(f"{label}: DuckDB time travel to snapshot 0",
                 rows(duck("SELECT * FROM iceberg_scan(?, snapshot_from_id => ?)", [metadata_file, ancestry[0].snapshot_id]), columns),
                 file_rows(folder, groups[0], columns))
    if "polars" in readers:
        import polars as pl
        same(f"{label}: polars scan_iceberg current rows",
             rows(pl.scan_iceberg(metadata_file).collect().to_dicts(), columns), expected)
        if groups:
            same(f"{label}: polars time travel to snapshot 0",
                 rows(pl.scan_iceberg(metadata_file, snapshot_id=ancestry[0].snapshot_id).collect().to_dicts(), columns),
                 file_rows(folder, groups[0], columns))


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    for table in spec["tables"]:
        try:
            check(table)
        except Exception as error:  # a reader that cannot open the table is a failure, not a crash
            report(False, f"{table['folder']}: {type(error).__name__}: {error}")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
