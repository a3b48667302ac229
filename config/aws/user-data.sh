#!/bin/bash
# replicatord host bootstrap: the EC2 user data of config/aws/replicatord.yaml's launch template.
#
# The template embeds this file verbatim after a header that exports the REPLICATORD_* values
# below from the stack's parameters and resources (scripts/cfn-user-data checks the copy is this
# file). It runs once per instance, as root, on Debian 12 or Ubuntu (the package is a .deb):
#
#   1. installs the package from REPLICATORD_PACKAGE_URL (https://, http://, s3:// or file://);
#   2. installs replicatord-secret.service, a oneshot that fetches the PostgreSQL password from
#      Secrets Manager (REPLICATORD_SECRET_ID) at every boot into /run/replicatord-secret/pgpass
#      (a tmpfs, root only), and a drop-in that hands that file to replicatord.service with
#      LoadCredential=pgpass (libpq reads it through PGPASSFILE=%d/pgpass, as without this stack);
#   3. writes /etc/replicatord/replicatord.toml from the values (no secret in it);
#   4. enables and starts both units; the daemon resumes from the checkpoint in the bucket, so a
#      replacement instance (fresh disk, same bucket and slot) goes on where the last one stopped;
#   5. saves an Athena named query per statement of `replicatord ddl --engine athena` (the changes
#      table and the current-state view of each table) in REPLICATORD_ATHENA_WORKGROUP, once.
#
# The password is never written to the TOML, this script, its log or the stack's outputs: only the
# secret's ARN is. Everything it does is logged to /var/log/replicatord-user-data.log.
#
# Values (REPLICATORD_*; required unless a default is shown):
#   PACKAGE_URL            the .deb
#   REGION                 AWS region of the bucket, the secret, CloudWatch and Athena
#   SOURCE_HOST SOURCE_PORT(5432) SOURCE_DATABASE SOURCE_USER SOURCE_SSLMODE(require)
#   PUBLICATION(replicatord) SLOT(replicatord)
#   SECRET_ID              ARN of the secret: the password, or JSON with a "password" key (RDS's form)
#   TARGET_URL             s3://bucket/prefix
#   SERVER_SIDE_ENCRYPTION("") SSE_KMS_KEY_ID("")
#   INTERVAL_SECONDS(60)   HEALTH_LISTEN(127.0.0.1:9187)
#   GLUE_DATABASE("")      [catalog] glue_database, and the database of the Athena DDL (default replicatord)
#   ATHENA_WORKGROUP("")   "" = no named queries
#   CLOUDWATCH_INTERVAL_SECONDS(60)
#   CLOUDWATCH_NAMESPACE("") "" = no [cloudwatch] section; CLOUDWATCH_NAME("") the metrics' Replicator dimension (default: the slot)
# Test-only (empty on EC2): AWS_ENDPOINT (one endpoint for S3, Secrets Manager, CloudWatch, Athena, Glue),
#   AWS_CLI (the aws program), SKIP_APT_UPDATE=1.
set -euo pipefail
umask 022
exec > >(tee -a /var/log/replicatord-user-data.log) 2>&1
log() { printf 'replicatord-user-data: %s\n' "$*"; }
die() { log "error: $*"; exit 1; }

need() { [ -n "${!1:-}" ] || die "$1 is not set"; }
for v in REPLICATORD_PACKAGE_URL REPLICATORD_REGION REPLICATORD_SOURCE_HOST REPLICATORD_SOURCE_DATABASE \
         REPLICATORD_SOURCE_USER REPLICATORD_SECRET_ID REPLICATORD_TARGET_URL; do need "$v"; done
