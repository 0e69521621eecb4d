import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bs, throwsCoded } from './helpers.mjs';

const RULES = `
[[rule]]
id = "under_voltage"
severity = "critical"
when = { below = { signal = "voltage_v", threshold = 2.5 } }
`;

test('evaluateAlerts and the streaming engine raise and clear the same alert', () => {
  const csv = 'time_s,voltage_v\n0,3.0\n1,2.6\n2,2.4\n3,3.2\n';
  const log = bs.readBytes(new TextEncoder().encode(csv), 'trace.csv');
  const events = bs.evaluateAlerts(log, RULES);
  assert.deepEqual(events.map((e) => [e.kind, e.t_s]), [['raised', 2], ['cleared', 3]]);
  assert.equal(events[0].rule_id, 'under_voltage');
  assert.equal(events[0].severity, 'critical');
  const engine = new bs.AlertEngine(['voltage_v'], RULES);
  const streamed = [[0, 3.0], [1, 2.6], [2, 2.4], [3, 3.2]].flatMap(([t, v]) => engine.push(t, [v]));
  assert.deepEqual(streamed.map((e) => [e.kind, e.t_s]), [['raised', 2], ['cleared', 3]]);
  assert.equal(engine.stats().samples, 4);
});

test('default rules load for both chemistries; bad rules name the problem', () => {
  assert.equal(bs.defaultRules('lfp').params.v_over_v, 3.7);
  assert.ok(bs.defaultRules().rule.some((r) => r.id === 'thermocouple_disconnected'));
  const e = throwsCoded(assert, () => new bs.AlertEngine(['voltage_v'], '[[rule]]\nid = "x"\nwhen = { below = { signal = "v" } }\n'), 'RuleError', 'rule_field');
  assert.match(e.message, /x/);
  throwsCoded(assert, () => bs.defaultRules('lead_acid'), 'TypeError', 'invalid_argument');
});

// A running engine saved mid-stream (snapshot → JSON text → fromSnapshot) resumes with exactly the events of
// the uninterrupted run.
const HOT = `
[[rule]]
id = "hot"
severity = "warning"
for_s = 3
clear_for_s = 2
cooldown_s = 5
when = { above = { signal = "temperature_c:*", across = "max", threshold = 45, clear = 40 } }
escalate = [ { after_s = 4, to = "critical" } ]

[[rule]]
id = "rising"
severity = "info"
when = { above = { signal = "temperature_c:TC1", window = { agg = "rate", seconds = 10 }, threshold = 0.5 } }
`;

function hotSamples() {
  // Deterministic: sine swings across the thresholds, a missing channel now and then, two long gaps.
  const out = [];
  let t = 0;
  for (let k = 0; k < 400; k++) {
    t += k % 97 ? 1 : 400;
    const base = 38 + 10 * Math.sin(k / 15) + 0.3 * Math.sin(k * 1.7);
    out.push([t, [base, k % 31 ? base - 1 + 0.2 * Math.cos(k) : NaN]]);
  }
  return out;
}

const runAll = (engine, samples) => samples.flatMap(([t, v]) => engine.push(t, v));

test('snapshot and fromSnapshot resume a stream with identical events', () => {
  const signals = ['temperature_c:TC1', 'temperature_c:TC2'];
  const samples = hotSamples();
  for (const rules of [HOT, undefined]) {
    const want = runAll(new bs.AlertEngine(signals, rules, { battery_id: 'b1' }), samples);
    if (rules === HOT) {
      assert.deepEqual(new Set(want.map((e) => e.kind)), new Set(['raised', 'escalated', 'cleared']));
    }
    for (const cut of [1, 50, 133, 250, 399]) {
      const engine = new bs.AlertEngine(signals, rules, { battery_id: 'b1' });
      const head = runAll(engine, samples.slice(0, cut));
      const snap = engine.snapshot();
      assert.equal(snap.version, 1);
      assert.deepEqual(snap.signals, signals);
      for (const saved of [JSON.stringify(snap), snap]) {
        const resumed = bs.AlertEngine.fromSnapshot(saved);
        assert.deepEqual(resumed.stats(), engine.stats());
        assert.deepEqual(resumed.activeKeys(), engine.activeKeys());
        assert.deepEqual(head.concat(runAll(resumed, samples.slice(cut))), want, `cut at ${cut}`);
      }
    }
  }
});

test('a tampered snapshot throws a coded RuleError', () => {
  const engine = new bs.AlertEngine(['temperature_c:TC1'], HOT);
  runAll(engine, Array.from({ length: 10 }, (_, k) => [k, [50]]));
  const snap = engine.snapshot();
  const fewer = { ...snap, state: { ...snap.state, rules: snap.state.rules.slice(0, 1) } };
  const e = throwsCoded(assert, () => bs.AlertEngine.fromSnapshot(fewer), 'RuleError', 'invalid_snapshot');
  assert.match(e.message, /state\.rules/);
  const keys = snap.state.keys.map((k, i) => (i === 0 ? { ...k, active: k.active + 1 } : k));
  throwsCoded(assert, () => bs.AlertEngine.fromSnapshot({ ...snap, state: { ...snap.state, keys } }), 'RuleError', 'invalid_snapshot');
  throwsCoded(assert, () => bs.AlertEngine.fromSnapshot('{not json'), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => bs.AlertEngine.fromSnapshot(42), 'TypeError', 'invalid_argument');
});
