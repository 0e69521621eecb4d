// BattSentinel demo page: UI only. All analysis runs in worker.js (a module Web Worker), so a large file
// never freezes the page; every request ends in a result or an error shown on the page (with a watchdog).

const $ = (id) => document.getElementById(id);
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;
const TIMEOUT_MS = 120000;

function call(type, args, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(Object.assign(new Error(`no answer after ${TIMEOUT_MS / 1000} s`), { name: 'TimeoutError', code: 'timeout' }));
    }, TIMEOUT_MS);
    pending.set(id, { resolve, reject, timer });
    worker.postMessage({ id, type, ...args }, transfer);
  });
}

worker.onmessage = ({ data }) => {
  const p = pending.get(data.id);
  if (!p) return;
  pending.delete(data.id);
  clearTimeout(p.timer);
  if (data.ok) p.resolve(data.result);
  else p.reject(Object.assign(new Error(data.error.message), data.error));
};
// A worker that fails to load (missing package, bad wasm) rejects everything in flight.
worker.onerror = (ev) => {
  ev.preventDefault();
  const err = Object.assign(new Error(ev.message || 'the worker failed to start'), { name: 'WorkerError', code: 'worker_failed' });
  for (const [id, p] of pending) {
    clearTimeout(p.timer);
    p.reject(err);
    pending.delete(id);
  }
  showError(err);
};

// ---------- formatting ----------
const fmt = (x, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '—' : Number(x).toFixed(d));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(+v.toFixed(10));
  return ticks;
}

