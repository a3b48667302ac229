#!/usr/bin/env python3
"""Rebuilds tables from replicatord's files and compares them with the source, row by row.

The rule of the contract: read a table's LOAD files, then its CDC files in name order, rows in
file order, and apply I/U/D by primary key (by all columns without one); T empties the table.
Strict: an I of a key already present (a doubled change) or a U/D of an absent key (a lost one)
is reported. Values are compared in PostgreSQL's text form (session: UTC, ISO dates, hex bytea).

usage: oracle.py --conninfo CONNINFO (--dir PATH | --s3 ENDPOINT BUCKET PREFIX) TABLE [TABLE ...]
Prints one JSON line per table; exits 1 on any difference.
"""
import argparse, decimal, io, json, math, os, re, subprocess, sys, uuid, datetime

import pyarrow.parquet as pq


def qualified_name(table):
    """The table's quoted SQL name and its regclass literal."""
    schema, name = split_table(table)
    qualified = '"%s"."%s"' % (schema.replace('"', '""'), name.replace('"', '""'))
    return qualified, "'" + qualified.replace("'", "''") + "'::regclass"


def source_rows(conninfo, table):
    """Column names, key columns and rows (as PostgreSQL text) of the source table."""
    qualified, regclass = qualified_name(table)
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
    select = ", ".join(f"CASE WHEN num_nulls({quote(c)}) = 1 THEN NULL ELSE format('%s', {quote(c)}) END" for c in cols)
    out = q(f"""SELECT coalesce(json_agg(json_build_array({select})), '[]') FROM {qualified} """)
    return cols, keys, [tuple(r) for r in json.loads(out)]


