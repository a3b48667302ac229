#!/usr/bin/env python3
"""Checks Parquet files written by replicatord's writer with independent readers.

  check_parquet.py roundtrip DIR   For every DIR/*.parquet with a DIR/*.json of expected values:
                                   pyarrow, DuckDB and polars each read the file and every value
                                   must equal the expected one; pyarrow's schema must show the
                                   logical types (decimal128(p, s), timestamp[us, tz=UTC], ...).
  check_parquet.py metadata DIR    For every DIR/*.parquet with a DIR/*.json: pq.ParquetFile(...).metadata
                                   is inspected (rows, codec, statistics min/max/null_count against
                                   the expected values) and DuckDB's parquet_metadata() must show the
                                   statistics.

The JSON: {"rows": N, "codec": "ZSTD", "columns": [{"name", "kind", "nullable", "list",
"precision", "scale", "length", "utc"}], "values": {name: [...]}} with values normalised:
integers (INT*, DATE days, TIME/TIMESTAMP microseconds), floats as strings ("nan", "-0.0",
"1e-45"), strings, bytes as hex, decimals as unscaled integer strings, lists as arrays.
Exits 1 with a description of every mismatch.
"""
import datetime
import decimal
import glob
import json
import math
import os
import struct
import sys
import uuid

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

decimal.getcontext().prec = 200
EPOCH_DATE = datetime.date(1970, 1, 1)
EPOCH_NAIVE = datetime.datetime(1970, 1, 1)
EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
failures = []


def fail(msg):
    failures.append(msg)


def float_bits(x, kind):
    if kind == "float":
        return struct.unpack("<I", struct.pack("<f", x))[0]
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def norm(value, col):
    """Normalises a reader's Python value of a leaf to the JSON's representation."""
    if value is None:
        return None
    kind = col["kind"]
    if kind in ("float", "double"):
        return ("nan",) if math.isnan(value) else ("f", float_bits(value, kind))
    if kind == "date":
        if isinstance(value, datetime.datetime):
            value = value.date()
        return (value - EPOCH_DATE).days
    if kind == "time":
        if isinstance(value, datetime.time):
            return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
        if isinstance(value, datetime.timedelta):
            return value // datetime.timedelta(microseconds=1)
        return int(value)
    if kind == "timestamp":
        if isinstance(value, datetime.datetime):
            epoch = EPOCH_NAIVE if value.tzinfo is None else EPOCH_UTC
            return (value - epoch) // datetime.timedelta(microseconds=1)
        return int(value)
    if kind == "decimal":
        if isinstance(value, decimal.Decimal):
            return int(value.scaleb(col["scale"]))
        return int(value)
    if kind in ("bytes", "fixed", "uuid"):
        if isinstance(value, uuid.UUID):
            return value.hex
        if isinstance(value, str):
            return value.replace("-", "").lower()
        return bytes(value).hex()
    if kind in ("int8", "int16", "int32", "int64"):
        return int(value)
    if kind in ("string", "json") and isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    return value


def norm_expected(value, col):
    if value is None:
        return None
    kind = col["kind"]
    if kind in ("float", "double"):
        x = float(value)
        if math.isnan(x):
            return ("nan",)
        if kind == "float":
            x = struct.unpack("<f", struct.pack("<f", x))[0]
        return ("f", float_bits(x, kind))
    if kind == "decimal":
        return int(value)
    return value


def compare(reader, path, table, expected):
    columns = expected["columns"]
    if table.num_rows != expected["rows"]:
        fail(f"{reader} {os.path.basename(path)}: {table.num_rows} rows, expected {expected['rows']}")
        return
    for col in columns:
        name = col["name"]
        got = table.column(name).to_pylist()
        want = expected["values"][name]
        for row, (g, w) in enumerate(zip(got, want)):
            if col["list"]:
                gn = None if g is None else [norm(x, col) for x in g]
                wn = None if w is None else [norm_expected(x, col) for x in w]
            else:
                gn, wn = norm(g, col), norm_expected(w, col)
            if gn != wn:
                fail(f"{reader} {os.path.basename(path)}: column {name} row {row}: got {str(gn)[:200]} expected {str(wn)[:200]}")
                break


def expected_arrow_types(col):
    kind = col["kind"]
    simple = {"boolean": ["bool"], "int8": ["int8"], "int16": ["int16"], "int32": ["int32"],
              "int64": ["int64"], "float": ["float"], "double": ["double"], "string": ["string"],
              "json": ["string", "extension<arrow.json>"], "bytes": ["binary"],
              "uuid": ["extension<arrow.uuid>", "fixed_size_binary[16]"],
              "date": ["date32[day]"], "time": ["time64[us]"]}
    if kind in simple:
        return simple[kind]
    if kind == "fixed":
        return [f"fixed_size_binary[{col['length']}]"]
    if kind == "decimal":
        return [f"decimal128({col['precision']}, {col['scale']})"]
    if kind == "timestamp":
        return ["timestamp[us, tz=UTC]"] if col["utc"] else ["timestamp[us]"]
    raise ValueError(kind)


