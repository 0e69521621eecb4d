#!/usr/bin/env bash
# Runs the Python anchor (shap, lime, scikit-learn) and the Rust criterion benches on the same model and data,
# in one run, and prints per-instance times and ratios.
# Usage: benches/compare_explain.sh [python]   (default python: /work/venvs/explain/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-/work/venvs/explain/bin/python}"
OUT="${EXPLAIN_BENCH_DIR:-$PWD/target/explain_bench}"
mkdir -p "$OUT"
echo "== Python anchor (shap/lime/sklearn) -> $OUT"
"$PY" benches/python/explain_anchor.py "$OUT"
echo "== Rust (criterion)"
EXPLAIN_BENCH_DIR="$OUT" cargo bench --bench explain -- --noplot
"$PY" - "$OUT" <<'PYEOF'
import json, os, sys
out = sys.argv[1]
a = json.load(open(os.path.join(out, "anchor.json")))
crit = os.path.join("target", "criterion")
def rust_s(group, ident):
    p = os.path.join(crit, group, ident, "new", "estimates.json")
    return json.load(open(p))["mean"]["point_estimate"] * 1e-9
rows = [
    ("Kernel SHAP, RF100 M=10 bg=100 (per instance)", a["kernel_forest_s_per_instance"],
     rust_s("explain_kernel_forest_per_instance", "rf100_M10_bg100"), 50),
    ("Kernel SHAP overhead, zero model (per instance)", a["kernel_zero_model_s_per_instance"],
     rust_s("explain_kernel_zero_model_per_instance", "M10_bg100"), 20),
    ("TreeSHAP interventional, RF100 (per instance)", a["tree_interventional_s_per_instance"],
     rust_s("explain_tree_interventional_100_instances", "rf100_M10_bg100") / 100, 1),
    ("LIME 5000 samples, case J (one explain call)", a["lime_s_per_instance"],
     rust_s("explain_lime_per_instance", "J_M8_5000"), 20),
    ("LIME 5000 samples, case J (explain_rows x20, per inst.)", a["lime_s_per_instance"],
     rust_s("explain_lime_rows", "J_M8_5000_x20") / 20, 20),
]
print(f"{'benchmark':52s} {'python s':>10s} {'rust s':>10s} {'ratio':>8s} {'goal':>6s}")
for name, py, rs, goal in rows:
    print(f"{name:52s} {py:10.4g} {rs:10.4g} {py/rs:8.1f} {goal:>5d}x")
PYEOF
