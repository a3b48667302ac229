#!/usr/bin/env python3
"""Materializes the current state of every replicated table into a Parquet snapshot folder, with
Spark: the job a data engineer runs daily on EMR, Glue or Databricks (plain PySpark, no other
dependency). It applies the same rules as `replicatord ddl`'s views, from `_seq` alone.

  spark-submit current_state.py --source s3://bucket/prefix --output s3://bucket/state [TABLE ...]

TABLE is `schema/table` as the folders are named; none: every folder under --source that holds
Parquet files. Per table the output is `<output>/<schema>/<table>/` (the current rows, with their
`_seq`) and `<output>/_progress/<schema>/<table>.json`, which names the last CDC file applied and
the LOAD set the state was built from.

Incremental: a run reads the previous state and only the CDC files named after the last one
applied (CDC file names sort in commit order, see the README), so a daily run does not read the
whole history again. When the table's LOAD set is not the one the state was built from (a
`reload-table`, a `full-load` re-run), the table is built again from its files.
"""
import argparse, json, sys

from pyspark.sql import SparkSession, functions as F, Window

SEQ, TOAST, OP = "_seq", "_unchanged_toast", "Op"


def base(f):
    """A file's own name (the commit order of CDC files), whatever date folders it sits in."""
    return f.rsplit("/", 1)[-1]


def list_files(spark, folder):
    """The .parquet files of a table folder (any Hadoop file system) as paths relative to it, in
    file-name order: LOAD files lie in the folder, CDC files may lie in date folders inside it
    (replicatord's [output] date_partition, DMS's DatePartitionEnabled); Iceberg's metadata/ is not data."""
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(folder)
    fs = path.getFileSystem(spark._jsc.hadoopConfiguration())
    if not fs.exists(path):
        return []
    found = []
    def walk(p, rel):
        for s in fs.listStatus(p):
            name = s.getPath().getName()
            if s.isDirectory():
                if name != "metadata" and not name.startswith((".", "_")):
                    walk(s.getPath(), rel + name + "/")
            elif name.endswith(".parquet") and not name.startswith("."):
                found.append(rel + name)
    walk(path, "")
    return sorted(found, key=lambda f: (base(f), f))


def list_tables(spark, source):
    jvm = spark._jvm
    root = jvm.org.apache.hadoop.fs.Path(source)
    fs = root.getFileSystem(spark._jsc.hadoopConfiguration())
    tables = []
    for schema in fs.listStatus(root):
        if not schema.isDirectory() or schema.getPath().getName().startswith("_"):
            continue
        for table in fs.listStatus(schema.getPath()):
            if table.isDirectory() and list_files(spark, table.getPath().toString()):
                tables.append(schema.getPath().getName() + "/" + table.getPath().getName())
    return sorted(tables)


def read_progress(spark, path):
    try:
        return json.loads("".join(r.value for r in spark.read.text(path).collect()))
    except Exception:   # no progress yet: the first run
        return None


def current_state(rows, columns, keys):
    """The current rows of a table from its rows (LOAD, CDC, and a previous state's rows) by `_seq`."""
    op = F.coalesce(F.col(OP), F.lit("I"))
    truncated = rows.where(op == "T").agg(F.max(SEQ).alias("t")).collect()[0]["t"] or ""
    live = rows.where((op != "T") & (F.col(SEQ) > F.lit(truncated)))
    if not keys:
        by_row = Window.partitionBy(*columns)
        ranked = live.withColumn("_rn", F.row_number().over(Window.partitionBy(*columns, op).orderBy(F.col(SEQ).desc()))) \
                     .withColumn("_n", F.sum(F.when(op == "D", -1).otherwise(1)).over(by_row))
        return ranked.where((op != "D") & (F.col("_rn") <= F.col("_n"))).select(*columns, SEQ)
    by_key = Window.partitionBy(*keys)
    ranked = live.withColumn("_rn", F.row_number().over(by_key.orderBy(F.col(SEQ).desc())))
    toast = F.concat(F.lit(","), F.coalesce(F.col(TOAST), F.lit("")), F.lit(","))
    out = []
    for c in columns:
        if c in keys:
            out.append(F.col(c)); continue
        unchanged = F.instr(toast, "," + c + ",") > 0
        src = F.max(F.when(~unchanged, F.col(SEQ))).over(by_key)
        ranked = ranked.withColumn("_src_" + c, src)
        out.append(F.max(F.when(F.col(SEQ) == F.col("_src_" + c), F.col(c))).over(by_key).alias(c))
    filled = ranked.select(*out, SEQ, "_rn", op.alias("_op"))
    return filled.where((F.col("_rn") == 1) & (F.col("_op") != "D")).select(*columns, SEQ)


def run_table(spark, args, table):
    folder = args.source.rstrip("/") + "/" + table
    files = list_files(spark, folder)
    load = [f for f in files if base(f).startswith("LOAD")]
    cdc = [f for f in files if not base(f).startswith("LOAD")]
    progress_path = args.output.rstrip("/") + "/_progress/" + table + ".json"
    state_path = args.output.rstrip("/") + "/" + table
    progress = read_progress(spark, progress_path)
    keys = [k for k in (args.keys.get(table) or [])]
    if progress and progress.get("load") == load:
        new = [f for f in cdc if base(f) > base(progress.get("last_cdc") or "")]
        previous = spark.read.parquet(state_path)
        if not new:
            print(json.dumps({"table": table, "applied_files": 0, "rebuilt": False}), flush=True)
            return
        changes = spark.read.option("mergeSchema", "true").parquet(*[folder + "/" + f for f in new])
        rows = previous.withColumn(OP, F.lit("I")).withColumn(TOAST, F.lit(None).cast("string")) \
                       .unionByName(changes, allowMissingColumns=True)
        rebuilt = False
    else:
        rows = spark.read.option("mergeSchema", "true").parquet(*[folder + "/" + f for f in load + cdc])
        new, rebuilt = cdc, True
    columns = [c for c in rows.columns if c not in (OP, SEQ, TOAST, "_commit_ts")]
    state = current_state(rows, columns, keys)
    # Written next to the old state first, then swapped: a failed run leaves the old state.
    staging = state_path + ".next"
    state.write.mode("overwrite").parquet(staging)
    swapped = spark.read.parquet(staging)
    swapped.write.mode("overwrite").parquet(state_path)
    done = {"load": load, "last_cdc": (new[-1] if new else (progress or {}).get("last_cdc"))}
    spark.createDataFrame([(json.dumps(done),)], ["value"]).coalesce(1).write.mode("overwrite").text(progress_path)
    print(json.dumps({"table": table, "applied_files": len(new), "rebuilt": rebuilt}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True, help="the replicated folder: [target] url")
    ap.add_argument("--output", required=True, help="where the current state goes")
    ap.add_argument("--key", action="append", default=[], metavar="schema/table=col1,col2",
                    help="a table's primary key (see `replicatord ddl`); tables without one are keyless")
    ap.add_argument("tables", nargs="*")
    args = ap.parse_args()
    args.keys = {k.split("=", 1)[0]: k.split("=", 1)[1].split(",") for k in args.key}
    spark = SparkSession.builder.appName("replicatord-current-state").getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    # Timestamps as the files have them (INT64 microseconds), not Spark's default INT96, which
    # Athena and pyarrow read differently.
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    for table in args.tables or list_tables(spark, args.source):
        run_table(spark, args, table)
    spark.stop()


if __name__ == "__main__":
    sys.exit(main())
