// The UI over the real PJM pipeline: the default Definitions (assets/definitions.ts)
// materialized by the CLI on four months of the bundled epftoolbox data (the
// shortest range whose walk-forward backtest can train: 56 validation days and
// 4 weeks of training before the epftoolbox test period starts on 2016-12-27),
// then the graph, the backtest's table and forecast-versus-actual chart (checked
// against the validated prices themselves), the model's learning curve and
// feature importance, and a metadata chart of a daily asset.
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { pjmDefinitions } from '../../assets/definitions.ts';
import { duckdbConnect, type Instance } from '../../runtime/index.ts';
import { launchBrowser, newPage, pageErrors, screenshot } from './helpers/browser.ts';
import { openInstance, startUiServer, tempDataDir, type TestServer } from './helpers/server.ts';
import { sqlString } from '../../lib/duckdb/sql.ts';

const ENV = { PJM_START: '2016-09-15', PJM_END: '2017-01-15' };
const CLI = new URL('../../bin/materialize.js', import.meta.url).pathname;
const enc = encodeURIComponent;

let srv: TestServer<unknown>;
let instance: Instance<unknown>;
let browser: Browser;
let page: Page;

// Set up inside the tests (not in test.before, whose errors uvu does not print), once.
let ready: Promise<void> | undefined;
const setup = (): Promise<void> =>
  (ready ??= (async () => {
    const dataDir = tempDataDir('pjm');
    const env = { ...process.env, ...ENV, DATA_DIR: dataDir, OMP_WAIT_POLICY: 'passive' };
    try {
      execFileSync(process.execPath, [CLI], { env, stdio: 'pipe', timeout: 300_000 });
    } catch (err) {
      const out = `${(err as { stdout?: Buffer }).stdout ?? ''}${(err as { stderr?: Buffer }).stderr ?? ''}`;
      throw new Error(`materializing the PJM pipeline on ${ENV.PJM_START}..${ENV.PJM_END} failed:\n${out.split('\n').slice(-15).join('\n')}`);
    }
    instance = await openInstance(await pjmDefinitions(env, { dataDir }), dataDir);
    srv = await startUiServer(instance);
    browser = await launchBrowser();
    page = await newPage(browser);
  })());

test.after(async () => {
  await browser?.close();
  await srv?.stop();
});

const getJson = async (path: string): Promise<any> => (await fetch(srv.url + path)).json();

test('the graph shows the whole PJM pipeline materialized, fresh', async () => {
  await setup();
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('#graph-svg[data-ready="true"]');
  const statuses = await page.$$eval('#graph-svg .node', (ns) =>
    Object.fromEntries(ns.map((n) => [(n as SVGGElement).dataset.key, (n as SVGGElement).dataset.status])),
  );
  for (const key of ['pjm/raw/prices', 'pjm/validated/prices', 'pjm/features', 'pjm/model', 'pjm/backtest', 'pjm/forecast'])
    assert.is(statuses[key], 'fresh', key);
  await screenshot(page, 'pjm-graph');
});

