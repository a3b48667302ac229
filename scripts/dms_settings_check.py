#!/usr/bin/env python3
"""Reads a table folder written under the DMS S3 settings of [output] and prints what a reader sees.

usage:
  dms_settings_check.py files DIR SCHEMA/TABLE
      one JSON object: every Parquet file under the table folder (path relative to it, whatever
      date folders lie between), its Op counts, whether it has an Op column, its column types.
  dms_settings_check.py millis DIR SCHEMA/TABLE COLUMN [COLUMN ...]
      one JSON object per engine (pyarrow, duckdb, spark): per column, the sorted values as
      milliseconds since 1970 (UTC; a timestamp without time zone as if UTC) and the Parquet unit.
"""
import collections, glob, json, os, sys


def parquet_files(folder):
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "metadata"]
        out += [os.path.join(root, n) for n in names if n.endswith(".parquet") and not n.startswith(".")]
    return sorted(out, key=lambda p: (os.path.basename(p), p))


def files(folder):
    import pyarrow.parquet as pq
    result = []
    for path in parquet_files(folder):
        t = pq.read_table(path)
        ops = collections.Counter(t.column("Op").to_pylist()) if "Op" in t.column_names else {}
        result.append({"path": os.path.relpath(path, folder), "rows": t.num_rows, "has_op": "Op" in t.column_names,
                       "ops": dict(ops), "types": {f.name: str(f.type) for f in t.schema}})
    print(json.dumps({"files": result}))


def millis(folder, columns):
    import pyarrow as pa, pyarrow.parquet as pq
    paths = parquet_files(folder)
    tables = [pq.read_table(p, columns=columns) for p in paths]
    units = {c: sorted({str(t.schema.field(c).type) for t in tables}) for c in columns}
    arrow = {c: sorted(v for t in tables for v in t.column(c).cast(pa.int64()).to_pylist() if v is not None) for c in columns}
    print(json.dumps({"engine": "pyarrow", "types": units, "values": arrow}), flush=True)

    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    files_list = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
    values = {}
    for c in columns:
        rows = con.execute(f'SELECT epoch_ms("{c}"::TIMESTAMP) FROM read_parquet({files_list}, union_by_name = true) '
                           f'WHERE "{c}" IS NOT NULL ORDER BY 1').fetchall()
        values[c] = [r[0] for r in rows]
    print(json.dumps({"engine": "duckdb", "values": values}), flush=True)

    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[1]").appName("dms-settings-check")
             .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC").getOrCreate())
    df = spark.read.option("mergeSchema", "true").parquet(*["file://" + p for p in paths])
    values = {}
    for c in columns:
        rows = df.selectExpr(f"unix_millis(cast(`{c}` as timestamp)) AS v").where("v IS NOT NULL").orderBy("v").collect()
        values[c] = [r["v"] for r in rows]
    print(json.dumps({"engine": "spark", "types": {c: df.schema[c].dataType.simpleString() for c in columns}, "values": values}), flush=True)
    spark.stop()


def main():
    command, directory, table = sys.argv[1], sys.argv[2], sys.argv[3]
    folder = os.path.join(directory, *table.split("/"))
    if command == "files":
        files(folder)
    elif command == "millis":
        millis(folder, sys.argv[4:])
    else:
        sys.exit(f"unknown command {command}")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
