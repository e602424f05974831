#!/usr/bin/env bash
# The load benchmark of docs/benchmarks.md, one command:
#   docs/bench/load.sh postgres   # or: sqlite
# Builds release binaries, generates a city (2,000 areas, 100,000 shopfronts, 1,000,000
# cases) in a fresh database, starts the server, runs the phone mixes and the list reads
# with xuncha-load, and (PostgreSQL) the pgbench anchor at the same concurrency, then
# prints API filings per second (the filing mix) ÷ pgbench transactions per second.
# Environment: CASES (default 1000000), PHONES (16), SECONDS_PER_RUN (60), SKIP_BUILD,
# SSLMODE (PostgreSQL's sslmode for the server and pgbench alike; default prefer, which is
# TLS when the server offers it, as Debian's does).
set -euo pipefail
cd "$(dirname "$0")/../.."
backend=${1:-postgres}
cases=${CASES:-1000000}
phones=${PHONES:-16}
seconds=${SECONDS_PER_RUN:-60}
work=$(mktemp -d /tmp/xuncha-load.XXXX)
port=18080
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet --bin xuncha --bin xuncha-load
# The server's database pool is as large as the phones, as pgbench has a connection per
# client: the same concurrency at the database.
export XUNCHA_DATA_DIR=$work XUNCHA_BIND=127.0.0.1:$port XUNCHA_LOG_FORMAT=json \
  XUNCHA_DATABASE_MAX_CONNECTIONS=$phones \
  XUNCHA_RATE_LIMIT_PER_SECOND=100000 XUNCHA_RATE_LIMIT_BURST=100000 XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND=100000 XUNCHA_ACCOUNT_RATE_LIMIT_BURST=100000 \
  XUNCHA_ADMIN_PASSWORD=load-admin-password-1
if [ "$backend" = postgres ]; then
  pg_isready -h 127.0.0.1 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS xuncha_load WITH (FORCE)" -c "CREATE DATABASE xuncha_load"
  export PGSSLMODE=${SSLMODE:-prefer}
  export XUNCHA_DATABASE_URL="postgres://postgres@127.0.0.1:5432/xuncha_load?sslmode=$PGSSLMODE"
fi
echo "== machine: $(nproc) vCPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "== data folder: $work${PGSSLMODE:+, PostgreSQL sslmode=$PGSSLMODE}"
echo "== generate ($backend, $cases cases)"
/usr/bin/time -f "generate: %e s, max RSS %M KiB" target/release/xuncha generate-city --cases "$cases"
target/release/xuncha > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 1; done
rss() { awk '/VmRSS/{print $2" KiB"}' "/proc/$server/status"; }
echo "== server RSS at start: $(rss)"
mix() {  # mix phones
  echo "== mix $1, $2 phones, ${seconds}s"
  target/release/xuncha-load --url "http://127.0.0.1:$port" --mix "$1" --concurrency "$2" \
    --duration "$seconds" | tee "$work/mix-$1-$2.txt"
}
# Reads first, on the city as generated (1,000,000 cases, about 45,000 open): the write
# mixes file tens of thousands of cases a minute, more than a city's whole backlog.
mix reads "$phones"
# The list queries' own latency, without 16 phones queueing for 2 cores: two phones,
# one asking a department's queue, one a filtered page and a bbox page.
mix reads 2
mix inspector "$phones"
mix department "$phones"
mix filing "$phones"
echo "== server RSS after the runs: $(rss)"
if [ "$backend" = postgres ]; then
  echo "== pgbench anchor: a case row and an event row per transaction, $phones clients, ${seconds}s"
  pgbench -h 127.0.0.1 -U postgres -n -c "$phones" -j 2 -T "$seconds" -f docs/bench/pgbench-filing.sql \
    xuncha_load | tee "$work/pgbench.txt" | grep -E "tps|latency"
  api=$(awk '$1 == "file" {print $3}' "$work/mix-filing-$phones.txt")
  tps=$(awk '/^tps/ {print $3; exit}' "$work/pgbench.txt")
  echo "== ratio: API filings/s $api ÷ pgbench tps $tps = $(python3 -c "print(round($api / $tps, 2))")"
fi