test('the backtest page: comparison table and a forecast-versus-actual chart of the real prices', async () => {
  await setup();
  await page.goto(`${srv.url}/#/assets/${enc('pjm/backtest')}`);
  await page.waitForSelector('[data-testid=forecast-vs-actual]');
  const meta = (await getJson(`/api/assets/${enc('pjm/backtest')}`)).history[0].metadata;
  const rows = await page.$$eval('[data-testid=backtest-table] tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!)),
  );
  // The default model: the ensemble of XGBoost and LEAR.
  assert.match(rows[0]![0]!, /^Ensemble XGBoost \+ LEAR/);
  assert.is(rows[0]![1], meta.mae.toFixed(3));
  assert.match(rows[1]![0]!, /^Naive/);
  assert.equal(
    rows.slice(2).map((r) => r[0]),
    ['epftoolbox LEAR Ensemble (published)', 'epftoolbox DNN Ensemble (published)'],
  );
  assert.is(await page.locator('[data-testid=mae-by-hour] path.series').count(), 2);

  // The default week is the last one tested: 2017-01-09..15, 168 hours, actual, forecast and naive.
  assert.is(await page.inputValue('select[name=week]'), '2017-01-09');
  assert.is(await page.getAttribute('.fva-chart', 'data-points'), '168');
  const fva = await getJson(`/api/assets/${enc('pjm/backtest')}/predictions?week=2017-01-09`);
  // The "actual" series is the validated day-ahead LMP of those days (EST, so EPT hour h is UTC h+5).
  const conn = await duckdbConnect();
  const days: string[] = [...new Set<string>(fva.hours.map((h: any) => h.day))];
  const paths = await Promise.all(
    days.map(async (d) => instance.storage.localPath((await instance.store.current('pjm/validated/prices' as never, `${Number(fva.node)}|${d}`))!.location)),
  );
  const r = await conn.runAndReadAll(
    `SELECT lmp FROM read_parquet([${paths.map(sqlString).join(', ')}]) WHERE market = 'da' AND node_id = ${Number(fva.node)} ORDER BY ts_utc`,
  );
  const lmps = r.getRows().map((row) => Number(row[0]));
  assert.is(lmps.length, 168);
  for (const [i, h] of (fva.hours as any[]).entries())
    assert.ok(Math.abs(h.actual - lmps[i]!) < 1e-9, `${h.day} hour ${h.hour}: actual ${h.actual} vs validated ${lmps[i]}`);
  assert.ok(
    fva.hours.every((h: any) => Number.isFinite(h.forecast)),
    'every hour has a forecast',
  );
  await screenshot(page, 'pjm-backtest');
});

test('the model page: learning curve and feature importance from the model sidecar', async () => {
  await setup();
  await page.goto(`${srv.url}/#/assets/${enc('pjm/model')}`);
  await page.waitForSelector('[data-testid=learning-curve]');
  const sidecar = (await getJson(`/api/assets/${enc('pjm/model')}`)).history[0].metadata.sidecar;
  // One validation curve per ensemble member, and the first member's training curve.
  assert.is(await page.locator('[data-testid=learning-curve] path.series').count(), sidecar.members.length + 1);
  const bars = await page.$$eval('[data-testid=feature-importance] .bar text:first-child', (ts) => ts.map((t) => t.textContent!));
  assert.ok(bars.length > 0 && bars.length <= 20);
  for (const f of bars) assert.ok(sidecar.featureNames.includes(f), `${f} is a feature of the model`);
  assert.match(await page.innerText('.model'), new RegExp(`Trained on ${sidecar.window.firstDay} to ${sidecar.window.lastDay}`));
  assert.match(await page.innerText('.backtest h2'), /from pjm\/backtest/);
  await screenshot(page, 'pjm-model');
});

test('a daily asset charts its real metadata by partition and shows the validation reports', async () => {
  await setup();
  await page.goto(`${srv.url}/#/assets/${enc('pjm/validated/prices')}`);
  await page.waitForSelector('[data-testid=metadata-chart]');
  const history = (await getJson(`/api/assets/${enc('pjm/validated/prices')}`)).history;
  assert.is(await page.getAttribute('.metadata-chart .chart-box', 'data-points'), String(history.length));
  // One DA price per hour of each day: 24, and 25 on the fall-back day (2016-11-06) in this range.
  const hoursOf = (partition: string) => (partition.endsWith('2016-11-06') ? 25 : 24);
  for (const h of history as { partition: string; metadata: { rowCount: number } }[])
    assert.is(h.metadata.rowCount, hoursOf(h.partition), `rows of ${h.partition}`);
  assert.match(await page.innerText('[data-testid=checks]'), /hourly_completeness\s+passed/);
  await screenshot(page, 'pjm-validated-prices');
  assert.equal(pageErrors(page), []);
});

test.run();
