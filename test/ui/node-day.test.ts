// A node x day asset in the UI: the partitions API counts each node's partitions
// and filters as `materialize -p` does; in headless Chromium the partitions page
// shows one health bar per node, and clicking a node lists only its partitions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { materialize, staticPartitions } from '../../runtime/index.ts';
import { nodeDayPipeline } from '../fixtures/runtime/multi-defs.ts';
import { launchBrowser, newPage, pageErrors, screenshot } from './helpers/browser.ts';
import { openInstance, startUiServer, type TestServer } from './helpers/server.ts';

let srv: TestServer<unknown>;
let browser: Browser;
let page: Page;

test.before(async () => {
  const instance = await openInstance(nodeDayPipeline(staticPartitions(['A', 'B', 'C']), new Map()));
  // Nodes A and B materialized; C, just added, is missing.
  const run = await materialize(instance, { selection: '+features', partitions: 'node=A,B', trigger: 'test' });
  assert.is(run.status, 'succeeded');
  srv = await startUiServer(instance);
  browser = await launchBrowser();
  page = await newPage(browser);
});
test.after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function getJson(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.url}${path}`);
  return { status: res.status, body: await res.json() };
}

test('the partitions API counts each node and filters like -p', async () => {
  const all = await getJson('/api/assets/prices/partitions');
  assert.is(all.status, 200);
  assert.is(all.body.counts.total, 15);
  assert.is(all.body.dimension.name, 'node');
  const byNode = Object.fromEntries(all.body.dimension.values.map((v: any) => [v.value, [v.counts.fresh, v.counts.missing]]));
  assert.equal(byNode, { A: [5, 0], B: [5, 0], C: [0, 5] });

  const c = await getJson(`/api/assets/prices/partitions?${new URLSearchParams({ partition: 'node=C,day=2025-05-02...2025-05-03' })}`);
  assert.is(c.status, 200);
  assert.equal(
    c.body.partitions.map((p: any) => [p.partition, p.label, p.status]),
    [
      ['C|2025-05-03', 'node=C, day=2025-05-03', 'missing'],
      ['C|2025-05-02', 'node=C, day=2025-05-02', 'missing'],
    ],
  );

  const bad = await getJson(`/api/assets/prices/partitions?${new URLSearchParams({ partition: 'node=Z' })}`);
  assert.is(bad.status, 400);
  assert.match(JSON.stringify(bad.body), /Unknown partition \\"Z\\"/);

  // A one-dimensional asset has no dimension breakdown.
  const raw = await getJson('/api/assets/raw/partitions');
  assert.is(raw.body.dimension, null);
});

test('in Chromium: one health bar per node, and a click lists that node only', async () => {
  await page.goto(`${srv.url}/#/assets/prices/partitions`);
  await page.waitForSelector('[data-testid=dimension-grid]');
  const rows = await page.$$eval('[data-testid=dimension-grid] tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
  assert.equal(rows, ['A 5 fresh', 'B 5 fresh', 'C 5 missing']);
  await screenshot(page, 'node-day-partitions');
  await page.click('[data-testid=dimension-grid] a:text("C")');
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes('partition=node=C'));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=partition-list] tbody tr').length === 5);
  const listed = await page.$$eval('[data-testid=partition-list] tbody tr td:first-child', (tds) => tds.map((td) => (td as HTMLElement).innerText));
  assert.ok(
    listed.every((p) => p.startsWith('C|')),
    listed.join(', '),
  );
  assert.equal(pageErrors(page), []);
});

test.run();
