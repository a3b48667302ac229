#!/usr/bin/env python3
"""Rebuilds tables from replicatord's files and compares them with the source, row by row.

The rule of the contract: read a table's LOAD files, then its CDC files in name order, rows in
file order, and apply I/U/D by primary key (by all columns without one); T empties the table.
Strict: an I of a key already present (a doubled change) or a U/D of an absent key (a lost one)
is reported. Values are compared in PostgreSQL's text form (session: UTC, ISO dates, hex bytea).

usage: oracle.py --conninfo CONNINFO (--dir PATH | --s3 ENDPOINT BUCKET PREFIX) TABLE [TABLE ...]
Prints one JSON line per table; exits 1 on any difference.
"""
import argparse, decimal, io, json, math, os, subprocess, sys, uuid, datetime

import pyarrow.parquet as pq
import numpy as np


def source_rows(conninfo, table):
    """Column names, key columns and rows (as PostgreSQL text) of the source table."""
    schema, name = split_table(table)
    qualified = '"%s"."%s"' % (schema.replace('"', '""'), name.replace('"', '""'))
    regclass = "'" + qualified.replace("'", "''") + "'::regclass"
    env = dict(os.environ, PGOPTIONS="-c timezone=UTC -c datestyle=ISO,YMD -c bytea_output=hex -c intervalstyle=iso_8601")
    def q(sql):
        return subprocess.run(["psql", conninfo, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                              check=True, capture_output=True, text=True, env=env).stdout
    cols = json.loads(q(f"""SELECT coalesce(json_agg(attname::text ORDER BY attnum), '[]') FROM pg_attribute
        WHERE attrelid = {regclass} AND attnum > 0 AND NOT attisdropped AND attgenerated = ''"""))
    keys = json.loads(q(f"""SELECT coalesce(json_agg(a.attname::text ORDER BY a.attnum), '[]') FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = {regclass} AND i.indisprimary"""))
    # format('%s', x) is the type's own output function (what pgoutput sends), unlike ::text for
    # bool, bpchar and inet.
    quote = lambda c: '"' + c.replace('"', '""') + '"'
    select = ", ".join(f"CASE WHEN {quote(c)} IS NULL THEN NULL ELSE format('%s', {quote(c)}) END" for c in cols)
    out = q(f"""SELECT coalesce(json_agg(json_build_array({select})), '[]') FROM {qualified} """)
    return cols, keys, [tuple(r) for r in json.loads(out)]


def pg_text(v, arrow_type):
    """A Parquet value as PostgreSQL prints it."""
    import pyarrow as pa
    if v is None:
        return None
    if isinstance(v, list):
        # array_out: elements quoted when empty, "NULL", or holding braces, commas, quotes,
        # backslashes or white space.
        out = []
        for e in v:
            t = pg_text(e, arrow_type.value_type)
            if t is None:
                out.append("NULL")
            elif t == "" or t.upper() == "NULL" or any(c in t for c in '{},"\\ \t\n'):
                out.append('"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"')
            else:
                out.append(t)
        return "{" + ",".join(out) + "}"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, float):
        if math.isnan(v): return "NaN"
        if math.isinf(v): return "Infinity" if v > 0 else "-Infinity"
        if pa.types.is_float32(arrow_type):
            r = str(np.float32(v))
            return r[:-2] if r.endswith(".0") else r
        r = repr(v)
        if r.endswith(".0"): r = r[:-2]
        return r
    if isinstance(v, decimal.Decimal):
        return str(v) if "E" not in str(v) else format(v, "f")
    if isinstance(v, datetime.datetime):
        s = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond: s += (".%06d" % v.microsecond).rstrip("0")
        if v.tzinfo is not None: s += "+00"
        return s
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, datetime.time):
        s = v.strftime("%H:%M:%S")
        if v.microsecond: s += (".%06d" % v.microsecond).rstrip("0")
        return s
    if isinstance(v, bytes):
        if pa.types.is_fixed_size_binary(arrow_type) and len(v) == 16 or str(arrow_type).startswith("extension<arrow.uuid"):
            return str(uuid.UUID(bytes=v))
        return "\\x" + v.hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    return str(v)


def key_component(name):
    """FileNaming.keyComponent: an identifier as one safe path segment of an object key."""
    out = ""
    for ch in name:
        if ord(ch) >= 0xA0 or ch.isascii() and ch.isalnum() or ch in "_- " or (ch == "." and out):
            out += ch
        else:
            out += "".join("%%%02X" % b for b in ch.encode())
    return out or "%00"


def split_table(table):
    """schema.table, either part optionally double-quoted (quotes doubled inside)."""
    parts, cur, i, quoted = [], "", 0, False
    while i < len(table):
        c = table[i]
        if quoted:
            if c == '"' and table[i + 1:i + 2] == '"':
                cur += '"'; i += 1
            elif c == '"':
                quoted = False
            else:
                cur += c
        elif c == '"':
            quoted = True
        elif c == "." and not parts:
            parts.append(cur); cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts[0], parts[1]


