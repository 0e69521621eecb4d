import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bs, fixture, throwsCoded } from './helpers.mjs';

test('readBytes reads the Arbin example into typed columns with a quality report', () => {
  const log = bs.readBytes(fixture('cyclers/arbin_example.csv'), 'arbin_example.csv');
  assert.equal(log.length, 2142);
  assert.ok(log.timeS instanceof Float64Array);
  assert.ok(log.voltageV instanceof Float64Array);
  assert.equal(log.voltageV.length, 2142);
  const v = Array.from(log.voltageV);
  assert.equal(Math.min(...v), 1.9995637);
  assert.equal(Math.max(...v), 3.6003604);
  // The file signs charge positive (−4.40…+6.64 A): the library negates to positive = discharge.
  const i = Array.from(log.currentA);
  assert.equal(Math.min(...i), -6.6419449);
  assert.equal(Math.max(...i), 4.4005189);
  assert.match(log.meta.current_sign, /negated/);
  assert.equal(log.meta.format, 'arbin_csv');
  assert.equal(log.quality.rows_read, 2142);
  assert.equal(log.quality.rows_kept, 2142);
  const cycles = new Set(Array.from(log.cycleIndex));
  assert.deepEqual([...cycles].sort(), [1, 2]);
  const t = Array.from(log.temperatureC);
  assert.ok(Math.min(...t) >= 28.0 && Math.max(...t) <= 32.3);
  log.free();
});

test('readBytes accepts an ArrayBuffer and round-trips through JSON', () => {
  const csv = new TextEncoder().encode('timestamp,voltage,current\n2024-01-01 00:00:00,4.10,1.5\n2024-01-01 00:00:10,4.08,1.5\n');
  const log = bs.readBytes(csv.buffer);
  assert.deepEqual(Array.from(log.timeS), [0, 10]);
  assert.deepEqual(Array.from(log.voltageV), [4.10, 4.08]);
  const back = bs.BatteryLog.fromJSON(log.toJSON());
  assert.deepEqual(Array.from(back.voltageV), [4.10, 4.08]);
});

test('wrong argument types and corrupt files throw coded Errors', () => {
  throwsCoded(assert, () => bs.readBytes('not bytes'), 'TypeError', 'invalid_argument');
  throwsCoded(assert, () => bs.readBytes(undefined), 'TypeError', 'invalid_argument');
  throwsCoded(assert, () => bs.readBytes(new Uint8Array(0)), 'ParseError', 'empty');
  throwsCoded(assert, () => bs.readBytes(new Uint8Array([0, 159, 146, 150, 1, 2, 3, 255, 254, 10, 0, 7])), 'ParseError', 'not_a_time_series');
  throwsCoded(assert, () => bs.readBytes(new Uint8Array([1]), 42), 'TypeError', 'invalid_argument');
  throwsCoded(assert, () => bs.readBytes(new Uint8Array([65]), 'x.csv', { no_such_option: 1 }), 'ParamError', 'invalid_param');
  throwsCoded(assert, () => bs.BatteryLog.fromJSON('{"time_s": [0, 1], "voltage_v": [1]}'), 'ParseError', 'bad_value');
});

test('detectFormat names the format with its confidence', () => {
  const d = bs.detectFormat(new TextEncoder().encode('Data_Point,Test_Time,DateTime,Step_Time,Step_Index,Cycle_Index,Current,Voltage,Charge_Capacity\n'));
  assert.equal(d.format, 'arbin_csv');
  assert.equal(d.confidence, 1);
});
