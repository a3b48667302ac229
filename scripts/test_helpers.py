#!/usr/bin/env python3
"""The small Python steps of the Swift integration tests, one subcommand each (the tests call
`TestEnvironment.helper([...])`; run by hand to see what a test saw):

  create-bucket ENDPOINT BUCKET           an S3 bucket on moto_server
  list-keys ENDPOINT BUCKET PREFIX        the keys under PREFIX, one per line
  open-uploads ENDPOINT BUCKET            the number of multipart uploads not completed or aborted
  sigterm-on-upload ENDPOINT BUCKET PID   SIGTERM to PID as soon as a .parquet multipart upload is open
  free-port                               a free TCP port on 127.0.0.1
  http-get URL                            the status on the first line, then the body (0 and the error
                                          when nothing answers)
  tcp-probe HOST PORT                     "reached" or "refused"
  duckdb SQL                              DuckDB's rows for SQL, as a Python list
  duckdb-columns SQL                      the sorted column names of SQL's result
  prometheus-samples FILE                 the samples of a Prometheus text file: name table op value
  truncate-rows DIR TABLE...              per table of public: its T rows in CDC files, and whether
                                          each has only Op, _seq and _commit_ts set
  streamed-values DIR                     per streamed-*.parquet file: (id, length, md5 prefix) by
                                          pyarrow, and (id, octet_length) by DuckDB
  cfn-lint ARG...                         cfn-lint (it has no `python -m`)
"""
import glob
import hashlib
import os
import signal
import socket
import sys
import time


def s3(endpoint):
    import boto3
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def main(argv):
    if not argv:
        sys.exit(__doc__)
    command, args = argv[0], argv[1:]
    if command == "create-bucket":
        s3(args[0]).create_bucket(Bucket=args[1])
    elif command == "list-keys":
        # A prefix without "/" is what moto_server signs correctly; filter the rest here.
        listing = s3(args[0]).list_objects_v2(Bucket=args[1], Prefix=args[2].split("/")[0]).get("Contents", [])
        print("\n".join(o["Key"] for o in listing if o["Key"].startswith(args[2])))
    elif command == "open-uploads":
        print(len(s3(args[0]).list_multipart_uploads(Bucket=args[1]).get("Uploads", [])))
    elif command == "sigterm-on-upload":
        client, deadline = s3(args[0]), time.time() + 120
        while time.time() < deadline:
            uploads = client.list_multipart_uploads(Bucket=args[1]).get("Uploads", [])
            if any(u["Key"].endswith(".parquet") for u in uploads):
                os.kill(int(args[2]), signal.SIGTERM)
                print("SIGTERM during", [u["Key"] for u in uploads])
                return
            time.sleep(0.05)
        print("no upload seen")
        sys.exit(1)
    elif command == "free-port":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
    elif command == "http-get":
        import urllib.error
        import urllib.request
        try:
            r = urllib.request.urlopen(args[0], timeout=5)
            print(r.status)
            sys.stdout.write(r.read().decode())
        except urllib.error.HTTPError as e:
            print(e.code)
            sys.stdout.write(e.read().decode())
        except Exception as e:  # nothing answered: the test decides what that means
            print(0)
            print(repr(e))
    elif command == "tcp-probe":
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect((args[0], int(args[1])))
            print("reached")
        except OSError:
            print("refused")
    elif command == "duckdb":
        import duckdb
        print(duckdb.sql(args[0]).fetchall())
    elif command == "duckdb-columns":
        import duckdb
        print(sorted(duckdb.sql(args[0]).columns))
    elif command == "prometheus-samples":
        from prometheus_client.parser import text_string_to_metric_families
        with open(args[0]) as f:
            for family in text_string_to_metric_families(f.read()):
                for sample in family.samples:
                    print(sample.name, sample.labels.get("table", ""), sample.labels.get("op", ""), sample.value)
    elif command == "truncate-rows":
        import pyarrow.parquet as pq
        for table in args[1:]:
            for f in sorted(glob.glob(f"{args[0]}/public/{table}/2*.parquet")):
                rows = pq.read_table(f).to_pylist()
                ts = [r for r in rows if r["Op"] == "T"]
                print(table, len(ts), all(v is None for r in ts for k, v in r.items() if k not in ("Op", "_seq", "_commit_ts"))
                      and all(r["_seq"] and r["_commit_ts"] for r in ts))
    elif command == "streamed-values":
        import duckdb
        import pyarrow.parquet as pq
        for f in sorted(glob.glob(args[0] + "/streamed-*.parquet")):
            rows = pq.read_table(f).to_pylist()
            duck = duckdb.sql(f"SELECT id, octet_length(v) FROM read_parquet('{f}') ORDER BY id").fetchall()
            print(f.split("/")[-1], [(r["id"], None if r["v"] is None else (len(r["v"]), hashlib.md5(r["v"]).hexdigest()[:8])) for r in rows], duck)
    elif command == "cfn-lint":
        from cfnlint.runner import main as cfn_lint
        sys.argv = ["cfn-lint"] + args
        sys.exit(cfn_lint())
    else:
        sys.exit(f"test_helpers.py: unknown command {command!r}\n{__doc__}")
    # Skip interpreter teardown (duckdb's and pyarrow's thread pools have aborted there).
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
