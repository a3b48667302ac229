"""What the Iceberg checking scripts share (iceberg_check.py, iceberg_read.py, iceberg_random.py,
bench's Iceberg section): the one value normaliser, the report lines, DuckDB with the iceberg
extension loaded from the PyPI wheels by path, and the metadata file a version-hint names.

canonical(v): one value in one form whichever reader produced it:
  - timestamps as microseconds since the epoch (naive ones read as UTC), dates as days;
  - decimals as their text ("12.50"); NaN as "NaN";
  - binary as hex, or with text_binary=True as the UTF-8 text when it is text (json/jsonb columns
    are Iceberg binary: pyiceberg and polars give bytes where pyarrow reads the Parquet files'
    JSON as text);
  - with loose=True also JSON text re-serialized with sorted keys (DuckDB gives {"n":1} for
    PostgreSQL's {"n": 1}), decimals normalized ("12.5"), floats by repr: for comparing readers
    with one another, not with an exact expectation;
  - lists element by element; numpy scalars and arrays as Python values.
"""
import datetime
import decimal
import glob
import json
import os

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

FAILURES = []


def report(ok, what, detail=""):
    """Prints "ok WHAT: DETAIL" or "FAIL WHAT: DETAIL" and remembers a failure."""
    line = ("ok " if ok else "FAIL ") + what + (f": {detail}" if detail else "")
    print(line, flush=True)
    if not ok:
        FAILURES.append(line)


def canonical(v, loose=False, text_binary=False):
    """One value in one form (see the module's doc)."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str):
        if loose and v[:1] in ("{", "["):
            try:
                return json.dumps(json.loads(v), sort_keys=True)
            except ValueError:
                return v
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return repr(v) if loose else v
    if isinstance(v, decimal.Decimal):
        if v != v:
            return "NaN"
        return str(v.normalize()) if loose else str(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        d = v - EPOCH
        return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
    if isinstance(v, datetime.date):
        return (v - datetime.date(1970, 1, 1)).days
    if isinstance(v, (bytes, bytearray, memoryview)):
        if text_binary or loose:
            try:
                return canonical(bytes(v).decode("utf-8"), loose, text_binary)
            except UnicodeDecodeError:
                pass
        return bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [canonical(x, loose, text_binary) for x in v]
    if hasattr(v, "tolist"):  # numpy scalars and arrays
        return canonical(v.tolist(), loose, text_binary)
    return str(v)


def duckdb_with_iceberg():
    """A DuckDB connection with the avro and iceberg extensions of the duckdb-extension-* wheels
    loaded by path (nothing is downloaded at run time)."""
    import duckdb
    import duckdb_extension_avro
    import duckdb_extension_iceberg
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions=false")
    con.execute("SET autoload_known_extensions=false")
    for module, name in ((duckdb_extension_avro, "avro"), (duckdb_extension_iceberg, "iceberg")):
        path = glob.glob(os.path.join(module.__path__[0], "extensions", f"v{duckdb.__version__}", f"{name}.duckdb_extension"))[0]
        con.execute(f"LOAD '{path}'")
    return con


def current_metadata_file(table_folder):
    """The `vN.metadata.json` the table's metadata/version-hint.text names."""
    meta_dir = os.path.join(table_folder, "metadata")
    with open(os.path.join(meta_dir, "version-hint.text")) as f:
        return os.path.join(meta_dir, f"v{f.read().strip()}.metadata.json")


def quoted(names):
    """Column names as a SQL select list."""
    return ", ".join('"' + n.replace('"', '""') + '"' for n in names)
