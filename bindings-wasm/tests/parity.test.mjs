// Parity: the same inputs give the same numbers in WebAssembly as in native Rust. The native side is the
// example `examples/wasm_parity.rs`; its JSON is read from $BATTSENTINEL_PARITY_GOLDEN (scripts/test-wasm.sh
// writes it in the same CI run) or produced here with cargo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bs, close, dataset, fixture, repoRoot } from './helpers.mjs';

function golden() {
  const path = process.env.BATTSENTINEL_PARITY_GOLDEN;
  const text = path
    ? readFileSync(path, 'utf8')
    : execFileSync('cargo', ['run', '--quiet', '--release', '--no-default-features', '--example', 'wasm_parity'], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 28 });
  return JSON.parse(text);
}

const g = golden();
const numeric = (rec) => Object.entries(rec).filter(([k, v]) => typeof v === 'number' || (v === null && k !== 'label'));

test('cycle summary of the Arbin example equals native (exact)', () => {
  const log = bs.readBytes(fixture('cyclers/arbin_example.csv'), 'arbin_example.csv');
  assert.equal(log.length, g.log_rows);
  const s = log.cycleSummary();
  assert.equal(s.cycles.length, g.cycle_summary.cycles.length);
  s.cycles.forEach((c, k) => {
    const n = g.cycle_summary.cycles[k];
    for (const [key, v] of numeric(n)) {
      close(assert, [c[key]], [v], { atol: 0, rtol: 1e-15, what: `cycle ${n.cycle} ${key}` });
    }
  });
});

test('the native forest file loads in wasm and gives the same probabilities (exact)', () => {
  const rf = bs.RandomForestClassifier.load(JSON.stringify(g.model));
  const { x } = dataset(120, 10);
  rf.predictProba(x.slice(0, 5)).forEach((row, k) => close(assert, row, g.proba[k], { atol: 0, what: `proba ${k}` }));
});

test('Kernel SHAP (M = 10), TreeSHAP (both perturbations, interactions) and LIME of the native forest equal native', () => {
  const rf = bs.RandomForestClassifier.load(JSON.stringify(g.model));
  const { x } = dataset(120, 10);
  const bg = x.slice(0, 20);
  const ek = new bs.KernelExplainer(rf, bg).explain(x[30]);
  close(assert, ek.outputValues(1), g.kernel_shap.values, { atol: 1e-13, what: 'kernel shap' });
  close(assert, ek.baseValues, g.kernel_shap.base_values, { atol: 1e-15, what: 'base values' });
  const et = new bs.TreeExplainer(rf, bg).explain(x[30]);
  close(assert, et.outputValues(1), g.tree_shap.values, { atol: 1e-13, what: 'tree shap' });
  const pd = new bs.TreeExplainer(rf, undefined, { featurePerturbation: 'tree_path_dependent' });
  const ep = pd.explain(x[30]);
  const gp = g.tree_shap_path_dependent;
  close(assert, ep.outputValues(1), gp.values, { atol: 1e-13, what: 'path-dependent tree shap' });
  close(assert, ep.baseValues, gp.base_values, { atol: 1e-15, what: 'path-dependent base values' });
  pd.interactionValues(x[30]).forEach((row, i) => {
    close(assert, row.map((cell) => cell[1]), gp.interaction_values[i], { atol: 1e-13, what: `interaction row ${i}` });
  });
  const lime = new bs.LimeExplainer(x, x[0].map((_, j) => `f${j}`), { mode: 'classification', num_samples: 500, seed: 3 });
  const list = lime.explain(x[30], rf, { labels: [1] }).asList();
  assert.deepEqual(list.map(([name]) => name), g.lime.map(([name]) => name));
  close(assert, list.map(([, w]) => w), g.lime.map(([, w]) => w), { atol: 1e-12, what: 'lime weights' });
});

test('twin run and alert events equal native', () => {
  const trace = bs.simulate(bs.ecmExampleParams(), { initial: { soc: 0.9 }, steps: [{ kind: 'cc', current_a: 100, duration_s: 600 }] });
  assert.equal(trace.length, g.twin.length);
  assert.equal(trace.endReason, g.twin.end_reason);
  close(assert, trace.voltageV, g.twin.voltage_v, { atol: 0, rtol: 1e-15, what: 'twin voltage' });
  const log = bs.readBytes(fixture('cyclers/arbin_example.csv'), 'arbin_example.csv');
  const events = bs.evaluateAlerts(log, 'lfp');
  assert.deepEqual(events, g.alerts);
});

test('the default fault detector gives native\'s report on the Arbin example', () => {
  const log = bs.readBytes(fixture('cyclers/arbin_example.csv'), 'arbin_example.csv');
  const d = bs.FaultDetector.default();
  assert.deepEqual(d.classes, g.detector.classes);
  const r = d.analyze(log);
  const n = g.detector.report;
  assert.deepEqual(r.classes, n.classes);
  assert.equal(r.summary.verdict, n.summary.verdict);
  assert.deepEqual(r.summary.label_counts, n.summary.label_counts);
  assert.equal(r.windows.length, n.windows.length);
  r.windows.forEach((w, k) => {
    const nw = n.windows[k];
    assert.equal(w.label, nw.label, `window ${k} label`);
    const cls = Object.keys(nw.probabilities);
    close(assert, cls.map((c) => w.probabilities[c]), cls.map((c) => nw.probabilities[c]), { atol: 1e-12, what: `window ${k} probabilities` });
    close(assert, [w.anomaly_score], [nw.anomaly_score], { atol: 1e-12, what: `window ${k} anomaly score` });
  });
});
