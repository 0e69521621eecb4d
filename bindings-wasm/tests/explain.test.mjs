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
  throwsCoded(assert, () => new bs.TreeExplainer((r) => r, bg), 'TypeError', 'invalid_argument');
});
