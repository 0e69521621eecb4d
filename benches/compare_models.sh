#!/usr/bin/env bash
# Models vs scikit-learn in one run, on identical CSVs (issue 4).
# 1. the Python anchor generates the seeded datasets into $OUT and times sklearn (single thread);
# 2. the release Rust comparison reads the same CSVs, times our models single-threaded and prints ratios.
# Usage: benches/compare_models.sh [OUT_DIR]   (PYTHON defaults to /work/venvs/models/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-target/models_compare}"
PYTHON="${PYTHON:-/work/venvs/models/bin/python}"
export MODELS_REPEATS="${MODELS_REPEATS:-3}"
cargo build --release --example models_compare
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$PYTHON" benches/python/models_anchor.py "$OUT" > "$OUT.sklearn.log"
RAYON_NUM_THREADS=1 cargo run --release --example models_compare -- "$OUT"
