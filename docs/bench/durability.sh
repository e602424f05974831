#!/usr/bin/env bash
# Durability of the embedded default, from a system-call trace: one filing and one photo
# upload against the real binary under strace, then a check that before each answer left
# the process, the write it acknowledges was flushed: the SQLite WAL (fsync/fdatasync) for
# both, and the photo's object file and its directories for the upload.
# Usage: docs/bench/durability.sh   (needs strace; builds the debug binary unless SKIP_BUILD=1)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v strace >/dev/null || { echo "durability.sh: strace is required" >&2; exit 2; }
[ "${SKIP_BUILD:-}" = 1 ] || cargo build --quiet
root=$(pwd)
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$work" && XUNCHA_BIND=127.0.0.1:$port XUNCHA_ADMIN_PASSWORD=durability-password \
  exec strace -f -y -qq -e trace=fsync,fdatasync,write,writev,sendto,sendmsg -s 64 -o "$work/trace" \
  "$root/target/debug/xuncha" >"$work/server.log" 2>&1) &
pid=$!
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
api=http://127.0.0.1:$port/api/v1
token() { curl -fsS "$api/auth/login" -H 'content-type: application/json' -d "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
admin=$(token '{"username":"admin","password":"durability-password"}')
curl -fsS "$api/users" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
  -d '{"username":"dur.inspector","password":"a long password 1","display_name":"巡查员","role":"inspector"}' >/dev/null
inspector=$(token '{"username":"dur.inspector","password":"a long password 1"}')
echo "--- mark: filing" >>"$work/marks"
case_id=$(curl -fsS "$api/reports" -H "authorization: Bearer $inspector" -H 'content-type: application/json' -d "{
  \"client_id\": \"0193a1b2-0000-7000-8000-0000000000d1\", \"category\": \"parking\",
  \"description\": \"durability\", \"address\": \"解放路 1 号\",
  \"location\": {\"lat\": 30.2741, \"lon\": 120.1551, \"accuracy_m\": 8, \"crs\": \"gcj02\"},
  \"observed_at\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 -c 'import io,sys
from PIL import Image' 2>/dev/null || python3 -m pip install --quiet pillow
python3 -c 'from PIL import Image; Image.new("RGB",(640,480),(200,40,40)).save("'"$work"'/photo.jpg","JPEG")'
curl -fsS "$api/reports/$case_id/photos?kind=before" -H "authorization: Bearer $inspector" \
  -F "file=@$work/photo.jpg" >/dev/null
# Stop the server (strace's child), so that strace writes its whole trace and ends.
pkill -TERM -P "$pid" || true
for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
python3 - "$work/trace" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
def answer(status):
    for i, line in enumerate(lines):
        if re.search(r'(write|writev|sendto|sendmsg)\(\d+<[^>]*>, .*"HTTP/1\.1 ' + status, line):
            yield i
def flushed_before(end, pattern, since):
    return [l for l in lines[since:end] if re.search(r'\b(fsync|fdatasync)\(\d+<[^>]*' + pattern, l)]
created = list(answer("201"))
assert len(created) >= 2, f"expected two 201 answers, found {len(created)}"
filing, upload = created[-2], created[-1]
wal = flushed_before(filing, r'xuncha\.db-wal>', 0)
assert wal, "the filing was answered before its commit was flushed"
print("filing: WAL flushed before the answer:", wal[-1].strip()[:140])
since = filing + 1
objects = flushed_before(upload, r'/objects/[^>]*/original>', since)
dirs = flushed_before(upload, r'/objects/[^>]*photos[^>]*>', since)
wal = flushed_before(upload, r'xuncha\.db-wal>', since)
assert objects, "the photo was answered before its original was flushed"
assert wal, "the photo row was answered before its commit was flushed"
print("upload: original flushed:", objects[0].strip()[:140])
print("upload: directory entries flushed:", len(dirs))
print("upload: WAL flushed before the answer:", wal[-1].strip()[:140])
print("durability ok")
PY
