#!/usr/bin/env bash
# Times `features::dqdv` (criterion) and its numpy/scipy anchor on the same synthetic segment in one run and
# prints the ratios; also runs the cycle_summary benches (no Python anchor for those).
# Usage: benches/compare_features.sh   (Python: $FEATURES_PY, default /work/venvs/features/bin/python
#        with numpy and scipy installed)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${FEATURES_PY:-/work/venvs/features/bin/python}"
cargo bench --bench features -- --warm-up-time 1 --measurement-time 3 2>&1 | tee /tmp/features_bench.txt
"$PY" benches/python/features_dqdv.py 10000 100000 | tee /tmp/features_py.txt
python3 - <<'PY'
import re
rust = {}
unit = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}
cur = None
for line in open("/tmp/features_bench.txt"):
    m = re.match(r"^(dqdv|cycle_summary)/(\d+)", line.strip())
    if m:
        cur = (m.group(1), int(m.group(2)))
    m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
    if m and cur:
        rust[cur] = float(m.group(1)) * unit[m.group(2)]
        cur = None
for line in open("/tmp/features_py.txt"):
    n = int(re.search(r"n=(\d+)", line).group(1))
    py = float(re.search(r"median_ms=(\S+)", line).group(1))
    r = rust.get(("dqdv", n))
    if r:
        print(f"dqdv n={n}: rust {r:.4f} ms, numpy/scipy {py:.4f} ms, speed-up {py / r:.2f}x")
for (g, n), t in sorted(rust.items()):
    if g == "cycle_summary":
        print(f"cycle_summary rows={n}: {t:.2f} ms ({n / t / 1e3:.1f} M rows/s)")
PY
