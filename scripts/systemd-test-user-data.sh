# Sourced by scripts/systemd-test once its own checks are done (its helpers, $SDPID, the test
# database $DB with the scram-only role $ROLE/$PGPW and publication sd_pub are in scope).
#
# The AWS stack's user data (config/aws/user-data.sh, what the launch template of
# config/aws/replicatord.yaml embeds) runs inside the namespace's root as EC2 would run it, with
# test stand-ins for what only AWS has:
#   - the .deb from scripts/package-deb (the debug binary) served over HTTP on loopback;
#   - a moto_server of its own (SigV4 and IAM checking on) for S3, Secrets Manager, CloudWatch and
#     Athena, with an IAM user whose policy is the instance role's (this bucket, this one secret,
#     PutMetricData, the Athena named-query calls) in place of the instance profile: its keys file
#     is the one thing the test adds (on EC2 the keys come from instance metadata).
# Then: the package runs as its unit with the password fetched from Secrets Manager and handed over
# with LoadCredential=, replicates to moto's S3, publishes to moto's CloudWatch, saved the Athena
# named queries, and no secret is anywhere it must not be. Last, a replacement instance (fresh
# state directory, the user data run again, same bucket and slot) resumes without a new full load.

UD_CHECKS=(user-data-runs user-data-config user-data-secret-scope user-data-credential user-data-replicates
           user-data-cloudwatch user-data-athena user-data-no-secret user-data-replacement-resumes)
UD_MOTO_PID=""; UD_HTTP_PID=""
ud_cleanup() {
  [ -n "$UD_HTTP_PID" ] && kill "$UD_HTTP_PID" 2>/dev/null
  [ -n "$UD_MOTO_PID" ] && kill "$UD_MOTO_PID" 2>/dev/null
  UD_HTTP_PID=""; UD_MOTO_PID=""
}
ud_skip_all() { for c in "${UD_CHECKS[@]}"; do skip "$c" "$1"; done; ud_cleanup; }

