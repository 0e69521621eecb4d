#!/usr/bin/env bash
# Builds the npm package (bindings-wasm) and runs its node, parity and browser tests. Installs what it needs
# on a fresh machine: the wasm32 target, wasm-bindgen-cli at exactly the crate's version (without --locked,
# which fails on a missing webpki-roots version), the npm dev dependencies pinned in package-lock.json
# (binaryen's wasm-opt, playwright-core without a browser download) and Debian's chromium.
# Called by scripts/test.sh; CARGO_PROFILE (default ci) selects the profile of the native golden values.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
step() { echo; echo "=== wasm: $* ==="; }
start=$(date +%s)

step "tools"
rustup target add wasm32-unknown-unknown
want="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
  cargo install wasm-bindgen-cli --version "$want"
fi
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; else sudo apt-get update && sudo apt-get install -y chromium; fi
fi
(cd bindings-wasm && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)

step "build the npm package (web + nodejs, wasm-opt)"
bindings-wasm/build.sh

step "native golden values for the parity tests"
profile="${CARGO_PROFILE:-ci}"
mkdir -p target/wasm-parity
# scripts/test.sh has already built the examples in this profile: reuse that binary (same features as the
# native tests); standalone, build it.
if [ -x "target/$profile/examples/wasm_parity" ]; then
  "target/$profile/examples/wasm_parity" > target/wasm-parity/golden.json
else
  cargo run --quiet --locked --profile "$profile" --example wasm_parity > target/wasm-parity/golden.json
fi

step "node tests (against the built package)"
(cd bindings-wasm && BATTSENTINEL_PARITY_GOLDEN="$root/target/wasm-parity/golden.json" node --test tests/*.test.mjs)

step "browser test (demo on 127.0.0.1, headless Debian chromium via playwright-core)"
(cd bindings-wasm && node --test tests/browser.e2e.mjs)

echo "wasm: done in $(( $(date +%s) - start )) s"
