#!/usr/bin/env bash
# Where a filing's time goes: runs the filing mix for 20 s against a server already
# running on the load city (docs/bench/load.sh leaves none running; start one with the
# same XUNCHA_* settings) and prints the CPU time per filing of the server, PostgreSQL and
# the load tool, read from /proc before and after.
#   docs/bench/filing-cpu.sh http://127.0.0.1:18080
set -euo pipefail
cd "$(dirname "$0")/../.."
url=${1:-http://127.0.0.1:18080}
ticks() {
  python3 - <<'PY'
import os
total = {"xuncha": 0, "postgres": 0, "xuncha-load": 0}
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
before=$(ticks)
target/release/xuncha-load --url "$url" --mix filing --concurrency 16 --duration 20 >/tmp/filing-cpu.txt &
loader=$!
sleep 19
during=$(ticks)   # the load tool is still alive here; it exits at 20 s
wait "$loader"
cat /tmp/filing-cpu.txt
filings=$(awk '$1 == "file" {print $2}' /tmp/filing-cpu.txt)
python3 - "$before" "$during" "$filings" "$(getconf CLK_TCK)" <<'PY'
import sys
before = dict(kv.split("=") for kv in sys.argv[1].split())
during = dict(kv.split("=") for kv in sys.argv[2].split())
filings, hz = int(sys.argv[3]), int(sys.argv[4])
for name in before:
    used = (int(during[name]) - int(before[name])) / hz
    # CPU was read over the first 19 of the 20 s; filings are taken pro rata.
    print(f"{name:12} {used:6.1f} s CPU, {1000 * used / (filings * 19 / 20):.2f} ms per filing")
PY
