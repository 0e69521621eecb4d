import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bs, dataset, throwsCoded } from './helpers.mjs';

test('a random forest fits, predicts and round-trips through the shared model format', () => {
  const { x, y } = dataset(120, 10);
  const rf = bs.RandomForestClassifier.fit(x, y, { n_trees: 20, max_depth: 6, seed: 7 });
  assert.deepEqual(Array.from(rf.classes), [0, 1]);
  assert.equal(rf.nFeatures, 10);
  const proba = rf.predictProba(x.slice(0, 5));
  assert.equal(proba.length, 5);
  for (const row of proba) {
    assert.ok(row instanceof Float64Array);
    assert.ok(Math.abs(row[0] + row[1] - 1) < 1e-12);
  }
  const labels = rf.predict(x);
  const acc = labels.reduce((a, l, k) => a + (l === y[k] ? 1 : 0), 0) / y.length;
  assert.ok(acc > 0.9, `training accuracy ${acc}`);
  const json = rf.toJSON();
  assert.equal(JSON.parse(json).format, 'battsentinel-model');
  const back = bs.RandomForestClassifier.load(json);
  const rows = (m) => m.map((r) => Array.from(r));
  assert.deepEqual(rows(back.predictProba(x.slice(0, 5))), rows(proba));
  // Flat row-major input gives the same numbers.
  const flat = { data: new Float64Array(x.slice(0, 5).flat()), nRows: 5, nCols: 10 };
  assert.deepEqual(rows(rf.predictProba(flat)), rows(proba));
});

test('regressors, isolation forest and MLP fit and predict', () => {
  const { x } = dataset(80, 4);
  const target = x.map((r) => 2 * r[0] - r[1]);
  const reg = bs.RandomForestRegressor.fit(x, target, { n_trees: 30, seed: 1 });
  const pred = reg.predict(x);
  const mse = pred.reduce((a, p, k) => a + (p - target[k]) ** 2, 0) / pred.length;
  assert.ok(mse < 0.01, `mse ${mse}`);
  const iso = bs.IsolationForest.fit(x, { n_trees: 50, seed: 3 });
  const scores = iso.scoreSamples([[0.5, 0.5, 0.5, 0.5], [50, -50, 50, -50]]);
  assert.ok(scores[1] < scores[0], 'the far point is more abnormal');
  assert.deepEqual(Array.from(iso.predict([[50, -50, 50, -50]])), [-1]);
  const mlp = bs.MlpRegressor.fit(x, target, { seed: 0 });
  assert.equal(mlp.predict(x).length, x.length);
});

test('model errors are coded', () => {
  const { x, y } = dataset(20, 8);
  throwsCoded(assert, () => bs.RandomForestClassifier.fit(x, y.slice(1)), 'ModelError', 'target_length');
  throwsCoded(assert, () => bs.RandomForestClassifier.fit(x, y, { n_trees: 0 }), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => bs.RandomForestClassifier.fit(x, y, { trees: 3 }), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => bs.RandomForestClassifier.fit([[1, 2], [3]], [0, 1]), 'TypeError', 'invalid_argument');
  throwsCoded(assert, () => bs.RandomForestClassifier.fit(x, [0.5, 1]), 'TypeError', 'invalid_argument');
  const rf = bs.RandomForestClassifier.fit(x, y, { n_trees: 3 });
  throwsCoded(assert, () => rf.predict([[1, 2, 3]]), 'ModelError', 'feature_count');
  throwsCoded(assert, () => bs.RandomForestClassifier.load('{"nope": 1}'), 'ModelError', 'invalid_model_file');
  throwsCoded(assert, () => bs.RandomForestRegressor.load(rf.toJSON()), 'ModelError', 'wrong_model_kind');
});
