// BattSentinel demo worker: every call into WebAssembly happens here, so the page never freezes.
// Protocol: the page posts {id, type, ...args}; the worker answers {id, ok: true, result} or
// {id, ok: false, error: {name, code, message}}. Errors are always answered, never swallowed.
import init, * as bs from '../pkg/web/battsentinel_wasm.js';

const ready = init();

function errorInfo(e) {
  return {
    name: (e && e.name) || 'Error',
    code: (e && e.code) || 'unknown',
    message: String((e && e.message) || e),
  };
}

// Min/max decimation per bucket keeps spikes visible with at most ~2·buckets points.
function decimate(t, ys, buckets) {
  const n = t.length;
  if (n <= 2 * buckets) {
    return { t: Array.from(t), ys: ys.map((y) => (y ? Array.from(y) : null)) };
  }
  const idx = [];
  const ref = ys.find((y) => y) || t;
  const step = n / buckets;
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor(b * step);
    const hi = Math.min(n, Math.floor((b + 1) * step));
    let iMin = lo;
    let iMax = lo;
    for (let k = lo; k < hi; k++) {
      if (ref[k] < ref[iMin]) iMin = k;
      if (ref[k] > ref[iMax]) iMax = k;
    }
    if (iMin < iMax) idx.push(iMin, iMax);
    else if (iMin > iMax) idx.push(iMax, iMin);
    else idx.push(iMin);
  }
  return { t: idx.map((k) => t[k]), ys: ys.map((y) => (y ? idx.map((k) => y[k]) : null)) };
}

// The longest discharge of the log: rows where the current stays above 20 % of its maximum.
function longestDischarge(t, i) {
  let iMax = 0;
  for (const x of i) if (x > iMax) iMax = x;
  if (!(iMax > 0)) return null;
  let best = null;
  let start = -1;
  for (let k = 0; k <= i.length; k++) {
    const on = k < i.length && i[k] > 0.2 * iMax;
    if (on && start < 0) start = k;
    if (!on && start >= 0) {
      if (!best || t[k - 1] - t[start] > t[best[1]] - t[best[0]]) best = [start, k - 1];
      start = -1;
    }
  }
  return best;
}

// Twin: the Thevenin cell of ECM_Example with constant R0/R1/C1 scaled to the measured capacity (same
// time constant), an OCV table read from the measured discharge curve (V + I·R0 against the discharged
// fraction), driven by the measured current of the longest discharge and the rest after it.
function runTwin(log) {
  const t = log.timeS;
  const i = log.currentA;
  const v = log.voltageV;
  if (!i || !v) return { skipped: 'the file has no current or voltage' };
  const seg = longestDischarge(t, i);
  if (!seg || seg[1] - seg[0] < 10) return { skipped: 'no discharge long enough to drive the twin' };
  let [a, b] = seg;
  const tEndRest = t[b] + 1800;
  while (b + 1 < t.length && t[b + 1] <= tEndRest && Math.abs(i[b + 1]) < 0.02 * Math.abs(i[seg[1]] || 1)) b++;
  let q = 0;
  const qAt = [0];
  for (let k = a + 1; k <= seg[1]; k++) {
    q += (0.5 * (i[k] + i[k - 1]) * (t[k] - t[k - 1])) / 3600;
    qAt.push(q);
  }
  if (!(q > 0)) return { skipped: 'the discharge carries no charge' };
  const r0 = 0.04 / q;
  const r1 = 0.06 / q;
  const params = bs.ecmExampleConstParams(r0, r1, 30 / r1); // τ = R1·C1 = 30 s
  // 1 % headroom so that the run does not end on SoC = 0 at the last measured sample.
  const qc = 1.01 * q;
  params.capacity_ah = qc;
  const socs = [];
  const ocv = [];
  const grid = 40;
  for (let g = 0; g <= grid; g++) {
    const soc = g / grid;
    const target = (1 - soc) * qc;
    let k = qAt.findIndex((x) => x >= target);
    if (k < 0) k = qAt.length - 1;
    socs.push(soc);
    ocv.push(v[a + k] + i[a + k] * (r0 + r1)); // steady state of the RC pair during the CC discharge
  }
  // The table must rise with SoC and reach a little beyond [0, 1].
  for (let g = 1; g < ocv.length; g++) ocv[g] = Math.max(ocv[g], ocv[g - 1] + 1e-4);
  params.ocv = { soc: [-0.05, ...socs, 1.05], ocv_v: [ocv[0] - 0.05, ...ocv, ocv[ocv.length - 1] + 0.01] };
  params.v_min_v = Math.min(...ocv) - 1.0;
  params.v_max_v = Math.max(...ocv) + 1.0;
  const profileT = [];
  const profileI = [];
  for (let k = a; k <= b; k++) {
    profileT.push(t[k] - t[a]);
    profileI.push(i[k]);
  }
  const protocol = {
    dt_s: 1,
    initial: { soc: 1.0 },
    steps: [{ kind: 'drive_cycle', profile: { time_s: profileT, current_a: profileI } }],
  };
  const trace = bs.simulate(params, protocol);
  const tt = trace.timeS;
  const tv = trace.voltageV;
  // RMSE of the twin against the measured voltage, at the measured times.
  let se = 0;
  let n = 0;
  let j = 0;
  for (let k = a; k <= b; k++) {
    const tk = t[k] - t[a];
    while (j + 1 < tt.length && tt[j + 1] <= tk) j++;
    if (j + 1 < tt.length) {
      const w = (tk - tt[j]) / (tt[j + 1] - tt[j]);
      const vt = tv[j] + w * (tv[j + 1] - tv[j]);
      se += (vt - v[k]) ** 2;
      n++;
    }
  }
  const measured = decimate(profileT, [v.subarray(a, b + 1)], 600);
  const twin = decimate(tt, [tv], 600);
  const result = {
    capacityAh: q,
    r0Ohm: r0,
    rmseV: Math.sqrt(se / Math.max(n, 1)),
    endReason: trace.endReason,
    measured: { t: measured.t, v: measured.ys[0] },
    twin: { t: twin.t, v: twin.ys[0] },
  };
  trace.free();
  return result;
}

