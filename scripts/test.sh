#!/usr/bin/env bash
# Runs every check and test of BattSentinel on a fresh machine. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
step() { echo; echo "=== $* ==="; }

step "toolchain"
rustup target add wasm32-unknown-unknown
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "format"
cargo fmt --all --check

step "clippy (all targets, all features)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "tests (optimised with debug assertions, all features)"
cargo test --workspace --all-features --locked --profile ci

step "wasm32 build of the core"
cargo build -p battsentinel-core --no-default-features --target wasm32-unknown-unknown --release --locked

step "benches compile"
cargo bench --workspace --no-run --locked
echo
echo "all checks passed"
