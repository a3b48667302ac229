#!/usr/bin/env python3
"""Reads a Glue database the way an engine's catalog does (boto3, SigV4) and the Parquet files its
tables point at (pyarrow), and prints one JSON document for the integration tests:
  {"tables": {name: {"location", "columns": [[name, type], ...], "table_type", "parameters",
                      "partition_keys": [name, ...], "partitions": [{"values", "location"}, ...],
                      "reads": [keys of the Parquet files an engine reads through it]}},
   "files": {location: [[column names of one file directly in it], ...]}}
"reads" is what Athena reads: an unpartitioned table every Parquet file under its location,
subfolders included; a partitioned one the files under its partitions' locations only.
Usage: glue_check.py ENDPOINT DATABASE"""
import io, json, sys
import boto3
import pyarrow.parquet as pq

endpoint, database = sys.argv[1], sys.argv[2]
glue = boto3.client("glue", endpoint_url=endpoint, region_name="us-east-1")
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
tables, files = {}, {}
for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
    for t in page["TableList"]:
        sd = t.get("StorageDescriptor", {})
        location = sd.get("Location", "")
        tables[t["Name"]] = {
            "location": location,
            "columns": [[c["Name"], c["Type"]] for c in sd.get("Columns", [])],
            "table_type": t.get("TableType", ""),
            "parameters": t.get("Parameters", {}),
            "serde": sd.get("SerdeInfo", {}).get("SerializationLibrary", ""),
            "input_format": sd.get("InputFormat", ""),
            "partition_keys": [k["Name"] for k in t.get("PartitionKeys", [])],
        }
        bucket, _, prefix = location[len("s3://"):].partition("/")
        schemas = []
        # The whole bucket, filtered here: moto_server checks a signature over a query whose %2F it
        # decoded first, so a prefix holding "/" fails with SignatureDoesNotMatch.
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in page.get("Contents", [])]
        for key in sorted(k for k in keys if k.startswith(prefix)):
            if key.endswith(".parquet") and "/" not in key[len(prefix):]:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                schemas.append(pq.read_schema(io.BytesIO(body)).names)
        files[location] = schemas
        parquet = sorted(f"s3://{bucket}/{k}" for k in keys if k.endswith(".parquet"))
        if t.get("PartitionKeys"):
            parts = [{"values": p["Values"], "location": p["StorageDescriptor"]["Location"]}
                     for page in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=t["Name"])
                     for p in page["Partitions"]]
            tables[t["Name"]]["partitions"] = sorted(parts, key=lambda p: p["location"])
            tables[t["Name"]]["reads"] = [k for k in parquet if any(k.startswith(p["location"]) for p in parts)]
        else:
            tables[t["Name"]]["partitions"] = []
            tables[t["Name"]]["reads"] = [k for k in parquet if k.startswith(location)]
print(json.dumps({"tables": tables, "files": files}))