function chemistryOf(v) {
  if (!v) return 'nmc';
  let max = -Infinity;
  for (const x of v) if (x > max) max = x;
  return max < 3.8 ? 'lfp' : 'nmc';
}

// The default fault detector, trained once per worker on the twin's fault generator (a few seconds).
let detector = null;

// Fault probabilities (mean over the windows, one bar per class) and a TreeSHAP waterfall of the window
// classifier for the verdict class, on the window where that class is most probable (as the server's
// /api/ai/explain). Missing features are filled with their column mean over the log's windows, which are
// also the explainer's background.
function detectFaults(log) {
  detector = detector || bs.FaultDetector.default();
  const r = detector.analyze(log);
  const verdict = r.summary.verdict;
  const probabilities = Object.entries(r.summary.mean_probabilities)
    .map(([name, probability]) => ({ name, probability }))
    .sort((a, b) => b.probability - a.probability);
  const out = {
    verdict,
    probabilities,
    windows: r.windows.length,
    anomalous: r.summary.anomalous_windows,
    note: `Mean probability over the windows. Verdict: ${verdict} · ${r.windows.length} windows, ${r.summary.anomalous_windows} anomalous (max score ${r.summary.max_anomaly_score.toFixed(3)}).`,
  };
  if (r.windows.length < 2) {
    out.note += ' The SHAP explanation needs at least 2 windows as background.';
    return out;
  }
  const classes = detector.classes;
  const by = (f) => r.windows.reduce((best, w, k) => (f(w) > f(r.windows[best]) ? k : best), 0);
  let output = classes.indexOf(verdict);
  let win;
  if (output >= 0) {
    win = by((w) => w.probabilities[verdict]);
  } else {
    win = by((w) => w.confidence);
    output = Math.max(0, classes.indexOf(r.windows[win].label));
  }
  const p = r.feature_names.length;
  const x = r.windows.map((w) => w.features.slice());
  for (let j = 0; j < p; j++) {
    const vals = x.map((row) => row[j]).filter((v) => v !== null && Number.isFinite(v));
    const mean = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : 0;
    for (const row of x) if (row[j] === null || !Number.isFinite(row[j])) row[j] = mean;
  }
  const rf = detector.classifier;
  const explainer = new bs.TreeExplainer(rf, x, { featureNames: r.feature_names });
  const e = explainer.explain(x[win]);
  out.explained = { class: classes[output], window: win, cycle: r.windows[win].cycle };
  out.waterfallSvg = e.toSvg('waterfall', output, 12);
  out.note += ` SHAP (TreeExplainer) of the class ${classes[output]} on window ${win + 1}.`;
  e.free();
  explainer.free();
  rf.free();
  return out;
}

function analyze({ bytes, fileName }) {
  const timings = {};
  let t0 = performance.now();
  const log = bs.readBytes(new Uint8Array(bytes), fileName);
  timings.readMs = performance.now() - t0;
  try {
    t0 = performance.now();
    const summary = log.cycleSummary();
    timings.summaryMs = performance.now() - t0;
    const t = log.timeS;
    const v = log.voltageV;
    const i = log.currentA;
    const temp = log.temperatureC;
    const chemistry = chemistryOf(v);
    t0 = performance.now();
    const alerts = bs.evaluateAlerts(log, chemistry);
    timings.alertsMs = performance.now() - t0;
    t0 = performance.now();
    let twin;
    try {
      twin = runTwin(log);
    } catch (e) {
      twin = { error: errorInfo(e) };
    }
    timings.twinMs = performance.now() - t0;
    t0 = performance.now();
    let faults;
    try {
      faults = detectFaults(log);
    } catch (e) {
      faults = { probabilities: [], note: `Fault detection failed: ${errorInfo(e).message}` };
    }
    timings.faultsMs = performance.now() - t0;
    const series = decimate(t, [v, i, temp], 1500);
    return {
      fileName,
      rows: log.length,
      meta: log.meta,
      quality: log.quality,
      chemistry,
      summary,
      series: { t: series.t, v: series.ys[0], i: series.ys[1], temp: series.ys[2] },
      alerts,
      twin,
      faults,
      timings,
      version: bs.version(),
    };
  } finally {
    log.free();
  }
}

const handlers = { analyze };

self.onmessage = async ({ data }) => {
  const { id, type } = data;
  try {
    await ready;
    const handler = handlers[type];
    if (!handler) throw new TypeError(`unknown request ${type}`);
    self.postMessage({ id, ok: true, result: handler(data) });
  } catch (e) {
    self.postMessage({ id, ok: false, error: errorInfo(e) });
  }
};