def list_files(args, table):
    schema, name = split_table(table)
    prefix = f"{key_component(schema)}/{key_component(name)}/"
    if args.dir:
        folder = os.path.join(args.dir, key_component(schema), key_component(name))
        names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        return [(n, lambda n=n: open(os.path.join(folder, n), "rb").read()) for n in names if n.endswith(".parquet")]
    import boto3
    endpoint, bucket, pfx = args.s3
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1"))
    full = (pfx.strip("/") + "/" if pfx.strip("/") else "") + prefix
    keys, token = [], None
    # moto_server cannot verify a signature over an encoded "/" in the query: list by the
    # prefix's first path segment and filter here.
    coarse = full.split("/", 1)[0]
    while True:
        kw = dict(Bucket=bucket, Prefix=coarse)
        if token: kw["ContinuationToken"] = token
        page = s3.list_objects_v2(**kw)
        keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].startswith(full)]
        if not page.get("IsTruncated"): break
        token = page["NextContinuationToken"]
    return [(k[len(full):], lambda k=k: s3.get_object(Bucket=bucket, Key=k)["Body"].read())
            for k in sorted(keys) if k.endswith(".parquet")]


def rebuild(args, table, cols, keys):
    files = list_files(args, table)
    load = [f for f in files if f[0].startswith("LOAD")]
    cdc = [f for f in files if not f[0].startswith("LOAD")]
    rows, problems, counts = {}, [], {"load_rows": 0, "cdc_rows": 0, "I": 0, "U": 0, "D": 0, "T": 0,
                                       "load_files": len(load), "cdc_files": len(cdc)}
    def key_of(rec):
        return tuple(rec[c] for c in (keys or cols))
    for phase, group in (("load", load), ("cdc", cdc)):
        for name, read in group:
            t = pq.read_table(io.BytesIO(read()))
            types = {f.name: f.type for f in t.schema}
            for rec in t.to_pylist():
                r = {c: pg_text(rec.get(c), types.get(c)) for c in cols}
                op = rec.get("Op", "I") if phase == "cdc" else "I"
                if phase == "load":
                    counts["load_rows"] += 1
                else:
                    counts["cdc_rows"] += 1; counts[op] = counts.get(op, 0) + 1
                if op == "T":
                    rows.clear(); continue
                k = key_of(r)
                if op == "I":
                    if k in rows: problems.append(f"{name}: insert of a key already present {k} (doubled)")
                    rows[k] = r
                elif op == "U":
                    if k not in rows: problems.append(f"{name}: update of an absent key {k} (lost)")
                    unchanged = (rec.get("_unchanged_toast") or "").split(",")
                    for c in unchanged:
                        if c and k in rows: r[c] = rows[k][c]
                    rows[k] = r
                elif op == "D":
                    if keys and k not in rows: problems.append(f"{name}: delete of an absent key {k} (lost)")
                    if not keys:
                        if k in rows: del rows[k]
                    else:
                        rows.pop(k, None)
                else:
                    problems.append(f"{name}: unknown Op {op!r}")
    return rows, problems, counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conninfo", required=True)
    ap.add_argument("--dir")
    ap.add_argument("--s3", nargs=3, metavar=("ENDPOINT", "BUCKET", "PREFIX"))
    ap.add_argument("tables", nargs="+")
    args = ap.parse_args()
    failed = False
    for table in args.tables:
        cols, keys, src = source_rows(args.conninfo, table)
        rebuilt, problems, counts = rebuild(args, table, cols, keys)
        expected = {tuple(r[cols.index(c)] for c in (keys or cols)): dict(zip(cols, r)) for r in src}
        lost = [k for k in expected if k not in rebuilt]
        extra = [k for k in rebuilt if k not in expected]
        differ = [k for k in expected if k in rebuilt and expected[k] != rebuilt[k]]
        for k in differ[:5]:
            e, g = expected[k], rebuilt[k]
            problems.append(f"row {k} differs: " + ", ".join(f"{c}: source {e[c]!r} files {g[c]!r}" for c in cols if e[c] != g[c]))
        ok = not (lost or extra or differ or problems)
        failed |= not ok
        print(json.dumps({"table": table, "ok": ok, "source_rows": len(src), "rebuilt_rows": len(rebuilt),
                          "lost": len(lost), "extra": len(extra), "differ": len(differ), **counts,
                          "problems": problems[:20]}))
    # os._exit: skip interpreter teardown, where pyarrow's and duckdb's native thread pools have
    # been seen to abort ("terminate called without an active exception") after the work was done.
    sys.stdout.flush()
    os._exit(1 if failed else 0)


if __name__ == "__main__":
    main()