ud_run() {
  local stage=$STAGE/user-data
  mkdir -p "$stage/deb"
  say "user data: packaging the debug binary (scripts/package-deb --binary)"
  if ! scripts/package-deb --binary "$BIN" --output "$stage/deb" --compression zstd >"$stage/package.log" 2>&1; then
    ud_skip_all "scripts/package-deb failed: $(tail -2 "$stage/package.log" | tr '\n' ' ')"; return
  fi
  local deb; deb=$(basename "$(ls "$stage"/deb/*.deb)")
  local http_port moto_port health_port
  http_port=$(free_port); moto_port=$(free_port); health_port=$(free_port)
  "$PY" -m http.server --bind 127.0.0.1 --directory "$stage/deb" "$http_port" >/dev/null 2>&1 &
  UD_HTTP_PID=$!
  "$PY" -m moto.server -H 127.0.0.1 -p "$moto_port" >"$stage/moto.log" 2>&1 &
  UD_MOTO_PID=$!
  local moto="http://127.0.0.1:$moto_port"
  wait_for 20 curl -fs "$moto/moto-api/" -o /dev/null || { ud_skip_all "moto_server did not start"; return; }
  wait_for 10 curl -fs "http://127.0.0.1:$http_port/$deb" -o /dev/null || { ud_skip_all "the package's HTTP server did not start"; return; }

  # The stack's resources on moto, the instance role as an IAM user, then SigV4/IAM checking on.
  local bucket=stack-$RUN namespace=replicatord-test name=stack-$RUN workgroup=stack-$RUN-replicatord
  local setup
  setup=$("$PY" - "$moto" "$bucket" "$ROLE" "$PGPW" "$workgroup" "$namespace" <<'PY'
import json, sys, urllib.request, boto3
endpoint, bucket, user, password, workgroup, namespace = sys.argv[1:]
def client(service, key="bootstrap", secret="bootstrap"):
    return boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id=key, aws_secret_access_key=secret)
client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
sm = client("secretsmanager")
secret = sm.create_secret(Name="replicatord/source", SecretString=json.dumps({"username": user, "password": password}))["ARN"]
other = sm.create_secret(Name="someone-else", SecretString="not yours")["ARN"]
client("athena").create_work_group(Name=workgroup, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{bucket}/athena-results/"}})
policy = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
    # moto's IAM refuses a policy that names the secret's ARN for every secret (it does not match
    # secret ARNs), so "*" here; the template's statement names the one ARN (user-data-secret-scope).
    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
    # moto checks CloudWatch calls under its signing name, monitoring:; AWS under cloudwatch:.
    {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData", "monitoring:PutMetricData"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["athena:CreateNamedQuery", "athena:ListNamedQueries", "athena:BatchGetNamedQuery", "athena:GetNamedQuery"], "Resource": "*"},
    # The daemon keeps the Glue database of [catalog] glue_database (as the stack's role allows).
    {"Effect": "Allow", "Action": ["glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable", "glue:BatchCreatePartition"], "Resource": "*"}]}
iam = client("iam")
iam.create_user(UserName="instance")
iam.put_user_policy(UserName="instance", PolicyName="replicatord-host", PolicyDocument=json.dumps(policy))
key = iam.create_access_key(UserName="instance")["AccessKey"]
iam.create_user(UserName="reader")
iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "monitoring:*", "athena:*"], "Resource": "*"}]}))
reader = iam.create_access_key(UserName="reader")["AccessKey"]
urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", headers={"Content-Type": "text/plain"}, method="POST"))
print(secret, other, key["AccessKeyId"], key["SecretAccessKey"], reader["AccessKeyId"], reader["SecretAccessKey"])
PY
) || { ud_skip_all "moto setup failed: $setup"; return; }
  local secret_arn other_arn key_id key_secret reader_id reader_secret
  read -r secret_arn other_arn key_id key_secret reader_id reader_secret <<< "$setup"

  # The instance role may read the one secret: its only secretsmanager statements name that ARN
  # (read from the template: moto's IAM cannot tell secret ARNs apart, see the policy above).
  local scope
  scope=$("$PY" - "$ROOT/config/aws/replicatord.yaml" <<'PY'
import json, sys
from cfnlint.decode import decode_str
template, errors = decode_str(open(sys.argv[1]).read())
assert not errors, errors
found = []
def walk(node):
    if isinstance(node, dict):
        action = node.get("Action")
        actions = [action] if isinstance(action, str) else action if isinstance(action, list) else []
        if any(str(a).startswith("secretsmanager:") for a in actions):
            found.append((node.get("Sid"), actions, json.loads(json.dumps(node.get("Resource"), default=str))))
        for v in node.values(): walk(v)
    elif isinstance(node, list):
        for v in node: walk(v)
walk(template["Resources"])
print(json.dumps(found))
PY
)
  if [ "$scope" = '[["ReadTheTestDatabaseSecretOnly", ["secretsmanager:GetSecretValue"], {"Ref": "TestDatabaseSecret"}], ["ReadThePasswordSecretOnly", ["secretsmanager:GetSecretValue"], {"Ref": "DatabasePasswordSecretArn"}]]' ] \
     || [ "$scope" = '[["ReadTheTestDatabaseSecretOnly", "secretsmanager:GetSecretValue", {"Ref": "TestDatabaseSecret"}], ["ReadThePasswordSecretOnly", "secretsmanager:GetSecretValue", {"Ref": "DatabasePasswordSecretArn"}]]' ]; then
    pass user-data-secret-scope "the role's only secretsmanager statements: GetSecretValue on Ref TestDatabaseSecret / Ref DatabasePasswordSecretArn"
  else
    fail user-data-secret-scope "secretsmanager statements in the template: $scope"
  fi

  # A fresh "instance": the earlier checks' units, binary and files out of the way.
  ns systemctl stop replicatord.service replicatord@alpha.service replicatord@beta.service 2>/dev/null
  ns sh -c 'rm -rf /etc/systemd/system/replicatord.service /etc/systemd/system/replicatord.service.d \
    /etc/systemd/system/replicatord@.service /etc/systemd/system/replicatord@.service.d /usr/local/bin/replicatord \
    /etc/replicatord /var/lib/replicatord /var/lib/private/replicatord' && ns systemctl daemon-reload
  # The instance profile's stand-in: a keys file, and the fetcher told where it is.
  local keys; keys=$(printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$key_id" "$key_secret")
  ns install -D -m 0600 /dev/stdin /etc/replicatord/aws-credentials <<< "$keys"
  ns install -D -m 0644 /dev/stdin /etc/systemd/system/replicatord-secret.service.d/60-test-keys.conf <<'EOF'
[Service]
Environment=AWS_SHARED_CREDENTIALS_FILE=/etc/replicatord/aws-credentials
EOF
  # The aws program itself (a pyenv shim would need pyenv's environment in the namespace).
  local aws_cli; aws_cli=$(pyenv which aws 2>/dev/null || command -v aws)
  [ -x "$aws_cli" ] || { for c in "${UD_CHECKS[@]:1}"; do [ "$c" = user-data-secret-scope ] || skip "$c" "no aws program on this machine"; done; ud_cleanup; return; }
  ud_params=(
    REPLICATORD_PACKAGE_URL="http://127.0.0.1:$http_port/$deb" REPLICATORD_REGION=eu-west-1
    REPLICATORD_SOURCE_HOST=127.0.0.1 REPLICATORD_SOURCE_PORT="$PGPORT" REPLICATORD_SOURCE_DATABASE="$DB"
    REPLICATORD_SOURCE_USER="$ROLE" REPLICATORD_SOURCE_SSLMODE=disable REPLICATORD_PUBLICATION=sd_pub
    REPLICATORD_SLOT="sd_stack_$RUN" REPLICATORD_SECRET_ID="$secret_arn" REPLICATORD_TARGET_URL="s3://$bucket/replica"
    REPLICATORD_SERVER_SIDE_ENCRYPTION=AES256 REPLICATORD_INTERVAL_SECONDS=2 REPLICATORD_HEALTH_LISTEN="127.0.0.1:$health_port"
    REPLICATORD_GLUE_DATABASE=replicatord_test REPLICATORD_ATHENA_WORKGROUP="$workgroup"
    REPLICATORD_CLOUDWATCH_NAMESPACE="$namespace" REPLICATORD_CLOUDWATCH_NAME="$name" REPLICATORD_CLOUDWATCH_INTERVAL_SECONDS=10
    REPLICATORD_AWS_ENDPOINT="$moto" REPLICATORD_AWS_CLI="$aws_cli" REPLICATORD_SKIP_APT_UPDATE=1
    AWS_SHARED_CREDENTIALS_FILE=/etc/replicatord/aws-credentials
  )
  run_user_data() { ns env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "${ud_params[@]}" bash "$ROOT/config/aws/user-data.sh" >"$stage/run.out" 2>&1; }
  local started=$SECONDS
  if run_user_data && grep -q "replicatord-user-data: done" "$stage/run.out"; then
    pass user-data-runs "installed $deb over HTTP, wrote the config, started the units, in $((SECONDS - started)) s: $(grep -E 'installing|saved' "$stage/run.out" | sed 's/replicatord-user-data: //' | tr '\n' ';' | cut -c1-200)"
  else
    fail user-data-runs "$(tail -8 "$stage/run.out" | tr '\n' ' ' | cut -c1-600)"
  fi

  local toml; toml=$(ns cat /etc/replicatord/replicatord.toml 2>&1)
  local validated; validated=$(ns replicatord validate --config /etc/replicatord/replicatord.toml 2>&1)
  if grep -q "slot = \"sd_stack_$RUN\"" <<< "$validated" && grep -q "namespace = \"$namespace\"" <<< "$validated" \
     && grep -q 'url = "s3://'"$bucket"'/replica"' <<< "$validated" && ns test -x /usr/bin/replicatord; then
    pass user-data-config "/usr/bin/replicatord from the package; replicatord validate accepts the written TOML ($(grep -c = <<< "$toml") keys set)"
  else
    fail user-data-config "$(tr '\n' ' ' <<< "$validated" | cut -c1-300)"
  fi

  local mainpid creds environ secret_mode
  wait_for 60 in_cdc "$health_port"
  mainpid=$(show replicatord.service MainPID)
  creds=$(ns ls /run/credentials/replicatord.service 2>&1 | tr '\n' ' ')
  environ=$(ns cat "/proc/$mainpid/environ" 2>/dev/null | tr '\0' '\n')
  secret_mode=$(ns stat -c '%a %U' /run/replicatord-secret/pgpass 2>&1)
  if in_cdc "$health_port" && [[ "$creds" == *pgpass* ]] && grep -q '^PGPASSFILE=/run/credentials/replicatord.service/pgpass$' <<< "$environ" \
     && [ "$secret_mode" = "600 root" ] && [ "$(ns stat -c %U /proc/"$mainpid")" = replicatord ]; then
    pass user-data-credential "replicatord-secret.service fetched the password into /run/replicatord-secret/pgpass ($secret_mode); the unit (user replicatord) got it as credential pgpass and logged in with scram"
  else
    fail user-data-credential "cdc: $(health "$health_port" | jq_py 'd["phase"], d["problems"]'); credentials: $creds; pgpass: $secret_mode; $(jn -u replicatord-secret.service | tail -3 | tr '\n' ' ')$(jn -u replicatord.service | grep -iE 'error|fail' | head -3 | tr '\n' ' ')"
  fi

  psql_su -d "$DB" -c "INSERT INTO public.customers VALUES (200001, 'through the stack')" >/dev/null
  stored_stack() { [ "$(health "$health_port" | jq_py 'd["tables"]["public.customers"]["inserts"]')" = 1 ]; }
  ud_objects() {
    "$PY" - "$moto" "$reader_id" "$reader_secret" "$bucket" <<'PY'
import sys, boto3
endpoint, key, secret, bucket = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id=key, aws_secret_access_key=secret)
for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
    print(o["Key"])
PY
  }
  local objects=""
  if wait_for 30 stored_stack; then objects=$(ud_objects); fi
  local loads; loads=$(grep -c '/LOAD.*\.parquet$' <<< "$objects")
  if [ "$loads" -gt 0 ] && grep -q 'replica/public/customers/.*\.parquet$' <<< "$objects" && grep -q 'replica/_replicatord/' <<< "$objects"; then
    pass user-data-replicates "full load ($loads LOAD files) and the insert made after it are in s3://$bucket/replica on moto"
  else
    fail user-data-replicates "objects: $(head -5 <<< "$objects" | tr '\n' ' '); health: $(health "$health_port" | jq_py 'd["phase"], d["tables"].get("public.customers")')"
  fi

  cw_check() {
    "$PY" - "$moto" "$reader_id" "$reader_secret" "$namespace" "$name" <<'PY'
import datetime, sys, boto3
endpoint, key, secret, namespace, name = sys.argv[1:]
cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id=key, aws_secret_access_key=secret)
names = sorted(m["MetricName"] for m in cw.list_metrics(Namespace=namespace)["Metrics"]
               if {"Name": "Replicator", "Value": name} in m["Dimensions"])
