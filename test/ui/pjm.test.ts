// The UI over the real PJM pipeline: the default Definitions (assets/definitions.ts)
// materialized by the CLI on a short range of the bundled epftoolbox data, then
// the graph, an asset page with its validation reports, and a chart drawn from
// the real materialization metadata (rows per delivery day: 24, and 25 on the
// day daylight saving time ends).
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { pjmDefinitions } from '../../assets/definitions.ts';
import { launchBrowser, newPage, pageErrors, screenshot } from './helpers/browser.ts';
import { openInstance, startUiServer, tempDataDir, type TestServer } from './helpers/server.ts';

// A week around the end of DST in 2016 (Sunday 2016-11-06 has 25 EPT hours).
const ENV = { PJM_START: '2016-11-03', PJM_END: '2016-11-09' };
const CLI = new URL('../../bin/materialize.js', import.meta.url).pathname;

let srv: TestServer<unknown>;
let browser: Browser;
let page: Page;

// Set up inside the tests (not in test.before, whose errors uvu does not print), once.
let ready: Promise<void> | undefined;
const setup = (): Promise<void> =>
  (ready ??= (async () => {
    const dataDir = tempDataDir('pjm');
    const env = { ...process.env, ...ENV, DATA_DIR: dataDir, OMP_WAIT_POLICY: 'passive' };
    try {
      execFileSync(process.execPath, [CLI], { env, stdio: 'pipe', timeout: 240_000 });
    } catch (err) {
      const out = `${(err as { stdout?: Buffer }).stdout ?? ''}${(err as { stderr?: Buffer }).stderr ?? ''}`;
      throw new Error(`materializing the PJM pipeline on ${ENV.PJM_START}..${ENV.PJM_END} failed:\n${out.split('\n').slice(-15).join('\n')}`);
    }
    srv = await startUiServer(openInstance(await pjmDefinitions(env), dataDir));
    browser = await launchBrowser();
    page = await newPage(browser);
  })());

test.after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('the graph shows the materialized PJM pipeline, fresh', async () => {
  await setup();
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('#graph-svg[data-ready="true"]');
  const statuses = await page.$$eval('#graph-svg .node', (ns) => Object.fromEntries(ns.map((n) => [(n as SVGGElement).dataset.key, (n as SVGGElement).dataset.status])));
  for (const key of ['pjm/raw/prices', 'pjm/processed/prices', 'pjm/validated/prices', 'pjm/validated/load']) assert.is(statuses[key], 'fresh', key);
  await screenshot(page, 'pjm-graph');
});

test('an asset page charts real metadata by partition and shows the validation reports', async () => {
  await setup();
  await page.goto(`${srv.url}/#/assets/${encodeURIComponent('pjm/validated/prices')}`);
  await page.waitForSelector('[data-testid=metadata-chart]');
  assert.is(await page.getAttribute('.metadata-chart .chart-box', 'data-points'), '7');
  const path = await page.getAttribute('[data-testid=metadata-chart] path.series', 'd');
  assert.ok(path && path.split(/[ML]/).filter(Boolean).length === 7, `one point per day: ${path}`);
  // The chart's values are the materializations' own row counts: 24 a day, 25 on 2016-11-06.
  const api = (await (await fetch(`${srv.url}/api/assets/${encodeURIComponent('pjm/validated/prices')}`)).json()) as any;
  const rows = Object.fromEntries(api.history.map((h: any) => [h.partition, h.metadata.rowCount]));
  assert.is(rows['2016-11-06'], 25);
  assert.is(rows['2016-11-07'], 24);
  assert.match(await page.innerText('[data-testid=checks]'), /hourly_completeness\s+passed/);
  await screenshot(page, 'pjm-validated-prices');
  assert.equal(pageErrors(page), []);
});

test.run();
