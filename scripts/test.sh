#!/usr/bin/env bash
# Runs every check and test of BattSentinel on a fresh machine. Installs what it needs first.
# Everything is built once in the `ci` profile (optimised, debug assertions and overflow checks on) with one
# feature set (--workspace --all-features), so the slow numerical tests run at full speed and benches,
# examples and the CLI reuse the same artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# A clean CI build gains nothing from incremental caches, and they cost gigabytes of disk in the ci profile.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
BUILD=(--workspace --all-features --locked --profile ci)
step() { echo; echo "=== $* ==="; df -h . | awk 'NR == 2 { print "(disk: " $4 " free of " $2 ")" }'; }

step "toolchain"
rustup target add wasm32-unknown-unknown
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "format"
cargo fmt --all --check

step "clippy (all targets, all features)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
if [ "${BATTSENTINEL_CI_PRUNE:-0}" = 1 ]; then
  # On CI machines with little disk: clippy's check artifacts (~1 GB) are not used by any later step.
  rm -rf target/debug
fi

step "wasm32 build of the core (no file system, no threads)"
cargo build -p battsentinel-core --no-default-features --target wasm32-unknown-unknown --release --locked

step "build tests, examples and the CLI"
cargo test "${BUILD[@]}" --no-run

step "benches compile"
cargo bench "${BUILD[@]}" --no-run

step "examples run"
# Examples that take no input run here; the comparison programs (models_compare) run from their
# benches/compare_*.sh scripts, which generate their inputs first.
for name in twin_1c_discharge; do
  echo "--- example $name"
  "target/ci/examples/$name" >/dev/null
done

step "README command-line examples"
python3 scripts/readme_examples.py target/ci/battsentinel

step "tests (optimised with debug assertions, all features)"
cargo test "${BUILD[@]}"

step "server tests on PostgreSQL (installs and starts Debian's PostgreSQL on loopback)"
CARGO_PROFILE=ci ./scripts/postgres-test.sh

step "Python package (bindings-python): abi3 wheel, mypy.stubtest, pytest with PyPI cross-checks, examples"
CARGO_PROFILE=ci ./scripts/test-python.sh

step "npm package (bindings-wasm): build, node and parity tests, headless-browser test of the demo"
CARGO_PROFILE=ci ./scripts/test-wasm.sh
