#!/usr/bin/env bash
# Where a filing's time goes, against the database anchor: runs the filing mix for 20 s
# against a server already running on the load city (docs/bench/load.sh leaves none
# running; start one with the same XUNCHA_* settings), then pgbench's anchor transaction
# for 20 s on the same database, and prints the CPU time per filing of the server,
# PostgreSQL and the load tool, and per pgbench transaction of PostgreSQL and pgbench,
# read from /proc before and after.
#   docs/bench/filing-cpu.sh http://127.0.0.1:18080 xuncha_load
set -euo pipefail
cd "$(dirname "$0")/../.."
url=${1:-http://127.0.0.1:18080}
database=${2:-xuncha_load}
ticks() {
  python3 - <<'PY'
import os
total = {"xuncha": 0, "postgres": 0, "xuncha-load": 0, "pgbench": 0}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    key = "postgres" if name.startswith("postgres") else name
    if key in total:
        total[key] += int(fields[11]) + int(fields[12])
print(" ".join(f"{k}={v}" for k, v in total.items()))
PY
}
per_operation() {  # before during operations-in-19-of-20-s label names...
  python3 - "$@" "$(getconf CLK_TCK)" <<'PY'
import sys
before = dict(kv.split("=") for kv in sys.argv[1].split())
during = dict(kv.split("=") for kv in sys.argv[2].split())
operations, label, names, hz = float(sys.argv[3]), sys.argv[4], sys.argv[5:-1], int(sys.argv[-1])
for name in names:
    used = (int(during[name]) - int(before[name])) / hz
    print(f"{name:12} {used:6.1f} s CPU, {1000 * used / operations:.2f} ms per {label}")
PY
}
# CPU is read over the first 19 of the 20 s, while the load is still running; the
# operations are taken pro rata.
before=$(ticks)
target/release/xuncha-load --url "$url" --mix filing --concurrency 16 --duration 20 >/tmp/filing-cpu.txt &
loader=$!
sleep 19
during=$(ticks)
wait "$loader"
cat /tmp/filing-cpu.txt
filings=$(awk '$1 == "file" {print $2 * 19 / 20}' /tmp/filing-cpu.txt)
per_operation "$before" "$during" "$filings" filing xuncha postgres xuncha-load

before=$(ticks)
pgbench -h 127.0.0.1 -U postgres -n -c 16 -j 2 -T 20 -f docs/bench/pgbench-filing.sql \
  "$database" >/tmp/filing-cpu-pgbench.txt 2>&1 &
bench=$!
sleep 19
during=$(ticks)
wait "$bench"
grep -E "^tps" /tmp/filing-cpu-pgbench.txt
transactions=$(awk '/^number of transactions actually processed/ {print $NF * 19 / 20}' \
  /tmp/filing-cpu-pgbench.txt)
per_operation "$before" "$during" "$transactions" "pgbench transaction" postgres pgbench