def source_attnums(conninfo, table):
    """attnum of each column of source_rows' column list, in the same order."""
    _, regclass = qualified_name(table)
    out = subprocess.run(["psql", conninfo, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", f"""SELECT coalesce(json_agg(attnum ORDER BY attnum), '[]')
        FROM pg_attribute WHERE attrelid = {regclass} AND attnum > 0 AND NOT attisdropped AND attgenerated = ''"""],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


INT32_MAX, INT64_MAX = 2**31 - 1, 2**63 - 1
NUMERIC_NAN_KEY = b"replicatord.numeric_nan"
OUT_OF_RANGE_KEY = b"replicatord.out_of_range"
ARRAY_DIMS_KEY = b"replicatord.array_dims"


def civil_from_days(z):
    """Proleptic Gregorian (year, month, day) of days since 1970-01-01; year 0 is 1 BC."""
    z += 719468
    era = z // 146097   # floor division: Python floors already
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def pg_date(days):
    """date_out of days since 1970 (DuckDB's ±infinity sentinels: INT32 max, -INT32 max)."""
    if days == INT32_MAX: return "infinity"
    if days == -INT32_MAX: return "-infinity"
    y, m, d = civil_from_days(days)
    return f"{y if y > 0 else 1 - y:04d}-{m:02d}-{d:02d}" + ("" if y > 0 else " BC")


def pg_time(micros):
    s, us = divmod(micros, 1_000_000)
    out = f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
    return out + (".%06d" % us).rstrip("0") if us else out


def pg_timestamp(micros, utc):
    """timestamp_out / timestamptz_out (session time zone UTC) of microseconds since 1970."""
    if micros == INT64_MAX: return "infinity"
    if micros == -INT64_MAX: return "-infinity"
    days, rest = divmod(micros, 86_400_000_000)
    y, m, d = civil_from_days(days)
    out = f"{y if y > 0 else 1 - y:04d}-{m:02d}-{d:02d} {pg_time(rest)}"
    if utc: out += "+00"
    return out if y > 0 else out + " BC"


def pg_float(v, single):
    """float4out / float8out: the shortest exact digits, fixed notation for decimal exponents in
    [-4, 6) (float4) or [-4, 15) (float8), else d.ddde+XX."""
    if math.isnan(v): return "NaN"
    if math.isinf(v): return "Infinity" if v > 0 else "-Infinity"
    if v == 0: return "-0" if math.copysign(1.0, v) < 0 else "0"
    import numpy as np   # here, so that a venv without numpy (.venv-iceberg) reads every other type
    s = np.format_float_scientific(np.float32(v) if single else np.float64(v), unique=True, trim="-")
    mant, exp = s.split("e")
    exp = int(exp)
    sign = "-" if mant.startswith("-") else ""
    digits = mant.lstrip("-").replace(".", "")
    if -4 <= exp < (6 if single else 15):
        if exp >= 0:
            whole = digits[:exp + 1].ljust(exp + 1, "0")
            frac = digits[exp + 1:]
            return sign + whole + ("." + frac if frac else "")
        return sign + "0." + "0" * (-exp - 1) + digits
    return sign + digits[0] + ("." + digits[1:] if len(digits) > 1 else "") + ("e+" if exp >= 0 else "e-") + "%02d" % abs(exp)


def array_element(t):
    """One element as array_out prints it: quoted when empty, "NULL", or holding braces, commas,
    quotes, backslashes or white space."""
    if t is None:
        return "NULL"
    if t == "" or t.upper() == "NULL" or any(c in t for c in '{},"\\ \t\n\r\v\f'):
        return '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return t


def array_text(elements, dims=None):
    """array_out of element texts. `dims` (array_dims() text such as "[1:2][0:2]", from the file's
    replicatord.array_dims metadata) nests the elements, listed in row-major order, again; bounds
    other than 1 are printed before the braces as PostgreSQL does."""
    if not dims:
        return "{" + ",".join(array_element(t) for t in elements) + "}"
    bounds = [(int(lo), int(hi)) for lo, hi in re.findall(r"\[(-?\d+):(-?\d+)\]", dims)]
    lengths = [hi - lo + 1 for lo, hi in bounds]

    def nest(level, start):
        if level == len(lengths) - 1:
            return "{" + ",".join(array_element(t) for t in elements[start:start + lengths[level]]) + "}"
        stride = math.prod(lengths[level + 1:])
        return "{" + ",".join(nest(level + 1, start + i * stride) for i in range(lengths[level])) + "}"
    prefix = "" if all(lo == 1 for lo, _ in bounds) else dims + "="
    return prefix + nest(0, 0)


def scalar_text(v, arrow_type):
    """One non-null Python value (from pyarrow or DuckDB) of a column of `arrow_type`, as
    PostgreSQL prints it. Dates, times and timestamps come as raw integers (see arrow_texts)."""
    import pyarrow as pa
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, float):
        return pg_float(v, pa.types.is_float32(arrow_type))
    if isinstance(v, decimal.Decimal):
        if v.is_nan(): return "NaN"
        return str(v) if "E" not in str(v) else format(v, "f")
    if isinstance(v, (bytes, bytearray)):
        if pa.types.is_fixed_size_binary(arrow_type) and len(v) == 16 or str(arrow_type).startswith("extension<arrow.uuid"):
            return str(uuid.UUID(bytes=bytes(v)))
        return "\\x" + bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    return str(v)


def pg_text(v, arrow_type):
    """One Python value (from pyarrow's to_pylist) as PostgreSQL prints it; kept for callers of the
    earlier per-value API. Whole columns go through arrow_texts, which also handles the values
    to_pylist cannot give (infinity and BC dates and timestamps, 24:00:00)."""
    if v is None:
        return None
    if isinstance(v, list):
        return array_text([pg_text(e, arrow_type.value_type) for e in v])
    if isinstance(v, datetime.datetime):
        s = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond: s += (".%06d" % v.microsecond).rstrip("0")
        return s + ("+00" if v.tzinfo is not None else "")
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, datetime.time):
        return pg_time(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)
    return scalar_text(v, arrow_type)


def arrow_texts(array, nan_rows=(), dims=(), out_of_range=()):
    """PostgreSQL text (None for NULL) of every value of a pyarrow array, by the README's mapping.
    nan_rows: rows (ints) or [row, element] pairs that the file lists as numeric NaN; dims: the
    column's [row, dims] pairs of replicatord.array_dims; out_of_range: its [row, text] or
    [row, element, text] entries of replicatord.out_of_range."""
    import pyarrow as pa
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    t = array.type
    nan_scalar = {r for r in nan_rows if isinstance(r, int)}
    nan_element = {tuple(r) for r in nan_rows if isinstance(r, list)}
    shape = {r: d for r, d in dims}
    far_scalar = {e[0]: e[1] for e in out_of_range if len(e) == 2}
    far_element = {(e[0], e[1]): e[2] for e in out_of_range if len(e) == 3}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        values = arrow_texts(array.values)
        offsets = array.offsets.to_pylist()
        out = []
        for i, valid in enumerate(array.is_valid().to_pylist()):
            if not valid:
                out.append(None); continue
            elems = values[offsets[i]:offsets[i + 1]]
            elems = ["NaN" if (i, k) in nan_element else far_element.get((i, k), e) for k, e in enumerate(elems)]
            out.append(array_text(elems, shape.get(i)))
        return out
    if pa.types.is_date32(t):
        raw = array.cast(pa.int32()).to_pylist()
        conv = pg_date
    elif pa.types.is_timestamp(t):
        scale = {"s": 1_000_000, "ms": 1000, "us": 1, "ns": 1}[t.unit]   # [output] timestamp_millis: TIMESTAMP(MILLIS)
        raw = array.cast(pa.int64()).to_pylist()
        conv = lambda x: pg_timestamp(x * scale if t.unit != "ns" else x // 1000, t.tz is not None)
    elif pa.types.is_time64(t):
        raw = array.cast(pa.int64()).to_pylist()
        conv = pg_time
    else:
        if isinstance(t, pa.ExtensionType):
            array = array.storage
        raw = array.to_pylist()
        conv = lambda x: scalar_text(x, t)
    return ["NaN" if i in nan_scalar else far_scalar.get(i) if x is None else conv(x) for i, x in enumerate(raw)]


def row_lists(metadata, key):
    """A footer key that lists rows per column ({column: [entry, ...]}), or {}."""
    raw = (metadata or {}).get(key)
    return json.loads(raw) if raw else {}


def numeric_nan(metadata):
    """The file's list of DECIMAL cells that held numeric NaN (written as NULL): {column: [rows]}."""
    return row_lists(metadata, NUMERIC_NAN_KEY)


COLUMNS_KEY = b"replicatord.columns"
SEQ, COMMIT_TS = "_seq", "_commit_ts"


def file_columns(metadata):
    """The file's column list (name, attnum, type, missing) from its metadata, or None."""
    raw = (metadata or {}).get(COLUMNS_KEY)
    return json.loads(raw) if raw else None


def table_texts(t, cols, attnums=None, missing=None):
    """The rows of a pyarrow table as dicts of PostgreSQL texts for the source columns `cols`, plus
    Op and _unchanged_toast as they are. With the source's `attnums`, a column is found by attnum
    through the file's replicatord.columns metadata (so a renamed column lines up); a column the
    file does not have reads `missing[attnum]` (the value of a column added with a default)."""
    nan = numeric_nan(t.schema.metadata)
    dims = row_lists(t.schema.metadata, ARRAY_DIMS_KEY)
    far = row_lists(t.schema.metadata, OUT_OF_RANGE_KEY)
    described = file_columns(t.schema.metadata)
    names = {c: c for c in cols}
    if attnums and described:
        by_attnum = {d["attnum"]: d["name"] for d in described if d.get("attnum")}
        names = {c: by_attnum.get(a) for c, a in zip(cols, attnums)}
    texts = {}
    for i, c in enumerate(cols):
        n = names.get(c)
        if n is not None and n in t.column_names:
            texts[c] = arrow_texts(t.column(n), nan.get(n, ()), dims.get(n, ()), far.get(n, ()))
        else:
            fill = (missing or {}).get(attnums[i]) if attnums else None
            texts[c] = [fill] * t.num_rows
    extra = {c: t.column(c).to_pylist() for c in ("Op", "_unchanged_toast", SEQ, COMMIT_TS) if c in t.column_names}
    return [dict({c: texts[c][i] for c in cols}, **{c: extra[c][i] for c in extra}) for i in range(t.num_rows)]


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
    # CDC files may sit in date folders inside the table folder ([output] date_partition, whose
    # MMYYYYDD and DDMMYYYY folders do not sort by date): files are taken from the whole folder and
    # ordered by their own name, which is the commit order.
    if args.dir:
        folder = os.path.join(args.dir, key_component(schema), key_component(name))
        paths = []
        for root, dirs, names in os.walk(folder):
            dirs[:] = [d for d in dirs if d != "metadata"]
            paths += [os.path.join(root, n) for n in names if n.endswith(".parquet") and not n.startswith(".")]
        paths.sort(key=lambda p: (os.path.basename(p), p))
        return [(os.path.relpath(p, folder), lambda p=p: open(p, "rb").read()) for p in paths]
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
            for k in sorted(keys, key=lambda k: (k.rsplit("/", 1)[-1], k)) if k.endswith(".parquet")]


def rebuild(args, table, cols, keys, attnums=None):
    files = list_files(args, table)
    # What rows stored before a column was added read for it, from any file that describes it (a
    # first pass over the footers, so that rows of older files, keys included, read it as they load).
    missing = {}
    for name, read in files:
        for d in file_columns(pq.read_schema(io.BytesIO(read())).metadata) or []:
            if d.get("attnum") and "missing" in d:
                missing[d["attnum"]] = d["missing"]
    load = [f for f in files if os.path.basename(f[0]).startswith("LOAD")]
    cdc = [f for f in files if not os.path.basename(f[0]).startswith("LOAD")]
    rows, problems, counts = {}, [], {"load_rows": 0, "cdc_rows": 0, "I": 0, "U": 0, "D": 0, "T": 0,
                                       "load_files": len(load), "cdc_files": len(cdc)}
    def key_of(rec):
        return tuple(rec[c] for c in (keys or cols))
    # _seq (when the files have it): one value for the whole LOAD set (position 0), then strictly
    # increasing in file and row order over the CDC rows: the order a reader without row positions sees.
    load_seq, last_seq = None, None
    for phase, group in (("load", load), ("cdc", cdc)):
        for name, read in group:
            t = pq.read_table(io.BytesIO(read()))
            for rec in table_texts(t, cols, attnums, missing):
                seq = rec.get(SEQ)
                if seq is not None:
                    counts["seq_rows"] = counts.get("seq_rows", 0) + 1
                    if rec.get(COMMIT_TS) is None: problems.append(f"{name}: {COMMIT_TS} is null")
                    if phase == "load":
                        if load_seq is None: load_seq = seq
                        if seq != load_seq or not seq.endswith("00000000"): problems.append(f"{name}: LOAD row _seq {seq} differs from {load_seq}")
                    else:
                        floor = last_seq or load_seq
                        if floor is not None and seq <= floor: problems.append(f"{name}: _seq {seq} does not sort after {floor}")
                        last_seq = seq
                r = {c: rec[c] for c in cols}
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
        rebuilt, problems, counts = rebuild(args, table, cols, keys, source_attnums(args.conninfo, table))
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
