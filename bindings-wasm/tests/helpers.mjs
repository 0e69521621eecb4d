// Shared helpers of the node tests: the built package (pkg/node) and the shared fixtures, found by walking
// up from this directory until a `shared/data` directory exists (as the Rust tests do).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const pkgDir = resolve(here, '..');
export const repoRoot = resolve(pkgDir, '..');

export const bs = createRequire(import.meta.url)(join(pkgDir, 'pkg/node/battsentinel_wasm.js'));

export function sharedData() {
  let dir = pkgDir;
  for (;;) {
    const candidate = join(dir, 'shared/data');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no shared/data directory above ${pkgDir}`);
    dir = up;
  }
}

export const fixture = (rel) => new Uint8Array(readFileSync(join(sharedData(), rel)));

/** Asserts that `fn` throws a real `Error` with this name and code; returns the error. */
export function throwsCoded(assert, fn, name, code) {
  let caught;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, `expected an Error, got ${caught}`);
  assert.equal(caught.name, name, caught.message);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.length > 10, 'the message says what is wrong');
  return caught;
}

/** |a − b| ≤ atol + rtol·|b| for every element (NaN/null equal). */
export function close(assert, actual, expected, { rtol = 0, atol = 1e-12, what = '' } = {}) {
  const a = Array.from(actual, (x) => (x === null ? NaN : x));
  const b = Array.from(expected, (x) => (x === null ? NaN : x));
  assert.equal(a.length, b.length, `${what}: length`);
  for (let k = 0; k < a.length; k++) {
    if (Number.isNaN(a[k]) && Number.isNaN(b[k])) continue;
    assert.ok(Math.abs(a[k] - b[k]) <= atol + rtol * Math.abs(b[k]), `${what}[${k}]: ${a[k]} vs ${b[k]}`);
  }
}

/** The parity dataset: exact in any language (see examples/wasm_parity.rs). */
export function dataset(n, m) {
  const x = [];
  const y = [];
  for (let i = 0; i < n; i++) {
    const row = [];
    for (let j = 0; j < m; j++) row.push(((37 * i + 11 * j + 5 * i * j) % 101) / 101);
    x.push(row);
    y.push(row[0] + row[3] - row[7] > 0.5 ? 1 : 0);
  }
  return { x, y };
}
