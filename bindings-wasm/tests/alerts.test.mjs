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
