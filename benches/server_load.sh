#!/usr/bin/env bash
# Load test of `battsentinel serve` on loopback, bounded in time and count (SQLite by default, or
# DATABASE_URL=postgres://… to test PostgreSQL).
#  1. bulk upload: UPLOADS (default 5) JSON uploads of SAMPLES (default 200000) samples each, timed with curl
#     → samples/s (includes HTTP, JSON parsing, validation and the database transaction);
#  2. battery reads: GET /api/batteries/{id} with wrk (Debian's `wrk`), first paced at ≈ RATE req/s
#     (default 500; per-connection delay in a Lua script), then unpaced for the maximum throughput;
#     each prints p50/p99 latency and requests/s.
# Needs: curl, python3, wrk (apt-get install -y wrk). Builds the binary in PROFILE (default release; the
# numbers are only meaningful for an optimised build).
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLES="${SAMPLES:-200000}"; UPLOADS="${UPLOADS:-5}"; RATE="${RATE:-500}"; DURATION="${DURATION:-15s}"
PORT="${PORT:-5077}"; BASE="http://127.0.0.1:$PORT/api"
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }

PROFILE="${PROFILE:-release}"
if [ -z "${BIN:-}" ]; then
  # The server example (what `battsentinel serve` runs) builds on the core alone. BIN=path/to/server skips
  # the build (e.g. BIN="target/ci/battsentinel serve" after the CI build).
  cargo build -p battsentinel-core --features server --example serve_api --profile "$PROFILE" --locked
  DIR="$PROFILE"; [ "$DIR" = dev ] && DIR=debug
  BIN="target/$DIR/examples/serve_api"
fi
WORK="$(mktemp -d)"
export DATABASE_URL="${DATABASE_URL:-sqlite://$WORK/load.db}" PORT HOST=127.0.0.1 LOG_LEVEL="${LOG_LEVEL:-warn}"
$BIN & SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do curl -fs "$BASE/health" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
curl -fs -H 'content-type: application/json' -d '{"username":"load","password":"load test password"}' "$BASE/auth/register" >/dev/null
TOKEN="$(curl -fs -H 'content-type: application/json' -d '{"username":"load","password":"load test password"}' "$BASE/auth/login" | json "['token']")"
BAT="$(curl -fs -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"load cell"}' "$BASE/batteries" | json "['id']")"

echo "== upload: $UPLOADS × $SAMPLES samples (JSON) =="
total_s=0
for u in $(seq 0 $((UPLOADS - 1))); do
    python3 - "$SAMPLES" "$u" > "$WORK/up.json" <<'PY'
import json, sys
n, u = int(sys.argv[1]), int(sys.argv[2])
t0 = u * n
print(json.dumps({"samples": [{"time_s": t0 + i, "voltage_v": 3.0 + (i % 1000) * 1e-3, "current_a": 1.5,
                               "temperature_c": 25.0 + (i % 7) * 0.1, "cycle_index": 1 + i // 5000}
                              for i in range(n)]}))
PY
    out="$(curl -fs -o "$WORK/resp.json" -w '%{time_total}' -H "authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' --data-binary @"$WORK/up.json" "$BASE/batteries/$BAT/data")"
    ins="$(json "['rows_inserted']" < "$WORK/resp.json")"
    echo "upload $u: $ins samples in ${out}s → $(python3 -c "print(round($ins/$out))") samples/s"
    total_s="$(python3 -c "print($total_s + $out)")"
done
echo "upload total: $(python3 -c "print(round($UPLOADS*$SAMPLES/$total_s))") samples/s over $UPLOADS uploads"

cat > "$WORK/read.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
local pace = tonumber(os.getenv("PACE_MS") or "0")
function delay() return pace end
done = function(summary, latency, requests)
  io.write(string.format("requests/s %.0f  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
CONNS=10
echo "== battery reads paced at ≈ $RATE req/s ($CONNS connections, $DURATION) =="
PACE_MS=$((CONNS * 1000 / RATE)) wrk -t2 -c$CONNS -d"$DURATION" -s "$WORK/read.lua" "$BASE/batteries/$BAT" | tail -1
echo "== battery reads unpaced ($CONNS connections, $DURATION) =="
PACE_MS=0 wrk -t2 -c$CONNS -d"$DURATION" -s "$WORK/read.lua" "$BASE/batteries/$BAT" | tail -1
echo "== data reads, 1000 samples a page, unpaced =="
PACE_MS=0 wrk -t2 -c$CONNS -d"$DURATION" -s "$WORK/read.lua" "$BASE/batteries/$BAT/data?limit=1000&from_s=1000" | tail -1
echo "== downsampled reads, 500 points over $((UPLOADS * SAMPLES)) samples, unpaced =="
PACE_MS=0 wrk -t2 -c4 -d"$DURATION" -s "$WORK/read.lua" "$BASE/batteries/$BAT/data?max_points=500&channels=voltage_v" | tail -1
