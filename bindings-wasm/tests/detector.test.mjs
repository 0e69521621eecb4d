import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bs, fixture, throwsCoded } from './helpers.mjs';

const ALL = ['normal', 'capacity_fade', 'resistance_rise', 'internal_short', 'overcharge', 'overdischarge',
  'cooling_failure', 'thermal_runaway_precursor', 'sensor_fault', 'cell_imbalance'];

test('the default fault detector analyses the Arbin example: one window per cycle, probabilities sum to 1', () => {
  const log = bs.readBytes(fixture('cyclers/arbin_example.csv'), 'arbin_example.csv');
  const d = bs.FaultDetector.default();
  assert.equal(d.featureNames.length, 31);
  assert.ok(d.classes.every((c) => ALL.includes(c)) && d.classes.includes('normal'));
  assert.ok(d.nTrainingWindows > 100, `${d.nTrainingWindows} training windows`);
  const r = d.analyze(log);
  assert.deepEqual(r.classes, ALL);
  assert.equal(r.feature_names.length, 31);
  const cycles = new Set(Array.from(log.cycleIndex));
  assert.equal(r.windows.length, r.summary.n_windows);
  assert.equal(r.windows.length, cycles.size);
  for (const w of r.windows) {
    const p = Object.values(w.probabilities);
    assert.equal(p.length, ALL.length);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12, `window ${w.cycle}: probabilities sum to 1`);
    assert.ok(w.anomaly_score > 0 && w.anomaly_score <= 1);
    assert.equal(w.features.length, 31);
  }
  // A healthy cycler file: the verdict is not a cell fault.
  // The two windows are low-confidence (top probability < 0.5), so they do not vote: the verdict is normal.
  assert.equal(r.summary.verdict, 'normal');
  assert.ok(r.windows.every((w) => w.confidence < 0.5));
  const counted = Object.values(r.summary.label_counts).reduce((a, b) => a + b, 0);
  assert.equal(counted, r.windows.length);
});

test('the detector round-trips through the shared model format and its classifier explains a window', () => {
  const d = bs.FaultDetector.default();
  const json = d.toJSON();
  assert.equal(JSON.parse(json).kind, 'fault_detector');
  const back = bs.FaultDetector.load(json);
  const log = bs.readBytes(fixture('cyclers/arbin_example.csv'), 'arbin_example.csv');
  assert.deepEqual(back.analyze(log), d.analyze(log));
  const r = d.analyze(log, { window_s: 7200 });
  const x = r.windows.map((w) => w.features.map((v) => v ?? 0));
  const rf = d.classifier;
  const proba = rf.predictProba(x);
  const cls = d.classes;
  proba.forEach((row, k) => cls.forEach((c, j) => {
    assert.ok(Math.abs(row[j] - r.windows[k].probabilities[c]) < 1e-12, `window ${k} ${c}`);
  }));
  const e = new bs.TreeExplainer(rf, x, { featureNames: d.featureNames }).explain(x[0]);
  const j = cls.indexOf(r.windows[0].label === 'sensor_fault' && !cls.includes('sensor_fault') ? 'normal' : r.windows[0].label);
  const sum = Array.from(e.outputValues(j)).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(e.baseValues[j] + sum - proba[0][j]) < 1e-9, 'SHAP values add up to the probability');
});

test('detector errors carry name and code', () => {
  const d = bs.FaultDetector.default();
  const log = bs.readBytes(fixture('cyclers/arbin_example.csv'), 'arbin_example.csv');
  throwsCoded(assert, () => d.analyze(log, { window_s: -1 }), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => d.analyze(log, { no_such_option: 1 }), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => bs.FaultDetector.load('{"nope": 1}'), 'ModelError', 'invalid_model_file');
});
