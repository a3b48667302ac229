#!/usr/bin/env python3
"""Compares every value replicatord wrote for a table with the source's own text form, reading the
files with pyarrow, DuckDB and (with --spark) Spark, each turned into PostgreSQL's text by the
README's type mapping (oracle.py's rules for pyarrow; DuckDB's own values and VARCHAR casts for
DuckDB; for Spark, schema inference with no option, then unix_date/unix_micros for dates and
timestamps so that values beyond Python's datetime still compare).

The table is rebuilt from its LOAD and CDC files (I/U/D/T by primary key, unchanged TOAST kept from
the previous row, DECIMAL NaN restored from the replicatord.numeric_nan metadata, out-of-range values
from replicatord.out_of_range, array dimensions from replicatord.array_dims, added columns filled
from replicatord.columns) and then every column of every source row is compared.

usage: type_corpus_check.py --conninfo CONNINFO --dir PATH [--spark] TABLE [TABLE ...]
Prints one JSON line per table: values compared and mismatches per reader; exits 1 on any mismatch.
"""
import argparse, io, json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

BC = re.compile(r"^(\d{4,}-\d\d-\d\d) \(BC\)(.*)$")


def duck_temporal(text, arrow_type=None):
    """DuckDB's VARCHAR of a date/time/timestamp as PostgreSQL prints it: DuckDB writes BC after
    the date ("0044-03-15 (BC) 12:00:00"), PostgreSQL at the end ("0044-03-15 12:00:00 BC")."""
    if text is None:
        return None
    m = BC.match(text)
    return m.group(1) + m.group(2) + " BC" if m else text


def is_temporal(t):
    return pa.types.is_date(t) or pa.types.is_timestamp(t) or pa.types.is_time(t)


def duck_rows(con, path, cols, arrow_schema):
    """The file's rows as dicts of PostgreSQL text, read by DuckDB."""
    exprs, kinds = [], []
    for c in cols:
        q = '"' + c.replace('"', '""') + '"'
        t = arrow_schema.field(c).type
        if pa.types.is_list(t) and is_temporal(t.value_type):
            exprs.append(f"list_transform({q}, lambda x: CAST(x AS VARCHAR))"); kinds.append(("list_temporal", t))
        elif is_temporal(t):
            exprs.append(f"CAST({q} AS VARCHAR)"); kinds.append(("temporal", t))
        elif pa.types.is_list(t):
            exprs.append(q); kinds.append(("list", t))
        else:
            exprs.append(q); kinds.append(("scalar", t))
    extra = [c for c in ("Op", "_unchanged_toast") if c in arrow_schema.names]
    sql = f"SELECT {', '.join(exprs + [chr(34) + c + chr(34) for c in extra]) or '1'} FROM read_parquet(?)"
    metadata = {bytes(k): bytes(v) for k, v in con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [path]).fetchall()}
    return texts_of_rows(con.execute(sql, [path]).fetchall(), cols, kinds, extra, metadata,
                         temporal=duck_temporal, temporal_element=duck_temporal)


def texts_of_rows(rows, cols, kinds, extra, metadata, temporal, temporal_element):
    """Rows of a reader (tuples: the columns, then `extra`) as dicts of PostgreSQL text, with the
    file's NaN, out-of-range and array-dimension lists applied."""
    nan = oracle.numeric_nan(metadata)
    far = oracle.row_lists(metadata, oracle.OUT_OF_RANGE_KEY)
    dims = oracle.row_lists(metadata, oracle.ARRAY_DIMS_KEY)
    out = []
    for row_no, row in enumerate(rows):
        rec = {}
        for i, c in enumerate(cols):
            v, (kind, t) = row[i], kinds[i]
            marks = nan.get(c, ())
            far_scalar = {e[0]: e[1] for e in far.get(c, ()) if len(e) == 2}
            far_element = {(e[0], e[1]): e[2] for e in far.get(c, ()) if len(e) == 3}
            shape = {r: d for r, d in dims.get(c, ())}.get(row_no)
            if v is None:
                rec[c] = "NaN" if row_no in marks else far_scalar.get(row_no)
            elif kind == "temporal":
                rec[c] = temporal(v, t)
            elif kind in ("list", "list_temporal"):
                def element(k, e):
                    if [row_no, k] in marks: return "NaN"
                    if e is None: return far_element.get((row_no, k))
                    return temporal_element(e, t.value_type) if kind == "list_temporal" else oracle.scalar_text(e, t.value_type)
                rec[c] = oracle.array_text([element(k, e) for k, e in enumerate(v)], shape)
            else:
                rec[c] = oracle.scalar_text(v, t)
        for j, c in enumerate(extra):
            rec[c] = row[len(cols) + j]
        out.append(rec)
    return out


def spark_temporal(v, t):
    """A date (unix_date) or timestamp (unix_micros) read by Spark as PostgreSQL prints it."""
    if pa.types.is_date(t):
        return oracle.pg_date(v)
    if pa.types.is_timestamp(t):
        return oracle.pg_timestamp(v, t.tz is not None)
    return oracle.pg_time(v)


