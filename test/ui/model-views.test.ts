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
    assert.equal(body.error.problems.map((p) => p.path), ['query/week']);
  }
  assert.is((await fetch(`${path}?week=2017-01-04`)).status, 200);
});

test.run();
