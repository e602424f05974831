#!/usr/bin/env bash
# Two API processes on one PostgreSQL and one S3 store (moto), one command:
#   docs/bench/two-instances.sh
# Every one of 300 filings is sent to both processes at once (same client_id); then the
# database must hold one case per client_id with no case number twice, both processes
# must have answered with that case, and the webhook receiver must have got each
# `assigned` notice exactly once.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet --bin xuncha
pg_isready -h 127.0.0.1 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
python3 -c 'import moto.server' 2>/dev/null || python3 -m pip install --quiet 'moto[server]'
work=$(mktemp -d /tmp/xuncha-two.XXXX)
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS xuncha_two WITH (FORCE)" -c "CREATE DATABASE xuncha_two"
moto_port=18097
python3 -m moto.server -H 127.0.0.1 -p $moto_port >"$work/moto.log" 2>&1 &
pids=$!
trap 'kill $pids 2>/dev/null || true' EXIT
for _ in $(seq 1 30); do curl -fs "http://127.0.0.1:$moto_port/" >/dev/null 2>&1 && break; sleep 1; done
export XUNCHA_DATABASE_URL=postgres://postgres@127.0.0.1:5432/xuncha_two \
  XUNCHA_S3_ENDPOINT=http://127.0.0.1:$moto_port XUNCHA_S3_ACCESS_KEY_ID=testing \
  XUNCHA_S3_SECRET_ACCESS_KEY=testing XUNCHA_S3_BUCKET=two \
  XUNCHA_JWT_SECRET=two-instances-share-this-signing-secret-0123456789 \
  XUNCHA_ADMIN_PASSWORD=two-admin-password-1 XUNCHA_LOG_FORMAT=json \
  XUNCHA_RATE_LIMIT_PER_SECOND=100000 XUNCHA_RATE_LIMIT_BURST=100000 XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND=100000 XUNCHA_ACCOUNT_RATE_LIMIT_BURST=100000 \
  XUNCHA_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8  # the test receiver listens on loopback
"$root/target/release/xuncha" migrate >"$work/migrate.log" 2>&1
XUNCHA_DATA_DIR=$work/gen "$root/target/release/xuncha" generate-city --areas 40 --shopfronts 200 \
  --cases 100 --inspectors 4 >/dev/null 2>&1
for port in 18098 18099; do
  (cd "$work" && XUNCHA_DATA_DIR=$work/instance-$port XUNCHA_BIND=127.0.0.1:$port \
    exec "$root/target/release/xuncha" >"$work/server-$port.log" 2>&1) &
  pids="$pids $!"
done
for port in 18098 18099; do
  for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
done
python3 - "$work" <<'PY'
import concurrent.futures, http.server, json, sys, threading, time, urllib.request, uuid
from datetime import datetime, timezone

work = sys.argv[1]
a, b = "http://127.0.0.1:18098/api/v1", "http://127.0.0.1:18099/api/v1"
received, lock = [], threading.Lock()

class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        with lock:
            received.append(self.headers["X-Xuncha-Delivery"])
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()

def call(url, body=None, token=None):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"content-type": "application/json"})
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)

def login(base, user, password):
    return call(f"{base}/auth/login", {"username": user, "password": password})[1]["access_token"]

admin = login(a, "admin", "two-admin-password-1")
status, _ = call(f"{a}/webhooks", {"url": f"http://127.0.0.1:{server.server_port}/hook",
                                   "events": ["assigned"], "format": "json", "secret": "two-instances-secret"}, admin)
assert status == 201, status
# The same user signed in on each instance: tokens and the JWT secret are shared.
tokens = {a: login(a, "load.inspector.0", "load-test-password-1"), b: login(b, "load.inspector.0", "load-test-password-1")}
bodies = [{"client_id": str(uuid.uuid4()), "category": "parking", "description": "两个实例同时收到",
           "location": {"lat": 30.05 + i * 0.001, "lon": 120.05 + i * 0.001, "accuracy_m": 8},
           "address": "测试路", "observed_at": datetime.now(timezone.utc).isoformat()} for i in range(300)]
answers = {}
with concurrent.futures.ThreadPoolExecutor(32) as pool:
    futures = {pool.submit(call, f"{base}/reports", body, tokens[base]): (body["client_id"], base)
               for body in bodies for base in (a, b)}
    for future in concurrent.futures.as_completed(futures):
        status, case = future.result()
        assert status in (200, 201), (status, case)
        answers.setdefault(futures[future][0], set()).add(case["id"])
same = sum(1 for ids in answers.values() if len(ids) == 1)
print(f"filings: {len(bodies)} client_ids sent to both instances; both answered with the same case for {same}")
deadline = time.time() + 60
while time.time() < deadline:
    with lock:
        if len(received) >= len(bodies):
            break
    time.sleep(0.5)
time.sleep(5)  # room for any duplicate to arrive
with lock:
    print(f"webhook notices received: {len(received)}, distinct deliveries: {len(set(received))}")
    ok = same == len(bodies) and len(received) == len(set(received)) == len(bodies)
open(f"{work}/python-ok", "w").write("yes" if ok else "no")
PY
cases=$(psql -h 127.0.0.1 -U postgres -d xuncha_two -qtAc "SELECT count(*), count(DISTINCT case_no) FROM cases WHERE description = '两个实例同时收到'")
echo "cases in the database (rows, distinct case numbers): $cases"
[ "$cases" = "300|300" ] && [ "$(cat "$work/python-ok")" = yes ] && echo "two instances: all checks passed"
