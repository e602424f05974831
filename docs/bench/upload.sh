#!/usr/bin/env bash
# One upload of nine 12 MP JPEGs to a case, against the real binary with its embedded
# defaults (SQLite, the embedded S3 store): the wall time of the request as the client sees
# it, and the server's peak resident memory during it (VmHWM, reset through clear_refs just
# before; the rise above the RSS at that moment is printed too). Three runs per binary,
# each against a fresh server; medians printed. FILE_MB (default: as the generator makes them,
# about 3 MB) pads each JPEG with a trailing comment segment to that size, for the
# worst case of large files.
# Usage: docs/bench/upload.sh BINARY [BINARY…]   (e.g. target/debug/xuncha and an older build)
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BINARY [BINARY…]" >&2; exit 2; }
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install --quiet pillow
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
pid=
# Nine photo-like 12 MP JPEGs (4000×3000, quality 90): colour gradients under sensor-like
# noise, each different, about 5 MB each.
python3 - "$work" "${FILE_MB:-0}" <<'PY'
import os, struct, sys
from PIL import Image, ImageChops
out, file_mb = sys.argv[1], float(sys.argv[2])
w, h = 4000, 3000
for i in range(9):
    gradient = Image.linear_gradient("L").resize((w, h)).rotate(i * 40, expand=False)
    channels = [ImageChops.add(gradient, Image.effect_noise((w, h), 12 + 4 * c), scale=2.0,
                               offset=40 * c + 5 * i) for c in range(3)]
    path = f"{out}/photo{i}.jpg"
    Image.merge("RGB", channels).save(path, "JPEG", quality=90)
    data = open(path, "rb").read()
    padding = b""
    while len(data) + len(padding) < file_mb * 1e6:
        chunk = os.urandom(65533)
        padding += b"\xff\xfe" + struct.pack(">H", len(chunk) + 2) + chunk
    open(path, "wb").write(data[:2] + padding + data[2:])
PY
ls -l "$work"/photo*.jpg | awk '{s+=$5} END {printf "nine files, %.1f MB in all\n", s/1e6}'

for binary in "$@"; do
    results=()
    # A fresh server for every run, so that its peak is this upload's and nothing that an
    # earlier run left in the allocator's caches.
    for run in 1 2 3; do
        data="$work/data-$(basename "$binary")-$run"
        mkdir -p "$data"
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        XUNCHA_BIND=127.0.0.1:$port XUNCHA_DATA_DIR="$data" XUNCHA_ADMIN_PASSWORD=upload-bench-password \
            XUNCHA_LOG=warn "$binary" >"$data/server.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
        api=http://127.0.0.1:$port/api/v1
        token() { curl -fsS "$api/auth/login" -H 'content-type: application/json' -d "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
        admin=$(token '{"username":"admin","password":"upload-bench-password"}')
        curl -fsS "$api/users" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
            -d '{"username":"bench.inspector","password":"a long password 1","display_name":"巡查员","role":"inspector"}' >/dev/null
        inspector=$(token '{"username":"bench.inspector","password":"a long password 1"}')
        files=()
        for i in $(seq 0 8); do files+=(-F "file=@$work/photo$i.jpg;type=image/jpeg"); done
        case_id=$(curl -fsS "$api/reports" -H "authorization: Bearer $inspector" -H 'content-type: application/json' -d "{
          \"client_id\": \"$(python3 -c 'import uuid; print(uuid.uuid4())')\", \"category\": \"parking\",
          \"description\": \"upload bench $run\", \"address\": \"解放路 1 号\",
          \"location\": {\"lat\": 30.2741, \"lon\": 120.1551, \"accuracy_m\": 8, \"crs\": \"gcj02\"},
          \"observed_at\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
        echo 5 > "/proc/$pid/clear_refs"
        before_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
        seconds=$(curl -fsS -o /dev/null -w '%{time_total}' "$api/reports/$case_id/photos?kind=before" \
            -H "authorization: Bearer $inspector" "${files[@]}")
        peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
        results+=("$seconds $peak_kib $((peak_kib - before_kib))")
        echo "$binary run $run: ${seconds} s, peak RSS $((peak_kib / 1024)) MiB ($(((peak_kib - before_kib) / 1024)) MiB above the RSS before)"
        kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
    done
    printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics
rows = [l.split() for l in sys.stdin if l.strip()]
print("'"$binary"' median: %.2f s, peak RSS %.0f MiB, %.0f MiB above the RSS before" % (
    statistics.median(float(r[0]) for r in rows), statistics.median(int(r[1]) for r in rows) / 1024,
    statistics.median(int(r[2]) for r in rows) / 1024))'
done
