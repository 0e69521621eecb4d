#!/usr/bin/env bash
# Builds the Python package `battsentinel` (bindings-python/) and runs its checks: mypy.stubtest, pytest (with
# cross-checks against scikit-learn, shap and pandas installed from PyPI), the quickstart and the Dask example.
# Works on a clean clone with python3 (>= 3.9, with venv) and cargo on PATH; everything else is installed into
# a venv under target/. Called by scripts/test.sh; runs alone too.
#
#   CARGO_PROFILE  cargo profile of the wheel (default: ci, so the build shares target/ci with the rest of CI;
#                  use `release` for benchmarks)
#   PY_VENV        venv to create/reuse (default: target/py-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PROFILE=${CARGO_PROFILE:-ci}
VENV=${PY_VENV:-$ROOT/target/py-venv}
PY=$VENV/bin/python
step() { echo; echo "=== python: $* ==="; }
start=$(date +%s)

step "venv and pinned test dependencies ($VENV)"
if [ ! -x "$PY" ]; then
  if ! python3 -m venv "$VENV"; then
    # Debian/Ubuntu ship venv separately.
    rm -rf "$VENV"
    apt-get update -qq && apt-get install -y -qq python3-venv
    python3 -m venv "$VENV"
  fi
fi
"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet -r bindings-python/requirements-test.txt

step "build the abi3 wheel (cargo profile $PROFILE) and install it"
rm -rf target/py-wheels
"$VENV/bin/maturin" build --manifest-path bindings-python/Cargo.toml --profile "$PROFILE" --locked \
  --interpreter "$PY" --out target/py-wheels
"$PY" -m pip install --quiet --force-reinstall --no-deps target/py-wheels/battsentinel-*.whl
"$PY" -c "import battsentinel, sys; print('battsentinel', battsentinel.__version__, 'on Python', sys.version.split()[0])"

step "type stubs (mypy.stubtest)"
(cd bindings-python && "$PY" -m mypy.stubtest battsentinel --allowlist stubtest-allowlist.txt)

step "pytest"
"$PY" -m pytest -q bindings-python/tests

step "quickstart (percent-format notebook)"
"$PY" bindings-python/examples/quickstart.py > /dev/null

step "Dask fleet example (LocalCluster, 2 workers)"
"$PY" bindings-python/examples/fleet_dask.py

echo
echo "=== python: all checks passed in $(( $(date +%s) - start )) s ==="