now = datetime.datetime.now(datetime.timezone.utc)
data = cw.get_metric_data(StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=1), MetricDataQueries=[
    {"Id": "h", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Healthy", "Dimensions": [{"Name": "Replicator", "Value": name}]}, "Period": 60, "Stat": "Maximum"}},
    {"Id": "l", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "LagSeconds", "Dimensions": [{"Name": "Replicator", "Value": name}]}, "Period": 60, "Stat": "Maximum"}}])
values = {r["Id"]: r["Values"] for r in data["MetricDataResults"]}
print(",".join(names), "healthy", values.get("h"), "lag", values.get("l"))
PY
  }
  cw_ok() { local out; out=$(cw_check 2>&1); [[ "$out" == *Healthy*LagSeconds* || "$out" == *LagSeconds*Healthy* ]] && [[ "$out" == *"healthy [1.0"* ]]; }
  if wait_for 45 cw_ok; then
    pass user-data-cloudwatch "the daemon published to moto's CloudWatch: $(cw_check 2>&1 | cut -c1-200)"
  else
    fail user-data-cloudwatch "$(cw_check 2>&1 | tail -2 | tr '\n' ' ' | cut -c1-300); journal: $(jn -u replicatord.service | grep -i cloudwatch | head -3 | tr '\n' ' ')"
  fi

  athena_names() {
    "$PY" - "$moto" "$reader_id" "$reader_secret" "$workgroup" <<'PY'
import sys, boto3
endpoint, key, secret, workgroup = sys.argv[1:]
athena = boto3.client("athena", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id=key, aws_secret_access_key=secret)
try:
    ids = athena.list_named_queries(WorkGroup=workgroup)["NamedQueryIds"]
    queries = [athena.get_named_query(NamedQueryId=i)["NamedQuery"] for i in ids]   # moto: BatchGetNamedQuery answers 500
except Exception as e:
    sys.exit(f"athena: {str(e)[:400]}")
for q in sorted(queries, key=lambda q: q["Name"]):
    print(q["Name"] + "\t" + q["QueryString"].split("\n")[0])
PY
  }
  local named; named=$(athena_names 2>&1)
  if grep -q "create view replicatord_test.public_customers" <<< "$named" && grep -q "create table replicatord_test.public_orders_changes" <<< "$named"; then
    pass user-data-athena "$(grep -c . <<< "$named") named queries in $workgroup, e.g. '$(grep -m1 'create view' <<< "$named" | cut -f1)'"
  else
    fail user-data-athena "$(tr '\n' ' ' <<< "$named" | cut -c1-300); $(grep -i athena "$stage/run.out" | tr '\n' ' ')"
  fi

  # No secret where it must not be: the written config, /etc/replicatord, the user data's log and
  # output, the journal, the values the template passes (the user data's environment).
  local leaks=""
  grep -qF "$PGPW" <<< "$(ns sh -c 'cat /etc/replicatord/* /etc/systemd/system/replicatord*.service /etc/systemd/system/replicatord.service.d/* 2>/dev/null')" && leaks+="/etc "
  grep -qF "$PGPW" <<< "$(ns cat /var/log/replicatord-user-data.log)" && leaks+="user-data-log "
  grep -qF "$PGPW" "$stage/run.out" && leaks+="user-data-output "
  grep -qF "$PGPW" <<< "$(jn)" && leaks+="journal "
  grep -qF "$PGPW" <<< "${ud_params[*]}" && leaks+="user-data-values "
  grep -qF "$PGPW" <<< "$(ns cat "/proc/$mainpid/environ" 2>/dev/null | tr '\0' '\n')" && leaks+="environment "
  if [ -z "$leaks" ] && [ "$(ns cat /run/replicatord-secret/pgpass | cut -d: -f5-)" = "$PGPW" ]; then
    pass user-data-no-secret "the password is only in /run/replicatord-secret/pgpass and the unit's credential: not in the TOML, /etc/replicatord, the units, the user data's values, log or output, the journal or the environment"
  else
    fail user-data-no-secret "the password is in: ${leaks:-nowhere, but not in /run/replicatord-secret/pgpass either}"
  fi

  # A replacement instance: the unit stopped (as if the instance died), the local state and config
  # gone, the user data run again. Same bucket, same slot: the checkpoint there says where to go on.
  ns systemctl stop replicatord.service replicatord-secret.service
  local loads_before; loads_before=$(ud_objects | grep '/LOAD.*\.parquet$' | sort)
  ns sh -c 'rm -rf /var/lib/replicatord/* /etc/replicatord/replicatord.toml /run/replicatord-secret'
  psql_su -d "$DB" -c "INSERT INTO public.customers VALUES (200002, 'while no instance ran')" >/dev/null
  local rerun_at; rerun_at=$(date +%s)
  run_user_data
  resumed() { [ "$(health "$health_port" | jq_py 'd["tables"]["public.customers"]["inserts"]')" = 2 ]; }
  if wait_for 60 resumed; then
    local loads_after; loads_after=$(ud_objects | grep '/LOAD.*\.parquet$' | sort)
    local named_after; named_after=$(athena_names 2>&1 | grep -c .)
    local since; since=$(jn -u replicatord.service --since "@$rerun_at")
    if [ "$loads_after" = "$loads_before" ] && ! grep -qiE "full load (started|complete)|table loaded" <<< "$since" \
       && grep -q "create view" <<< "$named" && [ "$named_after" = "$(grep -c . <<< "$named")" ]; then
      pass user-data-replacement-resumes "fresh state directory, user data again: no LOAD file added ($(grep -c . <<< "$loads_after") as before), the row inserted meanwhile replicated by CDC, named queries not saved twice ($named_after)"
    else
      fail user-data-replacement-resumes "LOAD files before $(grep -c . <<< "$loads_before"), after $(grep -c . <<< "$loads_after"); named queries $named_after; $(grep -iE 'full load|table loaded' <<< "$since" | head -2 | tr '\n' ' ')"
    fi
  else
    fail user-data-replacement-resumes "the row inserted while no instance ran did not arrive: $(health "$health_port" | jq_py 'd["phase"], d["problems"], d["tables"].get("public.customers")'); $(tail -3 "$stage/run.out" | tr '\n' ' ')"
  fi
  ns systemctl stop replicatord.service
  ud_cleanup
}
ud_run
