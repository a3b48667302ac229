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
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iceberg_values import FAILURES, canonical, current_metadata_file, duckdb_with_iceberg, quoted, report  # noqa: E402

os.environ.setdefault("POLARS_ICEBERG_PLANNER", "pyiceberg")


def value(v):
    """A value in one form whichever reader produced it (readers compared with one another)."""
    return canonical(v, loose=True)


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
    metadata_file = current_metadata_file(folder)
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

    check_statistics(label, table, folder, live, spec.get("readers", []), metadata_file)

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
    if "duckdb" in readers:
        con = duckdb_with_iceberg()

        def duck(sql, params):
            cur = con.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]
        same(f"{label}: DuckDB iceberg_scan(table folder) current rows",
             rows(duck(f"SELECT {quoted(columns)} FROM iceberg_scan(?)", [folder]), columns), expected)
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


TRUNCATE = 16  # Iceberg's default metrics mode, truncate(16)


def natural(v):
    """A Parquet value or a decoded bound, comparable with others of its column in the column's
    order: strings by their UTF-8 bytes, numbers and decimals by value, times as microseconds."""
    import datetime
    import decimal
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, (bool, int, float, decimal.Decimal)):
        return v
    if isinstance(v, (datetime.datetime, datetime.date)):
        return canonical(v)
    return canonical(v)


def bound_fits(kind, lower, upper, lo, hi):
    """Whether a manifest's (lower, upper) are the truncate(16) bounds of a column whose smallest
    and largest values are (lo, hi): exact, or for strings and binary the prefix as the lower
    bound and a value >= hi sharing all but its last unit with hi's prefix as the upper bound."""
    if kind not in ("string", "binary"):
        return natural(lower) == natural(lo) and natural(upper) == natural(hi)
    def prefix(v):
        return v[:TRUNCATE] if kind == "binary" else v.decode("utf-8")[:TRUNCATE].encode("utf-8")
    if natural(lower) != prefix(natural(lo)):
        return False
    up, h = natural(upper), natural(hi)
    return up == h or (up > h and len(prefix(h)) >= len(up) - 4)


def check_statistics(label, table, folder, live, readers, metadata_file):
    """The manifests' column statistics are the files' (pyiceberg decodes them by type), a filter
    on a column prunes the files whose bounds exclude the value (plan_files), and the filtered
    rows equal the Parquet files' rows that match (pyiceberg, and DuckDB when it reads)."""
    import pyarrow.parquet as pq
    from pyiceberg.expressions import EqualTo
    types = {f.name: str(f.field_type) for f in table.schema().fields}
    checked, bounded, wrong = 0, set(), []
    ranges = {}
    for f in live:
        name = os.path.basename(f["file_path"])
        data = pq.read_table(os.path.join(folder, name))
        for column in data.column_names:
            current = next((new for new, olds in RENAMED.items() if column in olds), column)
            kind = types.get(current, "")
            metrics = (f.get("readable_metrics") or {}).get(current)
            if metrics is None or kind.startswith("list") or metrics["value_count"] is None:
                continue
            values = data.column(column).to_pylist()
            present = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
            checked += 1
            if metrics["value_count"] != len(values) or metrics["null_value_count"] != values.count(None):
                wrong.append(f"{name}.{column}: counts {metrics['value_count']}/{metrics['null_value_count']}")
            lower, upper = metrics["lower_bound"], metrics["upper_bound"]
            if lower is None or upper is None:
                # Left out only for nulls only or a value longer than the Parquet statistics keep.
                if present and not any(isinstance(v, (str, bytes)) and len(v) > 4096 for v in present):
                    wrong.append(f"{name}.{column}: no bounds")
                continue
            lo, hi = min(present, key=natural), max(present, key=natural)
            if not bound_fits(kind, lower, upper, lo, hi):
                wrong.append(f"{name}.{column} ({kind}): bounds {canonical(lower)!r}..{canonical(upper)!r}, values {canonical(lo)!r}..{canonical(hi)!r}")
            bounded.add(kind.split("(")[0])
            ranges.setdefault(current, []).append((name, natural(lower), natural(upper), lo))
    rows_in_files = sum(f["record_count"] for f in live)
    report(not wrong and (checked > 0 or rows_in_files == 0), f"{label}: the manifests' value counts, null counts and bounds are the files'",
           f"{checked} columns, bounds of {sorted(bounded)}" + (f"; {wrong[:3]}" if wrong else ""))

    # Pruning: a column whose files' ranges differ; the value is the smallest of the last file.
    files = len(live)
    for column, spans in ranges.items():
        if files < 2 or len(spans) < files or types[column] not in ("int", "long", "date", "string", "timestamp", "timestamptz"):
            continue
        value = spans[-1][3]
        key = natural(value)
        holding = sorted(n for n, lo, hi, _ in spans if lo <= key <= hi)
        if len(holding) == files:
            continue
        literal = value.isoformat() if hasattr(value, "isoformat") else value
        if types[column] == "timestamptz" and getattr(value, "tzinfo", None) is None:
            literal = value.isoformat() + "+00:00"
        planned = sorted(os.path.basename(t.file.file_path) for t in table.scan(row_filter=EqualTo(column, literal)).plan_files())
        report(planned == holding, f"{label}: pyiceberg plans {len(planned)} of {files} files for {column} = {canonical(value)!r}",
               json.dumps(planned))
        expected = sorted(json.dumps(value_row) for value_row in (
            [canonical(r.get(c), loose=True) for c in [column]] for r in
            (renamed(d) for n in sorted(os.path.basename(f["file_path"]) for f in live)
             for d in pq.read_table(os.path.join(folder, n)).to_pylist()) if natural(r.get(column)) == key))
        got = sorted(json.dumps([canonical(r.get(column), loose=True)]) for r in
                     table.scan(row_filter=EqualTo(column, literal)).to_arrow().to_pylist())
        same(f"{label}: pyiceberg rows with {column} = {canonical(value)!r}", got, expected)
        if "duckdb" in readers:
            con = duckdb_with_iceberg()
            col = quoted([column])
            got = sorted(json.dumps([canonical(r[0], loose=True)]) for r in con.execute(
                f"SELECT {col} FROM iceberg_scan(?) WHERE {col} = ?", [metadata_file, value]).fetchall())
            same(f"{label}: DuckDB rows with {column} = {canonical(value)!r}", got, expected)
            stats = con.execute("SELECT count(DISTINCT file_path) FROM iceberg_column_stats(?) WHERE column_name = ? AND status <> 'DELETED' "
                                "AND lower_bound IS NOT NULL AND upper_bound IS NOT NULL",
                                [metadata_file, column]).fetchone()[0] if has_column_stats(con, metadata_file) else None
            if stats is not None:
                report(stats == files, f"{label}: DuckDB iceberg_column_stats reads {column}'s bounds of every live file", f"{stats}")
        break


def has_column_stats(con, metadata_file):
    try:
        names = [d[0] for d in con.execute("SELECT * FROM iceberg_column_stats(?) LIMIT 0", [metadata_file]).description]
        return "column_name" in names and "lower_bound" in names
    except Exception:
        return False


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
