import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bs, throwsCoded } from './helpers.mjs';

test('Simulator.step at 100 A removes 1/3600 of SoC per second and drops below OCV', () => {
  const sim = new bs.Simulator(bs.ecmExampleParams(), { soc: 0.9 });
  const out = sim.step(100, 1);
  assert.ok(out.voltage_v < out.ocv_v);
  assert.ok(Math.abs(out.soc - (0.9 - 1 / 3600)) < 1e-12);
  const out2 = sim.step({ current_a: 100 }, 1);
  assert.ok(Math.abs(out2.soc - (0.9 - 2 / 3600)) < 1e-12);
  throwsCoded(assert, () => sim.step('fast', 1), 'TypeError', 'invalid_argument');
  throwsCoded(assert, () => sim.step(1, -1), 'SimError', 'invalid_dt');
});

test('simulate runs a 1C discharge of ECM_Example to 3.2 V like PyBaMM (3 545.7 s)', () => {
  const trace = bs.simulate(bs.ecmExampleParams(), {
    initial: { soc: 0.9999 },
    steps: [{ kind: 'cc', current_a: 100, duration_s: 7200 }],
  });
  const t = trace.timeS;
  assert.ok(Math.abs(t[t.length - 1] - 3545.7) < 0.5, `end at ${t[t.length - 1]}`);
  assert.equal(trace.endReason, 'voltage_below');
  assert.ok(Math.abs(trace.voltageV[trace.length - 1] - 3.2) < 0.01);
  const log = trace.toBatteryLog();
  assert.equal(log.length, trace.length);
  throwsCoded(assert, () => bs.simulate(bs.ecmExampleParams(), { initial: { soc: 0.5 }, steps: [{ kind: 'warp' }] }), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => bs.simulate({ capacity_ah: -1 }, { initial: { soc: 0.5 }, steps: [] }), 'ParamError', 'invalid_param');
});