: "${REPLICATORD_SOURCE_PORT:=5432}" "${REPLICATORD_SOURCE_SSLMODE:=require}"
: "${REPLICATORD_PUBLICATION:=replicatord}" "${REPLICATORD_SLOT:=replicatord}"
: "${REPLICATORD_SERVER_SIDE_ENCRYPTION:=}" "${REPLICATORD_SSE_KMS_KEY_ID:=}"
: "${REPLICATORD_INTERVAL_SECONDS:=60}" "${REPLICATORD_HEALTH_LISTEN:=127.0.0.1:9187}"
: "${REPLICATORD_GLUE_DATABASE:=}" "${REPLICATORD_ATHENA_WORKGROUP:=}"
: "${REPLICATORD_CLOUDWATCH_INTERVAL_SECONDS:=60}" "${REPLICATORD_CLOUDWATCH_NAMESPACE:=}" "${REPLICATORD_CLOUDWATCH_NAME:=}"
: "${REPLICATORD_AWS_ENDPOINT:=}" "${REPLICATORD_AWS_CLI:=}" "${REPLICATORD_SKIP_APT_UPDATE:=}"
# Values go into TOML strings and a conninfo: refuse what would need quoting there.
for v in REPLICATORD_SOURCE_HOST REPLICATORD_SOURCE_DATABASE REPLICATORD_SOURCE_USER REPLICATORD_PUBLICATION \
         REPLICATORD_SLOT REPLICATORD_TARGET_URL REPLICATORD_GLUE_DATABASE REPLICATORD_CLOUDWATCH_NAMESPACE \
         REPLICATORD_CLOUDWATCH_NAME REPLICATORD_SECRET_ID REPLICATORD_AWS_ENDPOINT; do
  case "${!v}" in *[\"\\\'\ =]*) die "$v has a quote, backslash, space or '=': '${!v}'" ;; esac
done
export AWS_DEFAULT_REGION=$REPLICATORD_REGION AWS_REGION=$REPLICATORD_REGION
[ -n "$REPLICATORD_AWS_ENDPOINT" ] && export AWS_ENDPOINT_URL=$REPLICATORD_AWS_ENDPOINT

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  # No conffile question (there is nobody to answer it): keep what is there; step 3 writes the TOML.
  local opts=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  if ! apt-get install "${opts[@]}" "$@"; then
    [ "$REPLICATORD_SKIP_APT_UPDATE" = 1 ] && die "apt-get install $* failed"
    apt-get update -q && apt-get install "${opts[@]}" "$@"
  fi
}

# --- The AWS CLI (the secret, an s3:// package, Athena) ---------------------------------------------
AWS=$REPLICATORD_AWS_CLI
if [ -z "$AWS" ]; then
  command -v aws >/dev/null || apt_install awscli
  AWS=$(command -v aws)
fi
[ -x "$AWS" ] || die "no aws program at '$AWS'"
log "aws: $AWS ($("$AWS" --version 2>&1 | head -1))"

# --- 1. The package --------------------------------------------------------------------------------
work=$(mktemp -d /var/tmp/replicatord-user-data.XXXXXX)
trap 'rm -rf "$work"' EXIT
deb=$work/replicatord.deb
case "$REPLICATORD_PACKAGE_URL" in
  s3://*) "$AWS" s3 cp --only-show-errors "$REPLICATORD_PACKAGE_URL" "$deb" ;;
  https://*|http://*|file://*) curl -fsSL --retry 5 -o "$deb" "$REPLICATORD_PACKAGE_URL" ;;
  *) die "REPLICATORD_PACKAGE_URL must be https://, http://, s3:// or file://, not '$REPLICATORD_PACKAGE_URL'" ;;
esac
log "installing $(dpkg-deb -f "$deb" Package Version | paste -sd' ') from $REPLICATORD_PACKAGE_URL"
apt_install "$deb"
command -v replicatord >/dev/null || die "the package installed no replicatord program"

# --- 2. The secret, fetched at every boot; the drop-in that hands it to the unit -----------------
install -d -m 0755 /usr/local/lib/replicatord /etc/systemd/system/replicatord.service.d
# What to fetch (no secret in it): read by the fetcher through EnvironmentFile=.
install -m 0644 /dev/stdin /etc/replicatord/secret.env <<EOF
REPLICATORD_SECRET_ID=$REPLICATORD_SECRET_ID
AWS_DEFAULT_REGION=$REPLICATORD_REGION
REPLICATORD_AWS_CLI=$AWS
${REPLICATORD_AWS_ENDPOINT:+AWS_ENDPOINT_URL=$REPLICATORD_AWS_ENDPOINT}
EOF
install -m 0755 /dev/stdin /usr/local/lib/replicatord/fetch-secret <<'EOF'
#!/bin/bash
# Writes the PostgreSQL password of secret $REPLICATORD_SECRET_ID as a libpq password file
# (*:*:*:*:PASSWORD, ':' and '\' escaped) to $1, mode 0600, via a temporary file in the same
# directory. The secret is the password itself or JSON with a "password" key. Prints no secret.
set -euo pipefail
out=$1
umask 077
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$REPLICATORD_AWS_CLI" secretsmanager get-secret-value --secret-id "$REPLICATORD_SECRET_ID" \
  --query SecretString --output text | python3 -c '
