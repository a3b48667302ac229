#!/usr/bin/env python3
"""Scan planning of Iceberg tables with pyiceberg, for scripts/bench --only iceberg.

    iceberg_bench.py [--reference CYCLES WORKDIR] LABEL=TABLE_FOLDER ...

For each table: files and bytes in metadata/, snapshots, and pyiceberg's scan-planning time
(StaticTable.from_metadata on the version-hint's file, then plan_files(); the median of 5 runs,
each from scratch) with the files planned. --reference first writes a table of CYCLES appends of
10 rows each with pyiceberg itself (SqlCatalog on sqlite, its default fast appends: a manifest
per append, nothing merged or expired) and measures it the same way: what a pyiceberg writer
leaves after a day without maintenance. Prints one key=value line per table.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iceberg_values import current_metadata_file  # noqa: E402


def metadata_size(folder):
    meta = os.path.join(folder, "metadata")
    names = os.listdir(meta)
    return len(names), sum(os.path.getsize(os.path.join(meta, n)) for n in names)


def plan(folder):
    from pyiceberg.table import StaticTable
    times, planned, snapshots = [], 0, 0
    for _ in range(5):
        began = time.perf_counter()
        table = StaticTable.from_metadata(current_metadata_file(folder))
        planned = len(list(table.scan().plan_files()))
        times.append(time.perf_counter() - began)
        snapshots = len(table.snapshots())
    return statistics.median(times), planned, snapshots


def reference(cycles, workdir):
    """A table of `cycles` pyiceberg appends; returns its folder."""
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog
    os.makedirs(workdir, exist_ok=True)
    catalog = SqlCatalog("bench", uri=f"sqlite:///{workdir}/catalog.db", warehouse=f"file://{workdir}")
    catalog.create_namespace("public")
    schema = pa.schema([("Op", pa.string()), ("id", pa.int64()), ("status", pa.string()), ("amount", pa.decimal128(12, 2)),
                        ("created_at", pa.timestamp("us", tz="UTC"))])
    table = catalog.create_table(("public", "orders"), schema=schema)
    for cycle in range(1, cycles + 1):
        ids = [cycle * 10 + r for r in range(10)]
        table.append(pa.table({"Op": ["I"] * 10, "id": ids, "status": ["new"] * 10,
                               "amount": pa.array([None] * 10, pa.decimal128(12, 2)),
                               "created_at": pa.array([None] * 10, pa.timestamp("us", tz="UTC"))}, schema=schema))
    folder = table.location().removeprefix("file://")
    # A folder StaticTable can open like ours: version-hint.text naming the current metadata file.
    current = os.path.basename(table.metadata_location)
    version = int(current.split("-")[0])
    os.symlink(table.metadata_location.removeprefix("file://"), os.path.join(folder, "metadata", f"v{version}.metadata.json"))
    with open(os.path.join(folder, "metadata", "version-hint.text"), "w") as f:
        f.write(str(version))
    return folder


def main():
    args = sys.argv[1:]
    tables = []
    if args[:1] == ["--reference"]:
        cycles, workdir = int(args[1]), args[2]
        began = time.perf_counter()
        tables.append((f"pyiceberg_{cycles}_appends", reference(cycles, workdir), time.perf_counter() - began))
        args = args[3:]
    tables += [(a.split("=", 1)[0], a.split("=", 1)[1], None) for a in args]
    for label, folder, write_s in tables:
        files, size = metadata_size(folder)
        seconds, planned, snapshots = plan(folder)
        extra = f" write_s={write_s:.1f}" if write_s is not None else ""
        print(f"table={label} metadata_files={files} metadata_bytes={size} snapshots={snapshots} "
              f"planned_files={planned} plan_ms={seconds * 1000:.1f}{extra}", flush=True)


if __name__ == "__main__":
    main()
