#!/usr/bin/env bash
# Bad input at scale: schemathesis (PyPI) generates requests from /api/v1/openapi.json,
# signed in as admin, and checks that no answer is a 5xx and that answers match the
# schema. `docs/bench/schemathesis.sh [seconds]` (CI runs a short one). With
# XUNCHA_DATABASE_URL set, the server and its demo city use that database (PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/../.."
budget=${1:-600}
python3 -c 'import schemathesis' 2>/dev/null || python3 -m pip install --quiet schemathesis
[ -n "${SKIP_BUILD:-}" ] || cargo build --quiet --bin xuncha
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$work" && XUNCHA_BIND=127.0.0.1:$port XUNCHA_ADMIN_PASSWORD=schemathesis-admin-1 \
  XUNCHA_RATE_LIMIT_PER_SECOND=100000 XUNCHA_RATE_LIMIT_BURST=100000 XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND=100000 XUNCHA_ACCOUNT_RATE_LIMIT_BURST=100000 \
  exec "$OLDPWD/target/debug/xuncha" >server.log 2>&1) &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 1; done
(cd "$work" && XUNCHA_DATA_DIR=data "$OLDPWD/target/debug/xuncha" seed-demo >/dev/null)
token=$(curl -fsS "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"admin","password":"schemathesis-admin-1"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# Sign-out and password changes would end the fuzzer's own session. One worker: CPython
# 3.11's ast module is not thread-safe and hypothesis parses lambdas with it (a CI run
# died with "AST constructor recursion depth mismatch" at two workers).
st run "http://127.0.0.1:$port/api/v1/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path-regex '/auth/logout|/me/password|/users/\{id\}' \
  --max-time "$budget" --seed 2026 --workers 1 --request-timeout 30
