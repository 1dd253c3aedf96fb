// The model and backtest views in headless Chromium, over assets whose metadata
// and values are shaped as the PJM model and backtest write them: the comparison
// table, MAE by hour, forecast versus actual for a chosen node and week, the
// learning curve and feature importance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { materialize } from '../../runtime/index.ts';
import { launchBrowser, newPage, pageErrors, screenshot } from './helpers/browser.ts';
import { modelDefinitions } from './helpers/model-defs.ts';
import { openInstance, startUiServer, type TestServer } from './helpers/server.ts';

let srv: TestServer<unknown>;
let browser: Browser;
let page: Page;

test.before(async () => {
  const instance = await openInstance(modelDefinitions());
  const r = await materialize(instance, { trigger: 'test' });
  if (r.status !== 'succeeded') throw new Error(`materializing the model fixtures ${r.status}: ${JSON.stringify(r.failures)}`);
  srv = await startUiServer(instance);
  browser = await launchBrowser();
  page = await newPage(browser);
});
test.after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('the backtest page: comparison table, MAE by hour, forecast versus actual by node and week', async () => {
  await page.goto(`${srv.url}/#/assets/${encodeURIComponent('demo/backtest')}`);
  await page.waitForSelector('[data-testid=backtest-table]');
  const rows = await page.$$eval('[data-testid=backtest-table] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  assert.equal(rows[0], ['XGBoost ensemble', '1.200', '1.500', '4.10', '0.450']);
  assert.equal(rows[1], ['Naive (D-7 Mon/Sat/Sun, else D-1)', '2.600', '—', '—', '1.000']);
  assert.is(rows.length, 4);
  assert.is(await page.locator('[data-testid=mae-by-hour] path.series').count(), 2);
  // The last week by default: 7 days x 24 hours, three series.
  await page.waitForSelector('[data-testid=forecast-vs-actual]');
  assert.is(await page.getAttribute('.fva-chart', 'data-points'), '168');
  assert.is(await page.locator('[data-testid=forecast-vs-actual] path.series').count(), 3);
  assert.is(await page.inputValue('select[name=week]'), '2017-01-09');
  await page.selectOption('select[name=week]', '2017-01-02');
  await page.waitForFunction(() => document.querySelector('[data-testid=forecast-vs-actual]')?.getAttribute('aria-label')?.includes('2017-01-02'));
  assert.is(await page.inputValue('select[name=node]'), '33092371');
  await screenshot(page, 'backtest');
});

/** The vertices of an SVG path's M/L commands, as [x, y]. */
const vertices = (d: string): [number, number][] => [...d.matchAll(/[ML]([-\d.]+),([-\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);

test('forecast versus actual draws the 50 % and 90 % bands from the stored quantiles, and none for a week without them', async () => {
  await page.goto(`${srv.url}/#/assets/${encodeURIComponent('demo/backtest')}`);
  await page.waitForSelector('[data-testid=forecast-vs-actual]');
  // The page keeps the week chosen before (2017-01-02); the second week has the quantiles.
  await page.selectOption('select[name=week]', '2017-01-09');
  await page.waitForSelector('[data-testid=forecast-vs-actual] path.band');
  const chart = '[data-testid=forecast-vs-actual]';
  const bands = await page.$$eval(`${chart} path.band`, (ps) =>
    ps.map((p) => ({ name: p.getAttribute('data-band'), points: p.getAttribute('data-points'), d: p.getAttribute('d') ?? '' })),
  );
  assert.equal(
    bands.map((b) => [b.name, b.points]),
    [
      ['90 % interval', '168'],
      ['50 % interval', '168'],
    ],
    'both bands over all 168 hours of the week, the wider first',
  );
  const forecast = vertices((await page.getAttribute(`${chart} path.series[data-series=forecast]`, 'd')) ?? '');
  assert.is(forecast.length, 168);
  const [b90, b50] = bands.map((b) => vertices(b.d));
  assert.is(b90!.length, 2 * 168, 'upper edge then lower edge');
  // Hour i's edges: upper at i, lower at 2n-1-i, on the forecast's x. In pixels (y is linear in
  // $/MWh) the fixture's q95 - f is 3x q75 - f and f - q05 3x f - q25: the bands hold the data.
  const n = 168;
  for (let i = 0; i < n; i++) {
    const f = forecast[i]!;
    const [up90, lo90, up50, lo50] = [b90![i]!, b90![2 * n - 1 - i]!, b50![i]!, b50![2 * n - 1 - i]!];
    for (const v of [up90, lo90, up50, lo50]) assert.ok(Math.abs(v[0] - f[0]) < 0.11, `hour ${i}: band x ${v[0]} vs forecast x ${f[0]}`);
    assert.ok(up90[1] < up50[1] && up50[1] < f[1] && f[1] < lo50[1] && lo50[1] < lo90[1], `hour ${i}: 90 % band outside 50 % band outside the forecast`);
    assert.ok(Math.abs((f[1] - up90[1]) / (f[1] - up50[1]) - 3) < 0.1, `hour ${i}: q95 - f = 3 (q75 - f) in pixels`);
    assert.ok(Math.abs((lo90[1] - f[1]) / (lo50[1] - f[1]) - 3) < 0.1, `hour ${i}: f - q05 = 3 (f - q25) in pixels`);
  }
  assert.match((await page.textContent(chart)) ?? '', /90 % interval/);
  // The first week has no quantiles (a backtest's warm-up): the lines, no band, no band legend.
  await page.selectOption('select[name=week]', '2017-01-02');
  await page.waitForFunction(() => document.querySelector('[data-testid=forecast-vs-actual]')?.getAttribute('aria-label')?.includes('2017-01-02'));
  assert.is(await page.locator(`${chart} path.series`).count(), 3);
  assert.is(await page.locator(`${chart} path.band`).count(), 0);
  assert.not.match((await page.textContent(chart)) ?? '', /interval/);
  await page.selectOption('select[name=week]', '2017-01-09');
  await page.waitForSelector(`${chart} path.band`);
  await screenshot(page, 'backtest-bands');
  assert.equal(pageErrors(page), []);
});

test('GET predictions: the intervals of each hour are [q25, q75] and [q05, q95] of its stored quantiles', async () => {
  const res = await fetch(`${srv.url}/api/assets/${encodeURIComponent('demo/backtest')}/predictions?week=2017-01-09`);
  const body = (await res.json()) as { hours: { hour: number; forecast: number; interval50?: number[]; interval90?: number[] }[] };
  assert.is(body.hours.length, 168);
  for (const h of body.hours) {
    const s = 1 + h.hour / 24;
    assert.ok(h.interval50 && h.interval90, `hour ${h.hour}`);
    assert.ok(Math.abs(h.interval50![0]! - (h.forecast - s)) < 1e-9 && Math.abs(h.interval50![1]! - (h.forecast + s)) < 1e-9, `50 % hour ${h.hour}`);
    assert.ok(Math.abs(h.interval90![0]! - (h.forecast - 3 * s)) < 1e-9 && Math.abs(h.interval90![1]! - (h.forecast + 3 * s)) < 1e-9, `90 % hour ${h.hour}`);
  }
  const early = (await (await fetch(`${srv.url}/api/assets/${encodeURIComponent('demo/backtest')}/predictions?week=2017-01-02`)).json()) as { hours: object[] };
  assert.ok(
    early.hours.every((h) => !('interval50' in h) && !('interval90' in h)),
    'no intervals without quantiles',
  );
});

test('the model page: learning curve and feature importance', async () => {
  await page.goto(`${srv.url}/#/assets/${encodeURIComponent('demo/model')}`);
  await page.waitForSelector('[data-testid=learning-curve]');
  assert.is(await page.locator('[data-testid=learning-curve] path.series').count(), 2);
  const bars = await page.$$eval('[data-testid=feature-importance] .bar text:first-child', (ts) => ts.map((t) => t.textContent));
  assert.equal(bars, ['price_lag1_h', 'load_forecast_h', 'hour', 'price_lag7_h', 'day_of_week']);
  assert.match(await page.innerText('.model'), /Trained on 2013-01-08 to 2016-12-26 \(validation from 2016-09-28\)/);
  // How the model did: its group's backtest, with the forecast-versus-actual chart of that asset.
  assert.match(await page.innerText('.backtest h2'), /from demo\/backtest/);
  await page.waitForSelector('[data-testid=forecast-vs-actual]');
  assert.is(await page.getAttribute('.fva-chart', 'data-points'), '168');
  await screenshot(page, 'model');
  assert.equal(pageErrors(page), []);
});

test('GET predictions with an impossible week: 400 naming query/week, never a 500', async () => {
  const path = `${srv.url}/api/assets/${encodeURIComponent('demo/backtest')}/predictions`;
  for (const week of ['9999-99-99', '0000-00-00', '2018-13-01', '2017-02-30']) {
    const res = await fetch(`${path}?week=${week}`);
    const body = (await res.json()) as { error: { code: string; problems: { path: string }[] } };
    assert.is(res.status, 400, `${week}: ${JSON.stringify(body)}`);
    assert.is(body.error.code, 'validation_failed');
    assert.equal(
      body.error.problems.map((p) => p.path),
      ['query/week'],
    );
  }
  assert.is((await fetch(`${path}?week=2017-01-04`)).status, 200);
});

test.run();
