#!/usr/bin/env bash
# Fuzzes a local `battsentinel serve` (fresh SQLite file, loopback) with schemathesis (PyPI) against its own
# /api/openapi.json: no 5xx, responses conform to the documented schemas and status codes.
#   MAX_TIME (default 120) bounds the run in seconds. The venv goes to ${VENV:-.venv-schemathesis}.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv-schemathesis}"; PORT="${PORT:-5078}"; BASE="http://127.0.0.1:$PORT"
[ -x "$VENV/bin/schemathesis" ] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q schemathesis; }
if [ -z "${BIN:-}" ]; then
  # The server example (what `battsentinel serve` runs) builds on the core alone. BIN=path/to/server skips
  # the build (e.g. BIN="target/ci/battsentinel serve" after the CI build).
  cargo build -p battsentinel-core --features server --example serve_api ${CARGO_PROFILE:+--profile "$CARGO_PROFILE"} --locked
  DIR="${CARGO_PROFILE:-debug}"; [ "$DIR" = dev ] && DIR=debug
  BIN="target/$DIR/examples/serve_api"
fi
WORK="$(mktemp -d)"
DATABASE_URL="sqlite://$WORK/st.db" PORT="$PORT" LOG_LEVEL=warn LOGIN_MAX_FAILURES=1000000 $BIN & SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -fs "$BASE/api/health" >/dev/null && break; sleep 0.2; done
creds='{"username":"fuzzer","password":"fuzzer password"}'
curl -fs -H 'content-type: application/json' -d "$creds" "$BASE/api/auth/register" >/dev/null
TOKEN="$(curl -fs -H 'content-type: application/json' -d "$creds" "$BASE/api/auth/login" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
curl -fs -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"fuzz cell"}' \
    "$BASE/api/batteries" >/dev/null
# logout would revoke the token the fuzzer uses for every other operation: it is covered by the Rust tests.
"$VENV/bin/schemathesis" run "$BASE/api/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-path /api/auth/logout \
    --max-time "${MAX_TIME:-120}" --workers 2 --suppress-health-check all
