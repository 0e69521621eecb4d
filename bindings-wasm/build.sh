#!/usr/bin/env bash
# Builds the npm package into bindings-wasm/pkg/{web,node}: cargo (wasm32, release, LTO) → wasm-bindgen (the
# CLI at exactly the crate's version) → wasm-opt from npm's binaryen (never Debian's: it breaks the module).
# Needs: rustup target wasm32-unknown-unknown, wasm-bindgen on PATH, `npm ci` done here (scripts/test-wasm.sh
# installs all three).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
export PATH="$here/node_modules/.bin:$PATH"

want="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')"
if [ "$want" != "$have" ]; then
  echo "wasm-bindgen CLI ${have:-missing} does not match the crate ($want): cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

# Size and speed: one codegen unit with fat LTO, no debug info (only for this build; the shared release
# profile of the workspace is unchanged for native builds).
CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_DEBUG=false \
  cargo build -p battsentinel-wasm --target wasm32-unknown-unknown --release --locked
wasm="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/battsentinel_wasm.wasm"

rm -rf "$here/pkg"
wasm-bindgen --target web --out-dir "$here/pkg/web" "$wasm"
wasm-bindgen --target nodejs --out-dir "$here/pkg/node" "$wasm"
# Both targets get the same module (only the JS glue differs): optimise it once. Rust's wasm32 target enables
# these features by default; wasm-opt must be told to keep them.
cmp -s "$here/pkg/web/battsentinel_wasm_bg.wasm" "$here/pkg/node/battsentinel_wasm_bg.wasm"
wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-multivalue --enable-reference-types \
  -o "$here/pkg/web/battsentinel_wasm_bg.wasm" "$here/pkg/web/battsentinel_wasm_bg.wasm"
cp "$here/pkg/web/battsentinel_wasm_bg.wasm" "$here/pkg/node/battsentinel_wasm_bg.wasm"
# The package is "type": "module"; the nodejs target is CommonJS: mark its folder so.
printf '{"type": "commonjs"}\n' > "$here/pkg/node/package.json"

raw=$(stat -c %s "$here/pkg/web/battsentinel_wasm_bg.wasm")
gz=$(gzip -9 -c "$here/pkg/web/battsentinel_wasm_bg.wasm" | wc -c)
echo "battsentinel_wasm_bg.wasm: $raw bytes, $gz bytes gzipped (goal ≤ 1500000, issue 9)"
