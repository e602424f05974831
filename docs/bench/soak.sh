#!/usr/bin/env bash
# Soak: ten minutes of the mixed phone load (half inspectors, half departments) at half
# the maximum that the same mix reaches on this machine, against PostgreSQL (the database
# docs/bench/load.sh postgres generated), with the server's RSS sampled every minute.
#   XUNCHA_DATA_DIR=/tmp/xuncha-load.XXXX docs/bench/soak.sh
# The first minute runs unpaced: it warms the caches and measures the maximum.
set -euo pipefail
cd "$(dirname "$0")/../.."
phones=${PHONES:-16}
seconds=${SOAK_SECONDS:-600}
work=$(mktemp -d /tmp/xuncha-soak.XXXX)
port=18081
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet --bin xuncha --bin xuncha-load
export XUNCHA_DATA_DIR=${XUNCHA_DATA_DIR:?the data folder of the load run (its objects)} \
  XUNCHA_BIND=127.0.0.1:$port XUNCHA_LOG_FORMAT=json \
  XUNCHA_RATE_LIMIT_PER_SECOND=100000 XUNCHA_RATE_LIMIT_BURST=100000 XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND=100000 XUNCHA_ACCOUNT_RATE_LIMIT_BURST=100000 \
  XUNCHA_DATABASE_URL=postgres://postgres@127.0.0.1:5432/xuncha_load
target/release/xuncha >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 1; done
rss() { awk '/VmRSS/{print $2}' "/proc/$server/status"; }
# A first minute unpaced: the maximum, and warm caches and pools.
target/release/xuncha-load --url "http://127.0.0.1:$port" --mix both --concurrency "$phones" \
  --duration 60 | tee "$work/max.txt"
max=$(awk '/scenarios \(/ {gsub(/[(\/s)]/, "", $NF); print $NF}' "$work/max.txt")
rate=$(python3 -c "print(round($max / 2 / $phones, 4))")
echo "maximum $max scenarios/s; soak at half: $rate per phone, $phones phones"
echo "RSS at start of soak: $(rss) KiB"
target/release/xuncha-load --url "http://127.0.0.1:$port" --mix both --concurrency "$phones" \
  --rate-per-phone "$rate" --duration "$seconds" >"$work/soak.txt" &
loader=$!
while kill -0 "$loader" 2>/dev/null; do sleep 60; echo "RSS $(date -u +%T): $(rss) KiB"; done
wait "$loader"
cat "$work/soak.txt"
echo "RSS at end of soak: $(rss) KiB"
grep -q ", errors 0$" "$work/soak.txt" && echo "soak: zero errors"
