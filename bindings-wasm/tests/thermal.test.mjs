import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bs, fixture, throwsCoded } from './helpers.mjs';

test('a radiometric FLIR JPEG decodes to the documented temperatures', () => {
  const img = bs.readThermalBytes(fixture('thermal/flir_rjpeg_E60_floor_heating_CC0.jpg'));
  assert.equal(img.width, 320);
  assert.equal(img.height, 240);
  const t = img.temperaturesC;
  assert.ok(Math.abs(t[119 * 320 + 160] - 21.1) < 0.1, `spot ${t[119 * 320 + 160]}`);
  const report = bs.analyzeThermal(img);
  assert.ok(Math.abs(report.stats.min_c - 16.72) < 0.05 && Math.abs(report.stats.max_c - 34.47) < 0.05);
  const png = bs.renderThermalPng(img, report);
  assert.deepEqual(Array.from(png.slice(0, 4)), [0x89, 0x50, 0x4e, 0x47]);
});

test('analyzeThermal finds the hot cell of a synthetic pack', () => {
  const t = Array.from({ length: 800 }, (_, i) => (Math.floor(i / 40) < 10 && i % 40 >= 20 && i % 40 < 30 ? 33 : 25));
  const img = bs.ThermalImage.fromCelsius(40, 20, t);
  const r = bs.analyzeThermal(img, { cells: { grid: { rows: 2, cols: 4 } } });
  assert.equal(r.hotspots.length, 1);
  assert.equal(r.max_delta_t_c, 8);
  assert.deepEqual(r.cells.outliers, [2]);
  assert.equal(r.risk.level, 'warning');
  throwsCoded(assert, () => bs.readThermalBytes(new Uint8Array([1, 2, 3])), 'ThermalError', 'thermal_unsupported');
  throwsCoded(assert, () => bs.ThermalImage.fromCelsius(3, 3, [1, 2]), 'ThermalError', 'thermal_bad_dimensions');
});
