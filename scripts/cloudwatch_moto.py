"""CloudWatch on a moto_server for CloudWatchPublisherIntegrationTests (SigV4 and IAM checking on).

  cloudwatch_moto.py start
      Starts a moto_server on a free loopback port in a process of its own (detached: this command
      returns at once; the server stops itself after 300 s) and prints JSON {"endpoint": URL, "pid": N}.
  cloudwatch_moto.py stop PID
      Stops that server.
  cloudwatch_moto.py setup ENDPOINT
      With auth still off: an IAM user allowed cloudwatch:PutMetricData only, one allowed nothing
      but reading metrics; then SigV4/IAM checking on. Prints JSON {"publisher": [id, secret],
      "reader": [id, secret]}.
  cloudwatch_moto.py read ENDPOINT KEY SECRET NAMESPACE NAME
      With the reader's key: the metric names of NAMESPACE with the dimension Replicator=NAME
      (list_metrics) and each one's values of the last 10 minutes (get_metric_data, Maximum by
      minute). Prints JSON {"names": [...], "values": {name: [...]}}.
"""
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import boto3


def client(endpoint, key="bootstrap", secret="bootstrap"):
    return boto3.client("cloudwatch" if key != "bootstrap" else "iam", endpoint_url=endpoint, region_name="eu-west-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)


def setup(endpoint):
    iam = client(endpoint)
    keys = {}
    # moto checks CloudWatch calls under the signing name, monitoring:; AWS under cloudwatch:.
    for user, actions in [("publisher", ["cloudwatch:PutMetricData", "monitoring:PutMetricData"]),
                          ("reader", [f"{p}:{a}" for p in ("cloudwatch", "monitoring") for a in ("ListMetrics", "GetMetricData", "GetMetricStatistics")])]:
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="cw", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        k = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = [k["AccessKeyId"], k["SecretAccessKey"]]
    urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0",
                                                  headers={"Content-Type": "text/plain"}, method="POST"))
    print(json.dumps(keys))


def read(endpoint, key, secret, namespace, name):
    cw = client(endpoint, key, secret)
    dimension = {"Name": "Replicator", "Value": name}
    names = sorted(m["MetricName"] for m in cw.list_metrics(Namespace=namespace)["Metrics"] if dimension in m["Dimensions"])
    now = datetime.datetime.now(datetime.timezone.utc)
    queries = [{"Id": f"m{i}", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": n, "Dimensions": [dimension]},
                                               "Period": 60, "Stat": "Maximum"}} for i, n in enumerate(names)]
    values = {}
    if queries:
        results = cw.get_metric_data(MetricDataQueries=queries, StartTime=now - datetime.timedelta(minutes=10),
                                     EndTime=now + datetime.timedelta(minutes=1))["MetricDataResults"]
        values = {names[int(r["Id"][1:])]: r["Values"] for r in results}
    print(json.dumps({"names": names, "values": values}))


def start():
    sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
    # `timeout` ends it even if the test never says stop; no pipe of ours is inherited, so whoever
    # reads this command's output to its end is not kept waiting by the server.
    server = subprocess.Popen(["timeout", "300", sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1); break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill(); sys.exit(f"moto_server did not answer on {endpoint}")
    print(json.dumps({"endpoint": endpoint, "pid": server.pid}))


def stop(pid):
    os.killpg(int(pid), signal.SIGTERM)


if __name__ == "__main__":
    {"start": start, "stop": stop, "setup": setup, "read": read}[sys.argv[1]](*sys.argv[2:])
