// Speed of the npm package in node against native Rust in the same run (ratios printed):
// - reading + analysing (cycle summary) a 100,000-row Arbin file (goal < 1 s);
// - Kernel SHAP with M = 10 features per instance, background 50 rows, for a random forest (exact tree path)
//   and an MLP (generic batched path); goal within 2× of native single-threaded (RAYON_NUM_THREADS=1).
// Run: node bench/bench.mjs   (builds the native anchor with cargo --release on first use)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bs, dataset, repoRoot } from '../tests/helpers.mjs';
import { arbinCsv } from '../tests/synth.mjs';

function medianMs(runs, f) {
  f();
  const t = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(runs / 2)];
}

const work = mkdtempSync(join(tmpdir(), 'bs-bench-'));
try {
  const csv = new TextEncoder().encode(arbinCsv(100000));
  const file = join(work, 'arbin_100k.csv');
  writeFileSync(file, csv);
  const readMs = medianMs(5, () => {
    const log = bs.readBytes(csv, 'arbin_100k.csv');
    const s = log.cycleSummary();
    log.free();
    return s;
  });

  const { x, y } = dataset(500, 10);
  const bg = x.slice(0, 50);
  const models = {
    random_forest_classifier: bs.RandomForestClassifier.fit(x, y, { n_trees: 100, max_depth: 8, seed: 1 }),
    mlp_classifier: bs.MlpClassifier.fit(x, y, { seed: 1 }),
  };
  const wasmShap = {};
  const paths = [];
  for (const [kind, model] of Object.entries(models)) {
    const path = join(work, `${kind}.json`);
    writeFileSync(path, model.toJSON());
    paths.push(path);
    const ex = new bs.KernelExplainer(model, bg);
    wasmShap[kind] = medianMs(5, () => { for (let i = 100; i < 110; i++) ex.explain(x[i]).free(); }) / 10;
  }

  const native = JSON.parse(execFileSync('cargo', ['run', '--quiet', '--release', '--no-default-features', '--example', 'wasm_parity', '--', 'bench', file, ...paths], {
    cwd: repoRoot, encoding: 'utf8', env: { ...process.env, RAYON_NUM_THREADS: '1' }, maxBuffer: 1 << 26,
  }));

  const row = (what, w, n) => console.log(`${what.padEnd(52)} wasm ${w.toFixed(2).padStart(9)} ms   native ${n.toFixed(2).padStart(9)} ms   ratio ${(w / n).toFixed(2)}×`);
  console.log(`battsentinel ${bs.version()} — node ${process.version}`);
  row('read + cycle summary, 100,000-row Arbin CSV', readMs, native.read_summary_ms);
  for (const kind of Object.keys(models)) {
    row(`Kernel SHAP M=10 per instance (${kind})`, wasmShap[kind], native.kernel_shap_ms_per_instance[kind]);
  }
  console.log(readMs < 1000 ? 'goal met: 100,000 rows read and analysed in < 1 s' : 'goal MISSED: 100,000 rows took ≥ 1 s');
} finally {
  rmSync(work, { recursive: true, force: true });
}
