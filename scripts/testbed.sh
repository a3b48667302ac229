# shellcheck shell=bash
# The test bed: a throwaway PostgreSQL 15 cluster (wal_level=logical) and a moto_server with SigV4
# checking on, both on loopback. Sourced by scripts/test, scripts/demo and scripts/bench.
#
#   testbed_install      apt packages + the Python venv with the independent Parquet readers, and a
#                        second venv with the Iceberg readers (pyiceberg, duckdb 1.5.5 + extensions, polars)
#   testbed_start_pg     exports REPLICATORD_TEST_PG (a libpq conninfo) and PGHOST/PGPORT/PGUSER
#   testbed_start_s3     exports REPLICATORD_TEST_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
#   testbed_stop         stops whatever was started (safe to call twice, used from an EXIT trap)

TESTBED_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESTBED_DIR=${TESTBED_DIR:-$(mktemp -d /tmp/replicatord-testbed.XXXXXX)}
TESTBED_VENV=${TESTBED_VENV:-$TESTBED_ROOT/.venv}
TESTBED_PG_USER=${TESTBED_PG_USER:-replicatordtest}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
# Iceberg readers need duckdb==1.5.5 (the only version the PyPI iceberg/avro extension wheels carry),
# so they live in a venv of their own and the Parquet readers keep the current duckdb.
TESTBED_ICEBERG_VENV=${TESTBED_ICEBERG_VENV:-$TESTBED_ROOT/.venv-iceberg}
export REPLICATORD_TEST_PYTHON="$TESTBED_VENV/bin/python"
export REPLICATORD_TEST_ICEBERG_PYTHON="$TESTBED_ICEBERG_VENV/bin/python"

testbed_log() { printf 'testbed: %s\n' "$*" >&2; }

# A free TCP port on 127.0.0.1.
testbed_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

testbed_install() {
  local apt_pkgs="libpq-dev libcurl4-openssl-dev libssl-dev libzstd-dev zlib1g-dev libsnappy-dev pkg-config postgresql openjdk-17-jre-headless"
  local missing=""
  for p in $apt_pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
      testbed_log "installing apt packages:$missing"
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
      testbed_log "missing apt packages:$missing (run: sudo apt-get install$missing)"; return 1
    fi
  fi
  if [ ! -x "$TESTBED_VENV/bin/python" ]; then
    testbed_log "creating Python venv $TESTBED_VENV"
    python3 -m venv --system-site-packages "$TESTBED_VENV"
  fi
  # pyspark (with Debian's Java 17) reads every file in the type corpus test: the strictest common reader.
  if ! "$TESTBED_VENV/bin/python" -c 'import moto, boto3, pyarrow, duckdb, polars, flask_cors, prometheus_client, cfnlint, psycopg2, pyspark' 2>/dev/null; then
    testbed_log "installing Python packages (moto[server] boto3 pyarrow duckdb polars prometheus_client cfn-lint psycopg2-binary pyspark)"
    "$TESTBED_VENV/bin/pip" install -q --disable-pip-version-check 'moto[server]' boto3 pyarrow duckdb polars prometheus_client cfn-lint psycopg2-binary pyspark >/dev/null
  fi
  if [ ! -x "$TESTBED_ICEBERG_VENV/bin/python" ]; then
    testbed_log "creating Python venv $TESTBED_ICEBERG_VENV"
    python3 -m venv "$TESTBED_ICEBERG_VENV"
  fi
  if ! "$TESTBED_ICEBERG_VENV/bin/python" -c 'import pyiceberg, sqlalchemy, pyarrow, polars, pytz, duckdb, duckdb_extension_iceberg, duckdb_extension_avro; assert duckdb.__version__ == "1.5.5"' 2>/dev/null; then
    testbed_log "installing Iceberg readers (pyiceberg[sql-sqlite,pyarrow] polars pytz duckdb==1.5.5 duckdb-extension-iceberg duckdb-extension-avro)"
    "$TESTBED_ICEBERG_VENV/bin/pip" install -q --disable-pip-version-check 'pyiceberg[sql-sqlite,pyarrow]' pyarrow polars pytz \
      duckdb==1.5.5 duckdb-extension-iceberg==1.5.5 duckdb-extension-avro==1.5.5 >/dev/null
  fi
}