import json, sys
text = sys.stdin.read().rstrip("\n")
try:
    value = json.loads(text)
    password = value["password"] if isinstance(value, dict) else text
except ValueError:
    password = text
if not isinstance(password, str) or not password:
    sys.exit("the secret has no password (a string, or JSON with a \"password\" string)")
print("*:*:*:*:" + password.replace("\\", "\\\\").replace(":", "\\:"))
' > "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "fetch-secret: the password of $REPLICATORD_SECRET_ID is in $out"
EOF
install -m 0644 /dev/stdin /etc/systemd/system/replicatord-secret.service <<'EOF'
[Unit]
Description=replicatord: the PostgreSQL password from AWS Secrets Manager, into /run (a tmpfs)
Wants=network-online.target
After=network-online.target
Before=replicatord.service

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=/etc/replicatord/secret.env
RuntimeDirectory=replicatord-secret
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
ExecStart=/usr/local/lib/replicatord/fetch-secret /run/replicatord-secret/pgpass
# The instance profile's credentials may not be there the first second after boot.
Restart=on-failure
RestartSec=5s

[Install]
WantedBy=multi-user.target
EOF
install -m 0644 /dev/stdin /etc/systemd/system/replicatord.service.d/50-secret.conf <<'EOF'
# Written by the stack's user data: the PostgreSQL password fetched by replicatord-secret.service.
[Unit]
Requires=replicatord-secret.service
After=replicatord-secret.service

[Service]
# An empty assignment drops the package unit's list (a second pgpass would be ignored), then both
# are named again: the fetched password, and the AWS keys file if one is ever put there (on EC2
# the keys come from the instance profile and the unit's SetCredential= default applies).
LoadCredential=
LoadCredential=pgpass:/run/replicatord-secret/pgpass
LoadCredential=aws-credentials:/etc/replicatord/aws-credentials
EOF

# --- 3. The configuration --------------------------------------------------------------------------
conf=/etc/replicatord/replicatord.toml
target_lines=""
[ -n "$REPLICATORD_SERVER_SIDE_ENCRYPTION" ] && target_lines+=$(printf 'server_side_encryption = "%s"\n' "$REPLICATORD_SERVER_SIDE_ENCRYPTION")$'\n'
[ -n "$REPLICATORD_SSE_KMS_KEY_ID" ] && target_lines+=$(printf 'sse_kms_key_id = "%s"' "$REPLICATORD_SSE_KMS_KEY_ID")$'\n'
[ -n "$REPLICATORD_AWS_ENDPOINT" ] && target_lines+=$(printf 'endpoint   = "%s"\npath_style = true' "$REPLICATORD_AWS_ENDPOINT")$'\n'
render_config() {  # WITH_GLUE(0|1)
  cat <<EOF
# Written by the stack's user data (config/aws/user-data.sh). No secret here: the password comes
# from Secrets Manager through replicatord-secret.service; AWS keys from the instance profile.
[source]
conninfo    = "host=$REPLICATORD_SOURCE_HOST port=$REPLICATORD_SOURCE_PORT dbname=$REPLICATORD_SOURCE_DATABASE user=$REPLICATORD_SOURCE_USER sslmode=$REPLICATORD_SOURCE_SSLMODE"
publication = "$REPLICATORD_PUBLICATION"
slot        = "$REPLICATORD_SLOT"

[target]
url    = "$REPLICATORD_TARGET_URL"
region = "$REPLICATORD_REGION"
$target_lines
[task]
spool_dir = "/var/lib/replicatord/spool"

[schedule]
interval_seconds = $REPLICATORD_INTERVAL_SECONDS

[health]
listen = "$REPLICATORD_HEALTH_LISTEN"
EOF
  if [ "$1" = 1 ]; then
    printf '\n[catalog]\nglue_database = "%s"\n' "$REPLICATORD_GLUE_DATABASE"
    [ -n "$REPLICATORD_AWS_ENDPOINT" ] && printf 'glue_endpoint = "%s"\n' "$REPLICATORD_AWS_ENDPOINT"
  fi
  if [ -n "$REPLICATORD_CLOUDWATCH_NAMESPACE" ]; then
    printf '\n[cloudwatch]\nnamespace = "%s"\nregion    = "%s"\ninterval_seconds = %s\n' "$REPLICATORD_CLOUDWATCH_NAMESPACE" \
      "$REPLICATORD_REGION" "$REPLICATORD_CLOUDWATCH_INTERVAL_SECONDS"
    [ -n "$REPLICATORD_CLOUDWATCH_NAME" ] && printf 'name      = "%s"\n' "$REPLICATORD_CLOUDWATCH_NAME"
    [ -n "$REPLICATORD_AWS_ENDPOINT" ] && printf 'endpoint  = "%s"\n' "$REPLICATORD_AWS_ENDPOINT"
  fi
  return 0
}
with_glue=0
if [ -n "$REPLICATORD_GLUE_DATABASE" ]; then
  render_config 1 > "$work/probe.toml"
  if out=$(replicatord validate --config "$work/probe.toml" 2>&1); then
    with_glue=1
  elif grep -q "catalog.glue_database" <<< "$out"; then
    log "warning: this replicatord does not know [catalog] glue_database (a version before the Glue catalog); left out"
  else
    die "the configuration is refused: $out"
  fi
