#!/usr/bin/env bash
# Faults under load, one command: docs/bench/faults.sh
#  1. kill -9 the server during an inspector load run, restart it, and check the client's
#     log of acknowledged filings against PostgreSQL: every one there, every case with
#     its events, every photo row with its three objects;
#  2. stop the S3 store (moto) during uploads: 503s, and no photo row without objects;
#  3. restart PostgreSQL under load: the server recovers by itself.
# Uses release binaries (built if missing), PostgreSQL on 127.0.0.1:5432, moto from PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet --bin xuncha --bin xuncha-load
pg_isready -h 127.0.0.1 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
python3 -c 'import moto.server' 2>/dev/null || python3 -m pip install --quiet 'moto[server]'
work=$(mktemp -d /tmp/xuncha-faults.XXXX)
psql_q() { psql -h 127.0.0.1 -U postgres -d xuncha_faults -qtAc "$1"; }
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS xuncha_faults WITH (FORCE)" -c "CREATE DATABASE xuncha_faults"
export XUNCHA_DATABASE_URL=postgres://postgres@127.0.0.1:5432/xuncha_faults \
  XUNCHA_DATA_DIR=$work/data XUNCHA_LOG_FORMAT=json XUNCHA_ADMIN_PASSWORD=faults-admin-password-1 \
  XUNCHA_RATE_LIMIT_PER_SECOND=100000 XUNCHA_RATE_LIMIT_BURST=100000 XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND=100000 XUNCHA_ACCOUNT_RATE_LIMIT_BURST=100000
port=18090
export XUNCHA_BIND=127.0.0.1:$port
server=
start_server() {
  "$root/target/release/xuncha" >>"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return; sleep 0.5; done
  echo "server did not become ready"; exit 1
}
trap 'kill $server 2>/dev/null || true; kill $moto 2>/dev/null || true' EXIT
moto=
load() { "$root/target/release/xuncha-load" --url "http://127.0.0.1:$port" --inspectors 8 "$@"; }

target/release/xuncha generate-city --cases 20000 --shopfronts 5000 --inspectors 8 >/dev/null
echo "== 1. kill -9 during load"
start_server
load --mix inspector --concurrency 8 --duration 40 --log "$work/acked.csv" >"$work/load1.txt" &
loader=$!
sleep 15
kill -9 "$server"
echo "killed the server at $(date -u +%T); restarting"
sleep 2
start_server
wait "$loader"
cat "$work/load1.txt"
acked=$(wc -l <"$work/acked.csv")
psql_q "CREATE TABLE IF NOT EXISTS acked (client_id uuid, case_id uuid, case_no text); TRUNCATE acked"
psql -h 127.0.0.1 -U postgres -d xuncha_faults -qc "\\copy acked FROM '$work/acked.csv' WITH (FORMAT csv)"
missing=$(psql_q "SELECT count(*) FROM acked a LEFT JOIN cases c ON c.client_id = a.client_id AND c.id = a.case_id WHERE c.id IS NULL")
eventless=$(psql_q "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id)")
psql_q "SELECT coalesce(case_id, visit_id) || '/' || id FROM photos" >"$work/photo-rows.txt"
objects_missing=0
while read -r path; do
  for size in original preview thumbnail; do
    [ -f "$work/data/objects/xuncha/photos/$path/$size" ] || objects_missing=$((objects_missing + 1))
  done
done <"$work/photo-rows.txt"
echo "acknowledged filings: $acked; missing in the database: $missing"
echo "cases without events: $eventless; photo rows: $(wc -l <"$work/photo-rows.txt"); objects missing: $objects_missing"
[ "$missing" = 0 ] && [ "$eventless" = 0 ] && [ "$objects_missing" = 0 ]
kill "$server"; wait "$server" 2>/dev/null || true

echo "== 2. the S3 store stops during uploads"
moto_port=18091
python3 -m moto.server -H 127.0.0.1 -p $moto_port >"$work/moto.log" 2>&1 &
moto=$!
for _ in $(seq 1 30); do curl -fs "http://127.0.0.1:$moto_port/" >/dev/null 2>&1 && break; sleep 1; done
export XUNCHA_S3_ENDPOINT=http://127.0.0.1:$moto_port XUNCHA_S3_ACCESS_KEY_ID=testing \
  XUNCHA_S3_SECRET_ACCESS_KEY=testing XUNCHA_S3_BUCKET=faults
python3 - <<PY
import boto3
boto3.client("s3", endpoint_url="http://127.0.0.1:$moto_port", aws_access_key_id="testing",
             aws_secret_access_key="testing", region_name="us-east-1").create_bucket(Bucket="faults")
PY
start_server
load --mix inspector --concurrency 8 --duration 30 >"$work/load2.txt" &
loader=$!
sleep 10
rows_before=$(psql_q "SELECT count(*) FROM photos")
kill -STOP "$moto" 2>/dev/null; kill -9 "$moto"
stopped_at=$(date -u +%FT%T)
echo "stopped the store at $stopped_at"
wait "$loader"
cat "$work/load2.txt"
after=$(psql_q "SELECT count(*) FROM photos WHERE created_at > '$stopped_at'::timestamptz + interval '1 second'")
echo "photo rows written after the store stopped: $after (rows before: $rows_before)"
grep -q "photos x2: 503" "$work/load2.txt"
[ "$after" = 0 ]
ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
echo "/readyz with the store down: $ready"
kill "$server"; wait "$server" 2>/dev/null || true
unset XUNCHA_S3_ENDPOINT XUNCHA_S3_ACCESS_KEY_ID XUNCHA_S3_SECRET_ACCESS_KEY XUNCHA_S3_BUCKET

echo "== 3. PostgreSQL restarts under load"
start_server
load --mix inspector --concurrency 8 --duration 40 >"$work/load3.txt" &
loader=$!
sleep 10
before=$(psql_q "SELECT count(*) FROM cases")
pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
echo "restarted PostgreSQL at $(date -u +%T)"
sleep 15
mid=$(psql_q "SELECT count(*) FROM cases")
wait "$loader"
cat "$work/load3.txt"
after=$(psql_q "SELECT count(*) FROM cases")
echo "cases: $before before the restart, $mid 15 s after, $after at the end"
[ "$after" -gt "$mid" ]
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && echo "/readyz: ok after the restart"
echo "faults: all checks passed"