def spark_rows(spark, path, cols):
    """The file's rows as dicts of PostgreSQL text, read by Spark with schema inference."""
    df = spark.read.parquet(path)
    arrow_schema = pq.read_schema(path)
    missing = [c for c in arrow_schema.names if c not in df.columns]
    if missing:
        raise RuntimeError(f"{path}: Spark did not infer the columns {missing}")
    exprs, kinds = [], []

    def raw(q, t):
        # unix_date/unix_micros give the stored integers, whatever Python's datetime can hold.
        if pa.types.is_date(t): return f"unix_date({q})"
        if pa.types.is_timestamp(t): return f"unix_micros(CAST({q} AS TIMESTAMP))"
        # The decimal's own digits (Spark's Python Decimal may carry another exponent).
        if pa.types.is_decimal(t): return f"CAST({q} AS STRING)"
        return q
    for c in cols:
        q = "`" + c.replace("`", "``") + "`"
        t = arrow_schema.field(c).type
        if pa.types.is_list(t) and is_temporal(t.value_type):
            exprs.append(f"transform({q}, x -> {raw('x', t.value_type)})"); kinds.append(("list_temporal", t))
        elif is_temporal(t):
            exprs.append(raw(q, t)); kinds.append(("temporal", t))
        elif pa.types.is_list(t):
            exprs.append(f"transform({q}, x -> {raw('x', t.value_type)})"); kinds.append(("list", t))
        else:
            exprs.append(raw(q, t)); kinds.append(("scalar", t))
    extra = [c for c in ("Op", "_unchanged_toast") if c in arrow_schema.names]
    rows = [tuple(r) for r in df.selectExpr(*(exprs + [f"`{c}`" for c in extra])).collect()] if exprs or extra else []
    return texts_of_rows(rows, cols, kinds, extra, arrow_schema.metadata,
                         temporal=spark_temporal, temporal_element=spark_temporal)


def spark_session():
    from pyspark.sql import SparkSession
    return (SparkSession.builder.master("local[1]").appName("type-corpus-check")
            .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC").getOrCreate())


def arrow_rows(path, cols):
    t = pq.read_table(path)
    return oracle.table_texts(t, [c for c in cols if c in t.column_names])


def rebuild(files, cols, keys, reader):
    rows, problems = {}, []
    for name, path in files:
        is_load = os.path.basename(name).startswith("LOAD")
        present = pq.read_schema(path).names
        file_cols = [c for c in cols if c in present]
        for rec in reader(path, file_cols):
            r = {c: rec.get(c) for c in cols}
            op = "I" if is_load else rec.get("Op")
            if op == "T":
                rows.clear(); continue
            k = tuple(r[c] for c in keys)
            if op == "I":
                if k in rows: problems.append(f"{name}: insert of a key already present {k}")
                rows[k] = r
            elif op == "U":
                for c in (rec.get("_unchanged_toast") or "").split(","):
                    if c and k in rows: r[c] = rows[k][c]
                rows[k] = r
            elif op == "D":
                rows.pop(k, None)
    return rows, problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conninfo", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--spark", action="store_true", help="read every file with Spark too (one session for all)")
    ap.add_argument("tables", nargs="+")
    args = ap.parse_args()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    spark = spark_session() if args.spark else None
    failed = False
    for table in args.tables:
        cols, keys, src = oracle.source_rows(args.conninfo, table)
        schema, name = table.split(".", 1)
        folder = os.path.join(args.dir, schema, name)
        names = sorted(n for n in os.listdir(folder) if n.endswith(".parquet"))
        files = [(n, os.path.join(folder, n)) for n in names if n.startswith("LOAD")] + \
                [(n, os.path.join(folder, n)) for n in names if not n.startswith("LOAD")]
        expected = {tuple(dict(zip(cols, r))[c] for c in keys): dict(zip(cols, r)) for r in src}
        result = {"table": table, "rows": len(expected), "files": len(files)}
        readers = {
            "pyarrow": lambda path, fc: arrow_rows(path, fc),
            "duckdb": lambda path, fc: duck_rows(con, path, fc, pq.read_schema(path)),
        }
        if spark is not None:
            readers["spark"] = lambda path, fc: spark_rows(spark, path, fc)
        for label, reader in readers.items():
            rebuilt, problems = rebuild(files, cols, keys, reader)
            compared, mismatches, examples = 0, 0, []
            for k, row in expected.items():
                got = rebuilt.get(k)
                for c in cols:
                    compared += 1
                    g = got.get(c) if got else "<row missing>"
                    if g != row[c]:
                        mismatches += 1
                        if len(examples) < 5:
                            e, f = row[c], g
                            short = lambda s: s if not isinstance(s, str) or len(s) < 120 else s[:60] + f"...({len(s)} chars)"
                            examples.append(f"{k} {c}: source {short(e)!r} {label} {short(f)!r}")
            extra = [k for k in rebuilt if k not in expected]
            mismatches += len(extra) + len(problems)
            result[label] = {"values": compared, "mismatches": mismatches, "extra_rows": len(extra),
                             "problems": problems[:5], "examples": examples}
            failed |= mismatches > 0
        print(json.dumps(result), flush=True)
    sys.stdout.flush()
    os._exit(1 if failed else 0)


if __name__ == "__main__":
    main()
