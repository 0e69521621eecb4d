#!/usr/bin/env bash
# Runs the twin criterion bench and the PyBaMM anchor on the same 1C experiments in the same run, then prints
# the speed-up ratios. Usage: benches/compare_twin.sh [python]   (default /work/venvs/twin/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-/work/venvs/twin/bin/python}"
cargo bench --locked --bench twin --no-default-features -- --noplot  # the REST server is not needed here
"$PY" benches/python/twin_anchor.py > target/twin_anchor.json
"$PY" - <<'PYEOF'
import json, pathlib
crit = pathlib.Path("target/criterion")
def est(group, bid):
    p = crit / group / bid / "new" / "estimates.json"
    return json.loads(p.read_text())["median"]["point_estimate"] * 1e-9
a = json.loads(pathlib.Path("target/twin_anchor.json").read_text())
print(f"PyBaMM {a['pybamm']} (CasadiSolver safe) vs battsentinel twin, same run")
print(f"{'case':12} {'pybamm first':>13} {'rust first':>11} {'ratio':>8} | {'pybamm warm':>12} {'rust warm':>10} {'ratio':>8}")
print("1 s steps (3 558 / 3 547 / 1 748 rows):")
for case in ["constparams", "tables", "soc50"]:
    pf, pw = a[case]["first_s"], a[case]["resolve_s"]
    rf, rw = est("twin_1c", f"first/{case}"), est("twin_1c", f"resolve/{case}")
    print(f"{case:12} {pf*1e3:11.1f}ms {rf*1e6:9.1f}µs {pf/rf:7.0f}x | {pw*1e3:10.1f}ms {rw*1e6:8.1f}µs {pw/rw:7.0f}x")
print("same experiment with 20 s steps (output ~2x as dense as PyBaMM's 100 points; issue tolerances met,"
      " tests/it/twin.rs twenty_second_steps_meet_the_pybamm_tolerances); goals 1000x first, 300x warm:")
for case in ["constparams", "tables", "soc50"]:
    pf, pw = a[case]["first_s"], a[case]["resolve_s"]
    rf, rw = est("twin_1c", f"first_dt20/{case}"), est("twin_1c", f"resolve_dt20/{case}")
    print(f"{case:12} {pf*1e3:11.1f}ms {rf*1e6:9.1f}µs {pf/rf:7.0f}x | {pw*1e3:10.1f}ms {rw*1e6:8.1f}µs {pw/rw:7.0f}x")
print("warm re-solve into a reused trace (no allocation):")
for case in ["constparams", "tables", "soc50"]:
    pw, rr = a[case]["resolve_s"], est("twin_1c", f"resolve_reuse/{case}")
    print(f"{case:12} {pw*1e3:10.1f}ms {rr*1e6:8.1f}µs {pw/rr:7.0f}x")
for bid in ["tables_const_current", "constparams", "tables_varying_current"]:
    t = est("twin_step", bid)
    print(f"step() {bid:24}: {1e5/t/1e6:6.1f} M steps/s")
for bid in ["100s1p", "25s4p"]:
    print(f"pack {bid} 1 h at 1 s: {est('twin_pack_1h', bid)*1e3:.1f} ms")
PYEOF