def check_schema(path, expected):
    schema = pq.read_schema(path)
    for col in expected["columns"]:
        field = schema.field(col["name"])
        t = field.type
        if col["list"]:
            if not pa.types.is_list(t):
                fail(f"schema {os.path.basename(path)}: {col['name']} is {t}, expected a list")
                continue
            t = t.value_type
        if str(t) not in expected_arrow_types(col):
            fail(f"schema {os.path.basename(path)}: {col['name']} is {t}, expected one of {expected_arrow_types(col)}")
        if field.nullable != col["nullable"]:
            fail(f"schema {os.path.basename(path)}: {col['name']} nullable {field.nullable}, expected {col['nullable']}")


def duckdb_table(path):
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        if hasattr(rel, name):
            result = getattr(rel, name)()
            if isinstance(result, pa.RecordBatchReader):
                result = result.read_all()
            return result
    raise RuntimeError("no arrow export in duckdb")


def roundtrip(directory):
    paths = sorted(glob.glob(os.path.join(directory, "*.parquet")))
    for path in paths:
        with open(path[:-len(".parquet")] + ".json") as f:
            expected = json.load(f)
        check_schema(path, expected)
        compare("pyarrow", path, pq.read_table(path), expected)
        compare("duckdb", path, duckdb_table(path), expected)
        if expected["rows"] > 0 or expected["columns"]:
            compare("polars", path, pl.read_parquet(path).to_arrow(), expected)
    return len(paths)


def plain_bound(value, col):
    """The expected statistics value as pyarrow's Statistics.min/max shows it."""
    kind = col["kind"]
    if kind == "decimal":
        return decimal.Decimal(int(value)).scaleb(-col["scale"])
    return value


def metadata(directory):
    paths = sorted(glob.glob(os.path.join(directory, "*.parquet")))
    for path in paths:
        base = os.path.basename(path)
        with open(path[:-len(".parquet")] + ".json") as f:
            expected = json.load(f)
        md = pq.ParquetFile(path).metadata
        if md.num_rows != expected["rows"]:
            fail(f"metadata {base}: num_rows {md.num_rows}")
        if not md.created_by.startswith("replicatord version "):
            fail(f"metadata {base}: created_by {md.created_by}")
        for rg in range(md.num_row_groups):
            group = md.row_group(rg)
            for ci, col in enumerate(expected["columns"]):
                chunk = group.column(ci)
                if chunk.compression != expected["codec"]:
                    fail(f"metadata {base}: column {col['name']} compression {chunk.compression}")
                if not chunk.is_stats_set:
                    fail(f"metadata {base}: column {col['name']} has no statistics")
        # Whole-file min/max/null_count of flat orderable columns against the expected values.
        if md.num_row_groups == 1:
            group = md.row_group(0)
            for ci, col in enumerate(expected["columns"]):
                if col["list"] or col["kind"] in ("float", "double", "uuid", "bytes", "fixed", "boolean"):
                    continue
                values = [v for v in expected["values"][col["name"]] if v is not None]
                stats = group.column(ci).statistics
                nulls = expected["rows"] - len(values)
                if stats.null_count != nulls:
                    fail(f"metadata {base}: column {col['name']} null_count {stats.null_count}, expected {nulls}")
                if not values:
                    continue
                if col["kind"] in ("string", "json"):
                    keyed = sorted(values, key=lambda s: s.encode())
                    lo, hi = keyed[0], keyed[-1]
                elif col["kind"] == "decimal":
                    lo, hi = min(values, key=int), max(values, key=int)
                else:
                    lo, hi = min(values), max(values)
                want_lo, want_hi = plain_bound(lo, col), plain_bound(hi, col)
                got_lo, got_hi = stats.min, stats.max
                if col["kind"] in ("string", "json"):
                    got_lo, got_hi = norm(got_lo, col), norm(got_hi, col)
                if col["kind"] == "date":
                    got_lo, got_hi = (got_lo - EPOCH_DATE).days, (got_hi - EPOCH_DATE).days
                if col["kind"] == "timestamp":
                    got_lo, got_hi = norm(got_lo, col), norm(got_hi, col)
                if col["kind"] == "time":
                    got_lo, got_hi = norm(got_lo, col), norm(got_hi, col)
                if (got_lo, got_hi) != (want_lo, want_hi):
                    fail(f"metadata {base}: column {col['name']} min/max {got_lo!r}/{got_hi!r}, expected {want_lo!r}/{want_hi!r}")
        rows = duckdb.sql(
            f"SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count, compression "
            f"FROM parquet_metadata('{path}')").fetchall()
        for path_in_schema, lo, hi, nulls, compression in rows:
            if nulls is None:
                fail(f"duckdb parquet_metadata {base}: {path_in_schema} has no null count")
            if compression.upper() != expected["codec"]:
                fail(f"duckdb parquet_metadata {base}: {path_in_schema} compression {compression}")
        if expected["rows"] > 0:
            if not any(lo is not None and hi is not None for _, lo, hi, _, _ in rows):
                fail(f"duckdb parquet_metadata {base}: no min/max statistics at all")
    return len(paths)


def main():
    mode, directory = sys.argv[1], sys.argv[2]
    count = {"roundtrip": roundtrip, "metadata": metadata}[mode](directory)
    if failures:
        for f in failures[:50]:
            print(f, file=sys.stderr)
        print(f"{len(failures)} mismatches in {count} files", file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)
    print(f"ok: {count} files checked ({mode})")
    # Skip interpreter teardown: native reader thread pools have been seen to abort there.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
