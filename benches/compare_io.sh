#!/usr/bin/env bash
# Times the Rust reader (criterion, benches/io.rs) and pandas / polars read_csv (benches/python/io_anchor.py)
# on the same generated ≥200 MB Arbin-layout CSV in one run, prints throughput ratios, and measures the
# reader's peak memory against the size of the resulting columns.
#
# Usage: benches/compare_io.sh   (PYTHON=/path/to/python with pandas + polars; default /work/venvs/io/bin/python)
# Honours CARGO_TARGET_DIR (criterion results, the release binary and the generated file live under it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/work/venvs/io/bin/python}
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
DATA=$TARGET/bench-data
FILE=${BATTSENTINEL_IO_BENCH_FILE:-$DATA/arbin_io_bench.csv}
export BATTSENTINEL_IO_BENCH_FILE=$FILE
mkdir -p "$DATA"

# The REST server is not needed to read files: build without it (faster, fewer dependencies).
cargo bench --locked --no-default-features --bench io -- io_read/ 2>&1 | grep -E "io_read|time:|thrpt:" || true
EST=$(ls -d "$TARGET"/criterion/io_read/arbin_*MB | head -1)/new/estimates.json
RUST_S=$(python3 -c "import json;print(json.load(open('$EST'))['mean']['point_estimate']/1e9)")

ANCHOR=$("$PY" benches/python/io_anchor.py "$FILE" 3)

cargo build --locked --no-default-features --release --quiet --bin battsentinel
BIN=$TARGET/release/battsentinel
PEAK_KB=$( { /usr/bin/time -f "%M" "$BIN" inspect --json "$FILE" > "$DATA/inspect.json"; } 2>&1 | tail -1)
BASE_KB=$( { /usr/bin/time -f "%M" "$BIN" inspect --json tests/data/io/arbin_example.csv > /dev/null; } 2>&1 | tail -1)

python3 - "$RUST_S" "$ANCHOR" "$PEAK_KB" "$BASE_KB" "$FILE" "$DATA/inspect.json" <<'PY'
import json, os, sys
rust_s = float(sys.argv[1]); a = json.loads(sys.argv[2]); peak_kb = int(sys.argv[3]); base_kb = int(sys.argv[4])
size = os.path.getsize(sys.argv[5]); ins = json.load(open(sys.argv[6]))
rows = ins["rows"]
# Result columns: every channel is one 8-byte value per row (f64, or Option<u32>).
cols = len(ins["channels"])
result_mb = rows * cols * 8 / 1e6
print(f"file: {size/1e6:.1f} MB, {rows} rows, {cols} columns in the log ({result_mb:.1f} MB of columns)")
print(f"battsentinel: {rust_s:.3f} s  ({size/1e6/rust_s:.0f} MB/s)")
print(f"pandas {a['pandas']}: {a['pandas_s']:.3f} s  -> ratio {a['pandas_s']/rust_s:.2f}x (goal >= 3)")
print(f"polars {a['polars']}: {a['polars_s']:.3f} s  -> ratio {a['polars_s']/rust_s:.2f}x (goal >= 1)")
net = (peak_kb - base_kb) / 1e3
print(f"peak RSS {peak_kb/1e3:.1f} MB (process baseline {base_kb/1e3:.1f} MB, net {net:.1f} MB) "
      f"= {net/result_mb:.2f}x the result columns (goal <= 1.5)")
PY
