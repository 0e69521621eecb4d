#!/usr/bin/env bash
# Runs the thermal criterion bench and the numpy/scipy anchor on the same frames in one go, and prints
# Python time / Rust time per input (decode + analysis).
# Usage: bash benches/compare_thermal.sh   (venv: /work/venvs/thermal or $THERMAL_VENV, with numpy scipy pillow)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${THERMAL_VENV:-/work/venvs/thermal}"
[ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q numpy scipy pillow; }
cargo bench --bench thermal -- thermal_decode_analyze
files=(target/thermal_bench/*.jpg)
"$VENV/bin/python" benches/python/thermal_anchor.py "${files[@]}" > target/thermal_bench/anchor.jsonl
"$VENV/bin/python" - <<'PY'
import json, os
for line in open("target/thermal_bench/anchor.jsonl"):
    a = json.loads(line)
    name = os.path.basename(a["file"])[:-4]
    est = json.load(open(f"target/criterion/thermal_decode_analyze/{name}/new/estimates.json"))
    rust_ms = est["median"]["point_estimate"] / 1e6
    print(f"{name:14s} rust {rust_ms:8.3f} ms  python {a['median_ms']:8.3f} ms  ratio {a['median_ms'] / rust_ms:6.1f}x"
          f"  (python: {a['min_c']:.2f}..{a['max_c']:.2f} C, mean {a['mean_c']:.2f}, {a['hotspots']} hotspots)")
PY
