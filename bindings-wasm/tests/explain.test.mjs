import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bs, close, dataset, throwsCoded } from './helpers.mjs';

test('KernelExplainer over a JS function gives the exact linear SHAP values, calling it in batches', () => {
  // f(x) = 3 x0 − x1 + 0.5 x2: φ_j = coef_j · (x_j − mean(background_j)).
  let calls = 0;
  let rowsSeen = 0;
  const model = (rows, nRows, nCols) => {
    calls++;
    rowsSeen += nRows;
    const out = new Float64Array(nRows);
    for (let r = 0; r < nRows; r++) out[r] = 3 * rows[r * nCols] - rows[r * nCols + 1] + 0.5 * rows[r * nCols + 2];
    return out;
  };
  const bg = [[0, 0, 0], [2, 4, 1], [1, 1, 1]];
  const ex = new bs.KernelExplainer(model, bg, undefined, { featureNames: ['a', 'b', 'c'] });
  const e = ex.explain([3, 1, 2]);
  const mean = [1, 5 / 3, 2 / 3];
  close(assert, e.outputValues(0), [3 * (3 - mean[0]), -(1 - mean[1]), 0.5 * (2 - mean[2])], { atol: 1e-12, what: 'phi' });
  assert.deepEqual(e.featureNames, ['a', 'b', 'c']);
  const sum = Array.from(e.outputValues(0)).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - (e.modelOutput[0] - e.baseValues[0])) < 1e-12, 'efficiency');
  assert.ok(calls >= 3 && rowsSeen > calls, `batched: ${calls} calls for ${rowsSeen} rows`);
  assert.match(e.toSvg('waterfall'), /^<svg/);
  assert.match(e.toSvg('force'), /<svg/);
  throwsCoded(assert, () => e.toSvg('pie'), 'TypeError', 'invalid_argument');
});

test('errors thrown by a JS model come back unchanged; bad models are TypeErrors', () => {
  const boom = new RangeError('model exploded');
  throwsCoded(assert, () => new bs.KernelExplainer(42, [[0]]), 'TypeError', 'invalid_argument');
  assert.throws(() => new bs.KernelExplainer(() => { throw boom; }, [[0, 1]]), (e) => e === boom);
  throwsCoded(assert, () => new bs.KernelExplainer(() => [1, 2, 3], [[0, 1]]), 'TypeError', 'invalid_argument');
  const ex = new bs.KernelExplainer((rows, n) => new Float64Array(n), [[0, 1]]);
  throwsCoded(assert, () => ex.explain([1, 2, 3]), 'ExplainError', 'explain_shape_mismatch');
});

test('Kernel SHAP over our forest equals TreeSHAP; LIME explains the same forest', () => {
  const { x, y } = dataset(120, 10);
  const rf = bs.RandomForestClassifier.fit(x, y, { n_trees: 20, max_depth: 6, seed: 7 });
  const bg = x.slice(0, 20);
  const kernel = new bs.KernelExplainer(rf, bg);
  const tree = new bs.TreeExplainer(rf, bg);
  const ek = kernel.explain(x[30]);
  const et = tree.explain(x[30]);
  // Exact Kernel SHAP (M = 10 ≤ 11 enumerates every coalition) equals interventional TreeSHAP.
  close(assert, ek.outputValues(1), et.outputValues(1), { atol: 1e-10, what: 'kernel vs tree' });
  close(assert, kernel.expectedValue, tree.expectedValue, { atol: 1e-12, what: 'expected value' });
  const set = tree.explainRows(x.slice(30, 33));
  assert.equal(set.length, 3);
  assert.equal(set.meanAbs(1).length, 10);
  assert.match(set.toSvg('bar', 1), /<svg/);
  const lime = new bs.LimeExplainer(x, x[0].map((_, j) => `f${j}`), { mode: 'classification', num_samples: 500, seed: 3 });
  const le = lime.explain(x[30], rf, { labels: [1] });
  assert.equal(le.asList().length, 10);
  assert.ok(le.models[0].score > 0);
  assert.match(le.toSvg(), /<svg/);
  // explainRows: row i with seed 3 + i, so row 0 equals explain of that row.
  const many = lime.explainRows(x.slice(30, 33), rf, { labels: [1] });
  assert.equal(many.length, 3);
  assert.deepEqual(many[0].asList(), le.asList());
  const lime4 = new bs.LimeExplainer(x, x[0].map((_, j) => `f${j}`), { mode: 'classification', num_samples: 500, seed: 4 });
  assert.deepEqual(many[1].asList(), lime4.explain(x[31], rf, { labels: [1] }).asList());
  throwsCoded(assert, () => new bs.TreeExplainer((r) => r, bg), 'TypeError', 'invalid_argument');
});