testbed_start_pg() {
  local port; port=$(testbed_free_port)
  local data="$TESTBED_DIR/pgdata"
  local run_as=()
  if [ "$(id -u)" = 0 ]; then
    id "$TESTBED_PG_USER" >/dev/null 2>&1 || useradd -M -r -s /bin/bash "$TESTBED_PG_USER"
    chown "$TESTBED_PG_USER" "$TESTBED_DIR"
    chmod 755 "$TESTBED_DIR"
    run_as=(runuser -u "$TESTBED_PG_USER" --)
  fi
  "${run_as[@]}" "$PG_BIN/initdb" -D "$data" -U postgres -A trust --no-sync -E UTF8 --locale=C >/dev/null
  cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$TESTBED_DIR'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
fsync = off
full_page_writes = off
shared_buffers = 256MB
max_wal_size = 4GB
CONF
  cat > "$data/pg_hba.conf" <<HBA
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
HBA
  "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$TESTBED_DIR/pg.log" -w -t 60 start >/dev/null
  TESTBED_PG_CTL=("${run_as[@]}" "$PG_BIN/pg_ctl" -D "$data")
  export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
  export REPLICATORD_TEST_PG="host=127.0.0.1 port=$port dbname=postgres user=postgres"
  export REPLICATORD_TEST_PG_DATA="$data" REPLICATORD_TEST_PG_USER="$TESTBED_PG_USER"
  testbed_log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (wal_level=logical)"
}

testbed_start_s3() {
  local port; port=$(testbed_free_port)
  S3_UPLOAD_PART_MIN_SIZE=${S3_UPLOAD_PART_MIN_SIZE:-5242880} \
    "$TESTBED_VENV/bin/python" -m moto.server -H 127.0.0.1 -p "$port" >"$TESTBED_DIR/moto.log" 2>&1 &
  TESTBED_MOTO_PID=$!
  local endpoint="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fs "$endpoint/moto-api/" >/dev/null 2>&1 && break
    sleep 0.2
  done
  # With auth still off: an IAM user allowed s3:*, and its access key; then SigV4 checking on.
  local keys
  keys=$("$TESTBED_VENV/bin/python" - "$endpoint" <<'PY'
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="replicatord")
iam.put_user_policy(UserName="replicatord", PolicyName="s3-all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "glue:*"], "Resource": "*"}]}))
k = iam.create_access_key(UserName="replicatord")["AccessKey"]
# A second user the store knows but refuses everything (the tests' "access denied").
iam.create_user(UserName="denied")
iam.put_user_policy(UserName="denied", PolicyName="s3-none", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}))
d = iam.create_access_key(UserName="denied")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"], d["AccessKeyId"], d["SecretAccessKey"])
PY
)
  set -- $keys
  export AWS_ACCESS_KEY_ID=$1 AWS_SECRET_ACCESS_KEY=$2
  export REPLICATORD_TEST_S3_DENIED_KEY_ID=$3 REPLICATORD_TEST_S3_DENIED_SECRET=$4
  curl -fs -X POST -H 'Content-Type: text/plain' --data '0' "$endpoint/moto-api/reset-auth" >/dev/null
  export REPLICATORD_TEST_S3_ENDPOINT=$endpoint AWS_REGION=us-east-1
  unset AWS_SESSION_TOKEN AWS_PROFILE
  testbed_log "moto_server on $endpoint with SigV4 checking on (IAM key $AWS_ACCESS_KEY_ID)"
}

testbed_stop() {
  if [ -n "${TESTBED_MOTO_PID:-}" ]; then
    kill "$TESTBED_MOTO_PID" 2>/dev/null; wait "$TESTBED_MOTO_PID" 2>/dev/null; TESTBED_MOTO_PID=""
  fi
  if [ -n "${TESTBED_PG_CTL+x}" ] && [ -d "$TESTBED_DIR/pgdata" ]; then
    "${TESTBED_PG_CTL[@]}" -m immediate stop >/dev/null 2>&1
    unset TESTBED_PG_CTL
  fi
  case "$TESTBED_DIR" in /tmp/replicatord-testbed.*) rm -rf "$TESTBED_DIR" ;; esac
}
