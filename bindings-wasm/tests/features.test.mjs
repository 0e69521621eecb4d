import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bs, fixture, throwsCoded } from './helpers.mjs';

test('cycleSummary integrates one hour at 2 A into 2 Ah and SOH 0.8 against 2.5 Ah', () => {
  // Built from the core's JSON format (current already positive = discharge), as the Rust doc example.
  const t = Array.from({ length: 361 }, (_, k) => 10 * k);
  const log = bs.BatteryLog.fromJSON(JSON.stringify({
    time_s: t, start_time: null, voltage_v: t.map(() => 3.6), current_a: t.map(() => 2.0), temperatures_c: [],
    cycle_index: null, step_index: null, step_kind: null, extra: [],
    meta: { format: 'test', source_name: null, mapping: [], current_sign: '', info: {}, warnings: [] },
    quality: { rows_read: 361, rows_kept: 361, issues: [] },
  }));
  const s = bs.cycleSummary(log, { nominal_capacity_ah: 2.5 });
  assert.equal(s.cycles.length, 1);
  assert.ok(Math.abs(s.cycles[0].discharge_capacity_ah - 2.0) < 1e-12);
  assert.ok(Math.abs(s.cycles[0].discharge_energy_wh - 7.2) < 1e-9);
  assert.ok(Math.abs(s.cycles[0].soh - 0.8) < 1e-12);
  assert.equal(s.cycles[0].coulombic_efficiency, null, 'NaN travels as null');
});

test('cycleSummary of the Arbin example has two cycles with capacities', () => {
  const log = bs.readBytes(fixture('cyclers/arbin_example.csv'), 'arbin_example.csv');
  const s = log.cycleSummary();
  assert.deepEqual(s.cycles.map((c) => c.cycle), [1, 2]);
  for (const c of s.cycles) assert.ok(c.charge_capacity_ah > 0 || c.discharge_capacity_ah > 0);
  throwsCoded(assert, () => log.cycleSummary({ full_cycle_fraction: 2 }), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => bs.cycleSummary(log, { temperature_channel: 'nope' }), 'FeatureError', 'missing_channel');
});
