// End-to-end: serves bindings-wasm/ (demo + built package) on 127.0.0.1, drives Debian's Chromium through
// playwright-core (no browser download), uploads shared fixtures and checks what the page shows.
// Run: node --test tests/browser.e2e.mjs  (CHROMIUM=/path overrides /usr/bin/chromium; screenshots go to
// $BATTSENTINEL_SCREENSHOTS or target/wasm-e2e/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { pkgDir, repoRoot, sharedData } from './helpers.mjs';
import { arbinCsv } from './synth.mjs';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };
const shots = process.env.BATTSENTINEL_SCREENSHOTS || join(repoRoot, 'target/wasm-e2e');
let server;
let base;
let context;
let page;
let profile;
let work;

before(async () => {
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = readFileSync(join(pkgDir, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  profile = mkdtempSync(join(tmpdir(), 'bs-chromium-'));
  work = mkdtempSync(join(tmpdir(), 'bs-e2e-'));
  mkdirSync(shots, { recursive: true });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 900 },
  });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${base}/demo/index.html`);
});

after(async () => {
  await context?.close();
  server?.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

async function upload(path) {
  await page.evaluate(() => { delete document.body.dataset.state; });
  await page.setInputFiles('#file', path);
  await page.waitForFunction(() => document.body.dataset.state, null, { timeout: 120000 });
  return page.evaluate(() => document.body.dataset.state);
}

test('the demo analyses the Arbin example: cycles, plots, twin and alerts', async () => {
  const state = await upload(join(sharedData(), 'cyclers/arbin_example.csv'));
  assert.equal(state, 'done', await page.textContent('#error'));
  assert.equal(await page.isHidden('#error'), true);
  const cards = await page.textContent('#cards');
  assert.match(cards, /arbin_example\.csv/);
  assert.match(cards, /2,142 rows/);
  assert.equal(await page.locator('#cycles tr').count(), 3, 'header + 2 cycles');
  assert.equal(await page.locator('#plot-voltage svg path').count() >= 2, true);
  assert.equal(await page.locator('#plot-fade svg circle').count() >= 2, true);
  assert.match(await page.textContent('#twin-note'), /RMSE \d+(\.\d)? mV/);
  assert.match(await page.textContent('#quality'), /2,142 of 2,142 rows kept/);
  // Fault probabilities of the default detector (one bar per class, summing to 100 %) and the SHAP
  // waterfall of the verdict class.
  assert.equal(await page.isHidden('#faults-panel'), false);
  const bars = page.locator('#faults .fault-row');
  assert.equal(await bars.count(), 10, 'one bar per fault class');
  const pct = (await page.locator('#faults .fault-row > span:last-child').allTextContents()).map((s) => Number.parseFloat(s));
  assert.ok(Math.abs(pct.reduce((a, b) => a + b, 0) - 100) <= 5, `percentages ${pct}`);
  assert.match(await page.textContent('#faults .note'), /Verdict: \w+ · 2 windows/);
  assert.match(await page.textContent('#faults .note'), /SHAP \(TreeExplainer\)/);
  assert.ok(await page.locator('#faults .waterfall svg polygon').count() >= 1, 'waterfall bars');
  await page.screenshot({ path: join(shots, 'demo-arbin.png'), fullPage: true });
});

test('a corrupt file shows a coded error on the page instead of hanging', async () => {
  const bad = join(work, 'corrupt.csv');
  writeFileSync(bad, Buffer.from([0, 159, 146, 150, 1, 2, 3, 255, 254, 10, 0, 7]));
  const state = await upload(bad);
  assert.equal(state, 'error');
  const text = await page.textContent('#error');
  assert.match(text, /ParseError/);
  assert.match(text, /not_a_time_series/);
  await page.screenshot({ path: join(shots, 'demo-error.png') });
});

test('a 100,000-row cycler file is read and analysed in under 1 s', async () => {
  const big = join(work, 'arbin_100k.csv');
  writeFileSync(big, arbinCsv(100000));
  const state = await upload(big);
  assert.equal(state, 'done', await page.textContent('#error'));
  assert.match(await page.textContent('#cards'), /100,000 rows/);
  const ms = await page.evaluate(() => Number(document.body.dataset.analysisMs));
  console.log(`browser: read + cycle summary of 100,000 rows in ${ms.toFixed(0)} ms`);
  assert.ok(ms < 1000, `read + analyse took ${ms} ms`);
  assert.ok(await page.locator('#cycles tr').count() > 10);
  await page.screenshot({ path: join(shots, 'demo-100k.png'), fullPage: true });
});