fi
render_config "$with_glue" | install -m 0644 /dev/stdin "$conf"
replicatord validate --config "$conf" >/dev/null || die "replicatord validate refused $conf"
log "wrote $conf"

# --- 4. Start ----------------------------------------------------------------------------------------
systemctl daemon-reload
systemctl enable --now replicatord-secret.service
systemctl enable replicatord.service
systemctl start --no-block replicatord.service
log "replicatord.service started (it resumes from s3 checkpoint of $REPLICATORD_TARGET_URL if there is one)"

# --- 5. Athena named queries: the DDL of every table, saved once per workgroup -----------------------
if [ -n "$REPLICATORD_ATHENA_WORKGROUP" ]; then
  ddl=$work/athena.sql
  if PGPASSFILE=/run/replicatord-secret/pgpass replicatord ddl --engine athena \
       --database "${REPLICATORD_GLUE_DATABASE:-replicatord}" --config "$conf" > "$ddl"; then
    existing=$("$AWS" athena list-named-queries --work-group "$REPLICATORD_ATHENA_WORKGROUP" --query 'NamedQueryIds' --output text)
    names=""
    if [ -n "$existing" ] && [ "$existing" != None ]; then
      # One GetNamedQuery each (moto answers BatchGetNamedQuery with a 500).
      for id in $existing; do
        names+=$("$AWS" athena get-named-query --named-query-id "$id" --query 'NamedQuery.Name' --output text)$'\n'
      done
    fi
    # One file per statement (Athena runs one at a time), named after the object it creates.
    python3 - "$ddl" "$work/queries" <<'PY'
import os, re, sys
text, out = open(sys.argv[1]).read(), sys.argv[2]
os.makedirs(out)
statements = [s.strip() + ";" for s in re.split(r";\s*\n", text) if s.strip()]
for i, s in enumerate(statements):
    body = "\n".join(l for l in s.splitlines() if not l.startswith("-- "))
    m = re.search(r"CREATE (?:OR REPLACE VIEW|EXTERNAL TABLE IF NOT EXISTS|DATABASE IF NOT EXISTS) (\S+)", body)
    kind = "view" if "VIEW" in body.split("\n")[0] else "table" if "TABLE" in body.split("\n")[0] else "database"
    name = (m.group(1) if m else f"statement {i}").replace("`", "").replace('"', "")
    with open(os.path.join(out, f"{i:05d}"), "w") as f:
        f.write(f"replicatord: create {kind} {name}\n{body}\n")
PY
    saved=0
    for f in "$work"/queries/*; do
      name=$(head -1 "$f")
      if grep -qxF "$name" <<< "$names"; then continue; fi
      "$AWS" athena create-named-query --work-group "$REPLICATORD_ATHENA_WORKGROUP" \
        --database "${REPLICATORD_GLUE_DATABASE:-replicatord}" --name "$name" \
        --description "From replicatord ddl --engine athena; run once, then query the view" \
        --query-string "$(tail -n +2 "$f")" >/dev/null
      saved=$((saved + 1))
    done
    log "saved $saved Athena named queries in workgroup $REPLICATORD_ATHENA_WORKGROUP"
  else
    log "warning: replicatord ddl failed; no Athena named queries saved (run this step again by hand: see docs/aws-stack.md)"
  fi
fi
log "done"
