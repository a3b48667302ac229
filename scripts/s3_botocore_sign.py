#!/usr/bin/env python3
"""Signs S3 requests with botocore's own SigV4 signer, for comparison with ours (a test helper).

stdin: JSON list of {"method", "endpoint", "bucket", "key" (raw, may be null), "query": [[name, value], ...] (raw),
"headers": [[name, value], ...] (extra signed headers), "body_hex", "amz_date", "region", "access_key", "secret_key",
"session_token" (or null)}. stdout: one JSON list of {"url", "authorization"}, with URLs built by botocore's encoders.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence

out = []
for case in json.load(sys.stdin):
    when = datetime.datetime.strptime(case["amz_date"], "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda when=when: when
    path = "/" + case["bucket"]
    if case.get("key") is not None:
        path += "/" + percent_encode(case["key"], safe="/~")
    url = case["endpoint"] + path
    query = sorted(case.get("query", []))
    if query:
        url += "?" + percent_encode_sequence(query)
    body = bytes.fromhex(case.get("body_hex", ""))
    request = AWSRequest(method=case["method"], url=url, data=body, headers=dict(case.get("headers", [])))
    creds = Credentials(case["access_key"], case["secret_key"], case.get("session_token"))
    botocore.auth.S3SigV4Auth(creds, "s3", case["region"]).add_auth(request)
    out.append({"url": url, "authorization": request.headers["Authorization"]})
json.dump(out, sys.stdout)