test('path-dependent TreeSHAP: efficiency, and interaction rows add up to φ (symmetric matrix)', () => {
  const { x, y } = dataset(120, 10);
  const rf = bs.RandomForestClassifier.fit(x, y, { n_trees: 20, max_depth: 6, seed: 7 });
  // No background: shap's "auto" is tree_path_dependent.
  const te = new bs.TreeExplainer(rf);
  assert.equal(te.featurePerturbation, 'tree_path_dependent');
  const explicit = new bs.TreeExplainer(rf, null, { featurePerturbation: 'tree_path_dependent' });
  close(assert, explicit.expectedValue, te.expectedValue, { atol: 0, what: 'explicit vs auto' });
  const rows = x.slice(30, 33);
  const set = te.explainRows(rows);
  const all = te.interactionValuesRows(rows);
  assert.equal(all.length, 3);
  rows.forEach((row, r) => {
    const e = set.get(r);
    const iv = te.interactionValues(row);
    assert.equal(iv.length, 10);
    assert.equal(iv[0].length, 10);
    for (let k = 0; k < 2; k++) {
      const phi = e.outputValues(k);
      const total = Array.from(phi).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - (e.modelOutput[k] - e.baseValues[k])) < 1e-12, `efficiency, row ${r} output ${k}`);
      assert.ok(Math.abs(e.baseValues[k] - te.expectedValue[k]) < 1e-15);
      for (let i = 0; i < 10; i++) {
        const rowSum = iv[i].reduce((a, cell) => a + cell[k], 0);
        assert.ok(Math.abs(rowSum - phi[i]) < 1e-12, `row ${r}: Σ_j Φ[${i}][j] = ${rowSum} vs φ ${phi[i]}`);
        for (let j = 0; j < 10; j++) {
          assert.ok(Math.abs(iv[i][j][k] - iv[j][i][k]) < 1e-12, `symmetry ${i},${j}`);
          assert.equal(all[r][i][j][k], iv[i][j][k]);
        }
      }
    }
  });
  // The classifier's probabilities add up to 1: the two outputs' values are opposite.
  const iv = te.interactionValues(x[30]);
  for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) assert.ok(Math.abs(iv[i][j][0] + iv[i][j][1]) < 1e-12);
});

test('path-dependent TreeSHAP of a regressor: a one-split forest gives the exact cover-weighted values', () => {
  // y = 1 for x0 < 0.5 (three rows), 3 otherwise (one row); x1 is noise never split on (a stump).
  const x = [[0.0, 5.0], [0.1, 6.0], [0.2, 7.0], [0.9, 8.0]];
  const rf = bs.RandomForestRegressor.fit(x, [1, 1, 1, 3], { n_trees: 1, max_depth: 1, bootstrap: false, max_features: 'all' });
  const te = new bs.TreeExplainer(rf, undefined, { featurePerturbation: 'tree_path_dependent', featureNames: ['a', 'b'] });
  close(assert, te.expectedValue, [1.5], { atol: 1e-15, what: 'E = 0.75·1 + 0.25·3' });
  const e = te.explain([0.9, 5.0]);
  assert.deepEqual(e.featureNames, ['a', 'b']);
  close(assert, e.outputValues(0), [1.5, 0], { atol: 1e-15, what: 'φ' });
  const iv = te.interactionValues([0.9, 5.0]);
  close(assert, iv.flat().map((c) => c[0]), [1.5, 0, 0, 0], { atol: 1e-15, what: 'Φ' });
});

test('TreeExplainer perturbation errors are coded ParamErrors', () => {
  const { x, y } = dataset(60, 10);
  const rf = bs.RandomForestClassifier.fit(x, y, { n_trees: 5, max_depth: 4, seed: 1 });
  const bg = x.slice(0, 10);
  const interventional = new bs.TreeExplainer(rf, bg);
  assert.equal(interventional.featurePerturbation, 'interventional');
  throwsCoded(assert, () => interventional.interactionValues(x[0]), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => new bs.TreeExplainer(rf, undefined, { featurePerturbation: 'interventional' }), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => new bs.TreeExplainer(rf, bg, { featurePerturbation: 'tree_path_dependent' }), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => new bs.TreeExplainer(rf, bg, { featurePerturbation: 'auto' }), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => new bs.TreeExplainer(rf, undefined, { weights: [1] }), 'TypeError', 'invalid_argument');
  throwsCoded(assert, () => new bs.TreeExplainer(rf).interactionValues([1, 2]), 'ExplainError', 'explain_shape_mismatch');
});