// A small SVG line chart: series = [{x, y, color, label, axis: 'left'|'right', dash}].
function lineChart(series, { xLabel = '', yLabel = '', y2Label = '', height = 260, width = 760, points = false } = {}) {
  const m = { l: 56, r: y2Label ? 56 : 16, t: 14, b: 40 };
  const W = width - m.l - m.r;
  const H = height - m.t - m.b;
  const ext = (arr) => {
    let lo = Infinity; let hi = -Infinity;
    for (const v of arr) if (v !== null && Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  };
  const xs = ext(series.flatMap((s) => s.x));
  const left = series.filter((s) => s.axis !== 'right');
  const right = series.filter((s) => s.axis === 'right');
  const pad = ([lo, hi]) => { const p = (hi - lo) * 0.06 || Math.abs(lo) * 0.05 || 1; return [lo - p, hi + p]; };
  const yl = pad(ext(left.flatMap((s) => s.y)));
  const yr = right.length ? pad(ext(right.flatMap((s) => s.y))) : null;
  const sx = (v) => m.l + ((v - xs[0]) / (xs[1] - xs[0] || 1)) * W;
  const sy = (v, r) => { const [lo, hi] = r; return m.t + H - ((v - lo) / (hi - lo || 1)) * H; };
  let g = `<svg viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg" font-size="11" fill="#8b98a5">`;
  for (const v of niceTicks(yl[0], yl[1])) {
    const y = sy(v, yl);
    if (y < m.t - 1 || y > m.t + H + 1) continue;
    g += `<line x1="${m.l}" x2="${m.l + W}" y1="${y}" y2="${y}" stroke="#223040"/><text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${+v.toPrecision(6)}</text>`;
  }
  if (yr) for (const v of niceTicks(yr[0], yr[1])) {
    const y = sy(v, yr);
    if (y < m.t - 1 || y > m.t + H + 1) continue;
    g += `<text x="${m.l + W + 6}" y="${y + 4}">${+v.toPrecision(6)}</text>`;
  }
  for (const v of niceTicks(xs[0], xs[1], 8)) {
    const x = sx(v);
    if (x < m.l - 1 || x > m.l + W + 1) continue;
    g += `<line x1="${x}" x2="${x}" y1="${m.t + H}" y2="${m.t + H + 4}" stroke="#566474"/><text x="${x}" y="${m.t + H + 16}" text-anchor="middle">${+v.toPrecision(6)}</text>`;
  }
  g += `<rect x="${m.l}" y="${m.t}" width="${W}" height="${H}" fill="none" stroke="#2a3440"/>`;
  for (const s of series) {
    const r = s.axis === 'right' ? yr : yl;
    let d = '';
    let pen = false;
    for (let k = 0; k < s.x.length; k++) {
      const v = s.y[k];
      if (v === null || !Number.isFinite(v)) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${sx(s.x[k]).toFixed(1)},${sy(v, r).toFixed(1)}`;
      pen = true;
    }
    g += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width || 1.6}" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"/>`;
    if (points) for (let k = 0; k < s.x.length; k++) if (Number.isFinite(s.y[k])) g += `<circle cx="${sx(s.x[k])}" cy="${sy(s.y[k], r)}" r="3.5" fill="${s.color}"/>`;
  }
  g += `<text x="${m.l + W / 2}" y="${height - 6}" text-anchor="middle">${esc(xLabel)}</text>`;
  g += `<text transform="translate(14 ${m.t + H / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`;
  if (y2Label) g += `<text transform="translate(${width - 10} ${m.t + H / 2}) rotate(90)" text-anchor="middle">${esc(y2Label)}</text>`;
  let lx = m.l + 10;
  for (const s of series) {
    if (!s.label) continue;
    g += `<line x1="${lx}" x2="${lx + 18}" y1="${m.t + 12}" y2="${m.t + 12}" stroke="${s.color}" stroke-width="2.5" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/><text x="${lx + 23}" y="${m.t + 16}" fill="#c9d4de">${esc(s.label)}</text>`;
    lx += 34 + s.label.length * 6.2;
  }
  return `${g}</svg>`;
}

// ---------- rendering ----------
function showError(e) {
  const box = $('error');
  box.hidden = false;
  box.innerHTML = `<strong>${esc(e.name || 'Error')}</strong> <code>${esc(e.code || 'unknown')}</code><div>${esc(e.message || e)}</div>`;
  setStatus('Failed — see the message below.', false);
}

function setStatus(text, busy) {
  $('status').textContent = text;
  $('drop').classList.toggle('busy', !!busy);
}

function card(k, v, s = '') {
  return `<div class="card"><div class="k">${esc(k)}</div><div class="v">${v}</div><div class="s">${s}</div></div>`;
}

function render(r) {
  $('version').textContent = r.version;
  const cycles = r.summary.cycles;
  // "Full" cycles: a discharge of at least half the largest one (drops a truncated last cycle).
  const qMax = Math.max(0, ...cycles.map((c) => c.discharge_capacity_ah || 0));
  const full = cycles.filter((c) => c.discharge_capacity_ah !== null && c.discharge_capacity_ah >= 0.5 * qMax && qMax > 0);
  const last = full[full.length - 1];
  const raised = r.alerts.filter((a) => a.kind === 'raised');
  const totalMs = Object.values(r.timings).reduce((a, b) => a + b, 0);
  $('cards').innerHTML = [
    card('File', esc(r.fileName), `${esc(r.meta.format)} · ${r.rows.toLocaleString()} rows`),
    card('Cycles', cycles.length, `${full.length} full discharges`),
    card('Last discharge', last ? `${fmt(last.discharge_capacity_ah, 3)} Ah` : '—', last && last.soh !== null ? `SOH ${fmt(100 * last.soh, 1)} %` : ''),
    card('Alerts', raised.length, `${r.chemistry.toUpperCase()} default rules`),
    card('Analysis time', `${fmt(totalMs, 0)} ms`, `read ${fmt(r.timings.readMs, 0)} ms · features ${fmt(r.timings.summaryMs, 0)} ms`),
  ].join('');

  const t = r.series.t.map((x) => x / 3600);
  const vs = [];
  if (r.series.v) vs.push({ x: t, y: r.series.v, color: '#3fb68b', label: 'voltage (V)' });
  if (r.series.i) vs.push({ x: t, y: r.series.i, color: '#539bf5', label: 'current (A, + discharge)', axis: 'right', width: 1 });
  $('plot-voltage').innerHTML = vs.length
    ? lineChart(vs, { xLabel: 'time (h)', yLabel: 'voltage (V)', y2Label: r.series.i ? 'current (A)' : '', width: 1200, height: 300 })
    : '<p class="muted">No voltage in this file.</p>';

  const cyc = full.map((c) => c.cycle);
  $('plot-fade').innerHTML = full.length
    ? lineChart([
      { x: cyc, y: full.map((c) => c.discharge_capacity_ah), color: '#e5a50a', label: 'discharge (Ah)' },
      { x: cyc, y: full.map((c) => c.charge_capacity_ah), color: '#539bf5', label: 'charge (Ah)', dash: '5 4' },
    ], { xLabel: 'cycle', yLabel: 'capacity (Ah)', points: true, width: 560 })
    : '<p class="muted">No cycle has a discharge capacity.</p>';

  const tw = r.twin;
  if (tw && tw.measured) {
    $('plot-twin').innerHTML = lineChart([
      { x: tw.measured.t.map((x) => x / 60), y: tw.measured.v, color: '#3fb68b', label: 'measured' },
      { x: tw.twin.t.map((x) => x / 60), y: tw.twin.v, color: '#e5534b', label: 'twin', dash: '6 4' },
    ], { xLabel: 'time since discharge start (min)', yLabel: 'voltage (V)', width: 560 });
    $('twin-note').textContent = `Thevenin 1-RC twin driven by the measured current of the longest discharge: ${fmt(tw.capacityAh, 3)} Ah, R0 ${fmt(1000 * tw.r0Ohm, 1)} mΩ, OCV from the measured curve. RMSE ${fmt(1000 * tw.rmseV, 1)} mV (${tw.endReason}).`;
  } else {
    $('plot-twin').innerHTML = `<p class="muted">${esc(tw && (tw.skipped || (tw.error && tw.error.message)) || 'No twin run.')}</p>`;
    $('twin-note').textContent = '';
  }

  $('alerts').innerHTML = raised.length
    ? raised.slice(0, 12).map((a) => `<div class="alert"><span class="sev ${esc(a.severity)}">${esc(a.severity)}</span><span><strong>${esc(a.rule_id.replaceAll('_', ' '))}</strong> at ${fmt(a.t_s / 3600, 2)} h <span class="muted">${a.values.map((v) => `${esc(v.name)} = ${fmt(v.value, 3)}`).join(', ')}</span></span></div>`).join('')
      + (raised.length > 12 ? `<p class="muted">… and ${raised.length - 12} more</p>` : '')
    : '<p class="ok">No alert raised by the default rules.</p>';

  const q = r.quality;
  $('quality').innerHTML = `<p>${q.rows_kept.toLocaleString()} of ${q.rows_read.toLocaleString()} rows kept.</p>`
    + (q.issues.length
      ? `<table><tr><th>issue</th><th>column</th><th>rows</th><th>action</th></tr>${q.issues.map((i) => `<tr><td>${esc(i.code)}</td><td>${esc(i.column || '')}</td><td>${i.count}</td><td>${esc(i.action)}</td></tr>`).join('')}</table>`
      : '<p class="ok">No quality issue.</p>')
    + (r.meta.warnings.length ? `<p class="muted">${r.meta.warnings.map(esc).join('<br>')}</p>` : '');

  const cols = [['cycle', 'cycle', 0], ['discharge_capacity_ah', 'Q dis (Ah)', 4], ['charge_capacity_ah', 'Q chg (Ah)', 4],
    ['coulombic_efficiency', 'CE', 4], ['energy_efficiency', 'EE', 4], ['voltage_min_v', 'V min', 3], ['voltage_max_v', 'V max', 3],
    ['temperature_max_c', 'T max (°C)', 1], ['dcir_ohm', 'DCIR (mΩ)', 1], ['soh', 'SOH', 3], ['duration_s', 'duration (h)', 2]];
  const cell = (c, k, d) => (k === 'dcir_ohm' ? fmt(c[k] === null ? null : 1000 * c[k], d) : k === 'duration_s' ? fmt(c[k] === null ? null : c[k] / 3600, d) : fmt(c[k], d));
  $('cycles').innerHTML = `<tr>${cols.map(([, h]) => `<th>${h}</th>`).join('')}</tr>`
    + cycles.map((c) => `<tr>${cols.map(([k, , d]) => `<td>${cell(c, k, d)}</td>`).join('')}</tr>`).join('');

  if (r.faults) renderFaults(r.faults);
  $('results').hidden = false;
}

function renderFaults(f) {
  $('faults-panel').hidden = false;
  const rows = f.probabilities.map(({ name, probability }) => `<div class="fault-row"><span>${esc(name.replaceAll('_', ' '))}</span><div class="bar"><span style="width:${(100 * probability).toFixed(1)}%"></span></div><span>${fmt(100 * probability, 0)} %</span></div>`).join('');
  $('faults').innerHTML = `<div class="faults"><div>${rows}<p class="note">${esc(f.note || '')}</p></div><div class="waterfall">${f.waterfallSvg || ''}</div></div>`;
}

// ---------- input ----------
async function handleFile(file) {
  $('error').hidden = true;
  setStatus(`Analysing ${file.name} (${(file.size / 1024).toFixed(0)} KiB)…`, true);
  try {
    const bytes = await file.arrayBuffer();
    const t0 = performance.now();
    const result = await call('analyze', { bytes, fileName: file.name }, [bytes]);
    render(result);
    document.body.dataset.analysisMs = String(result.timings.readMs + result.timings.summaryMs);
    document.body.dataset.state = 'done';
    setStatus(`${file.name}: done in ${fmt(performance.now() - t0, 0)} ms.`, false);
  } catch (e) {
    $('results').hidden = true;
    document.body.dataset.state = 'error';
    showError(e);
  }
}

$('pick').addEventListener('click', () => $('file').click());
$('file').addEventListener('change', () => { if ($('file').files[0]) handleFile($('file').files[0]); });
const drop = $('drop');
for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.remove('over'); });
drop.addEventListener('drop', (e) => { const f = e.dataTransfer.files[0]; if (f) handleFile(f); });
