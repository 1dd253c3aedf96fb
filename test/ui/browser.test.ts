// End to end in headless Chromium against the real server and a real store:
// the graph's statuses, an asset's history and causes, the lineage of a
// version, the run log, and a materialization started from the UI that shows
// its progress and ends fresh. Screenshots go to test-artifacts/ui/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import type { DemoResources } from './helpers/defs.ts';
import { launchBrowser, newPage, pageErrors, screenshot } from './helpers/browser.ts';
import { demoScenario, STALE_DAY } from './helpers/scenario.ts';
import { startUiServer, type TestServer } from './helpers/server.ts';
import { RUN_QUEUE_DEFAULTS } from '../../runtime/settings.ts';

let srv: TestServer<DemoResources>;
let resources: DemoResources;
let browser: Browser;
let page: Page;
const external: string[] = [];

test.before(async () => {
  const scenario = await demoScenario();
  resources = scenario.resources;
  srv = await startUiServer(scenario.instance);
  browser = await launchBrowser();
  page = await newPage(browser);
  // Offline: any request that leaves the server is refused and remembered.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(srv.url) || url.startsWith('data:')) return route.continue();
    external.push(url);
    return route.abort();
  });
});
test.after(async () => {
  await browser?.close();
  await srv?.stop();
});

const nodeStatus = (key: string) => page.getAttribute(`.node[data-key="${key}"]`, 'data-status');

test('the graph renders every asset, left to right, coloured by status', async () => {
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('#graph-svg[data-ready="true"]');
  const statuses = await page.$$eval('#graph-svg .node', (nodes) =>
    Object.fromEntries(nodes.map((n) => [(n as SVGGElement).dataset.key, (n as SVGGElement).dataset.status])),
  );
  assert.equal(statuses, {
    'demo/readings': 'fresh',
    'demo/daily_mean': 'stale',
    'demo/summary': 'stale',
    'demo/flaky': 'failed',
    'demo/report': 'stale',
    'demo/later': 'missing',
  });
  // Left to right: each asset sits right of what it depends on.
  const x = async (key: string) => (await page.locator(`.node[data-key="${key}"]`).boundingBox())!.x;
  assert.ok((await x('demo/readings')) < (await x('demo/daily_mean')));
  assert.ok((await x('demo/summary')) < (await x('demo/report')));
  assert.ok((await x('demo/report')) < (await x('demo/later')));
  assert.is(await page.locator('#graph-svg .edge').count(), 5);
  // The stripe of a stale node is amber, of a failed one red.
  assert.is(await page.getAttribute('.node[data-key="demo/daily_mean"] .stripe', 'fill'), '#e0a019');
  assert.is(await page.getAttribute('.node[data-key="demo/flaky"] .stripe', 'fill'), '#d64545');
  await screenshot(page, 'graph');
});

test('the graph zooms around the cursor with the wheel and pans by dragging', async () => {
  const transform = async () => {
    const t = (await page.getAttribute('#graph-svg .viewport', 'transform'))!;
    const [, x, y, k] = /translate\(([-\d.e]+),([-\d.e]+)\) scale\(([-\d.e]+)\)/.exec(t)!.map(Number);
    return { x: x!, y: y!, k: k! };
  };
  const box = (await page.locator('#graph-svg').boundingBox())!;
  const before = await transform();
  await page.mouse.move(box.x + 200, box.y + 200);
  await page.mouse.wheel(0, 300);
  const zoomedOut = await transform();
  assert.ok(zoomedOut.k < before.k, `wheel down zooms out (${before.k} -> ${zoomedOut.k})`);
  await page.mouse.down();
  await page.mouse.move(box.x + 300, box.y + 260, { steps: 5 });
  await page.mouse.up();
  const panned = await transform();
  assert.ok(Math.abs(panned.x - zoomedOut.x - 100) < 1 && Math.abs(panned.y - zoomedOut.y - 60) < 1, 'dragging moves the view by the same amount');
  assert.is(panned.k, zoomedOut.k);
  await page.click('#graph-fit');
  // The legend singles out one status: the others are dimmed.
  await page.click('#graph-totals [data-status="stale"]');
  const opacity = (key: string) => page.$eval(`.node[data-key="${key}"]`, (n) => getComputedStyle(n).opacity);
  assert.is(await opacity('demo/readings'), '0.15');
  assert.is(await opacity('demo/summary'), '1');
  await page.click('#graph-totals [data-status="stale"]');
  assert.is(await opacity('demo/readings'), '1');
});

test('clicking a partition health bar lists the partitions with their causes', async () => {
  await page.click('.node[data-key="demo/daily_mean"] .hbar');
  const list = page.locator('#graph-panel [data-testid=partition-list]');
  await list.waitFor();
  assert.is(await list.locator('tr').count(), 6);
  const staleRow = list.locator('tr', { hasText: STALE_DAY });
  assert.match(await staleRow.innerText(), /stale\s+upstream demo\/readings\[2024-01-03\] now has data version [0-9a-f]{8}; this one consumed [0-9a-f]{8}/);
  await screenshot(page, 'graph-partitions');
});

test('an asset with a deadline shows late with the reason on the graph, its panel and its page', async () => {
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('#graph-svg[data-ready="true"]');
  // demo/later is due once a day by 14:30 New York time and was never materialized; the others declare no deadline.
  assert.is(await page.getAttribute('.node[data-key="demo/later"]', 'data-freshness'), 'late');
  assert.is(await page.locator('.node[data-key="demo/later"] .late-badge').count(), 1);
  assert.is(await page.locator('#graph-svg .late-badge').count(), 1);
  assert.is(await page.getAttribute('.node[data-key="demo/summary"]', 'data-freshness'), null);
  await page.click('.node[data-key="demo/later"]');
  await page.waitForSelector('#graph-panel h2 >> text=demo/later');
  assert.is(await page.innerText('#graph-panel [data-freshness]'), 'late');
  assert.match(await page.innerText('#graph-panel [data-testid=freshness]'), /due by \d{4}-\d{2}-\d{2} 14:30 E[SD]T .* and never materialized; .* late/);
  await page.goto(`${srv.url}/#/assets/${encodeURIComponent('demo/later')}`);
  await page.waitForSelector('[data-testid=asset-page][data-asset="demo/later"]');
  assert.match(await page.innerText('[data-testid=asset-page] [data-testid=freshness]'), /^late\s+due by .* 14:30 E[SD]T/);
  await screenshot(page, 'freshness-late');
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('#graph-svg[data-ready="true"]');
});

test('clicking an asset shows its causes; its page shows the history and checks', async () => {
  await page.click('.node[data-key="demo/flaky"]');
  await page.waitForSelector('#graph-panel .causes');
  assert.match(await page.innerText('#graph-panel .causes'), /latest attempt failed \(run [^)]+\): the upstream service answered 503/);
  await page.click('.node[data-key="demo/summary"]');
  await page.waitForSelector('#graph-panel h2 >> text=demo/summary');
  assert.match(await page.innerText('#graph-panel .causes'), /upstream demo\/daily_mean\[2024-01-03\] is stale/);
  await page.click('#graph-panel [data-testid=open-asset]');
  await page.waitForSelector('[data-testid=asset-page][data-asset="demo/summary"]');
  assert.is(await page.innerText('[data-testid=asset-status]'), 'stale');
  assert.match(await page.innerText('[data-testid=causes]'), /upstream demo\/daily_mean\[2024-01-03\] is stale/);
  assert.is(await page.locator('[data-testid=history] tbody tr').count(), 1);
  assert.match(await page.innerText('[data-testid=history]'), /days 6/);

  await page.goto(`${srv.url}/#/assets/${encodeURIComponent('demo/daily_mean')}`);
  await page.waitForSelector('[data-testid=asset-page][data-asset="demo/daily_mean"]');
  assert.is(await page.locator('[data-testid=history] tbody tr').count(), 6);
  assert.match(await page.innerText('[data-testid=checks]'), /has_24_hours\s+passed/);
  assert.match(await page.innerText('[data-testid=causes]'), /now has data version [0-9a-f]{8}; this one consumed [0-9a-f]{8}/);
  await screenshot(page, 'asset');
});

test('the lineage view lists the versions a materialization consumed', async () => {
  await page.goto(`${srv.url}/#/assets/${encodeURIComponent('demo/summary')}`);
  await page.click('[data-testid=history] [data-testid=lineage-link]');
  await page.waitForSelector('[data-testid=lineage-page]');
  const api = (await (await fetch(`${srv.url}/api/assets/${encodeURIComponent('demo/daily_mean')}/partitions`)).json()) as any;
  const text = await page.innerText('[data-testid=lineage-page]');
  assert.match(text, /demo\/daily_mean — 6 partitions, 2024-01-01 … 2024-01-06/);
  // The latest consumed daily means are listed with their data versions, each traced to its readings.
  const upstream = page.locator('[data-testid=lineage-upstream]');
  assert.ok((await upstream.count()) >= 5);
  const newest = api.partitions[0];
  assert.match(text, new RegExp(`2024-01-06\\s+data version ${newest.dataVersion.slice(0, 8)}`));
  assert.match(text, /demo\/readings/);
  assert.match(text, /Consumed by[\s\S]*demo\/flaky[\s\S]*demo\/report|Consumed by[\s\S]*demo\/report[\s\S]*demo\/flaky/);
  await screenshot(page, 'lineage');
});

test('the runs list shows each run; the page of a failed run shows its failure messages', async () => {
  await page.goto(`${srv.url}/#/runs`);
  await page.waitForSelector('[data-testid=runs]');
  assert.is(await page.locator('[data-testid=runs] tbody tr').count(), 3);
  const failedRow = page.locator('[data-testid=runs] tbody tr', { has: page.locator('[data-run-status="failed"]') });
  assert.match(await failedRow.innerText(), /demo\/flaky[\s\S]*1 step failed or blocked/);
  await screenshot(page, 'runs');
  await failedRow.locator('a').first().click();
  await page.waitForSelector('[data-testid=run-page]');
  assert.match(await page.innerText('[data-testid=run-error]'), /1 step failed or blocked/);
  const failedEvent = page.locator('[data-testid=event-log] tr.level-error', { hasText: 'step_failed' });
  assert.match(await failedEvent.innerText(), /demo\/flaky: FAILED after \d+ ms: the upstream service answered 503/);
});

test('a materialization started from the UI shows its progress, the graph shows it running, and it ends fresh', async () => {
  // demo/summary sleeps 3 s: long enough for the graph (refreshing every second) to see it running.
  resources.slowMs = 3000;
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('#graph-svg[data-ready="true"]');
  await page.click('.node[data-key="demo/later"]');
  await page.click('#graph-panel button[data-mode="with-upstream"]');
  const progress = page.locator('#graph-panel [data-testid=run-progress]');
  await progress.locator('text=/\\d+\\/4 steps/').waitFor();
  assert.is(await progress.locator('[data-testid=run-status]').innerText(), 'running');
  // While demo/summary sleeps, the graph (refreshing every second during a run) shows it running.
  await page.waitForSelector('.node[data-key="demo/summary"][data-status="running"]', { timeout: 10_000 });
  await screenshot(page, 'materialize-running');
  await progress.locator('[data-testid=run-status] >> text=succeeded').waitFor({ timeout: 20_000 });
  assert.match(await progress.innerText(), /4\/4 steps · 4 materialized/);
  await page.waitForSelector('.node[data-key="demo/later"][data-status="fresh"]', { timeout: 10_000 });
  for (const key of ['demo/daily_mean', 'demo/summary', 'demo/report', 'demo/later']) assert.is(await nodeStatus(key), 'fresh', key);
  // Materialized now, so on time for its deadline: the late badge is gone.
  await page.waitForSelector('.node[data-key="demo/later"][data-freshness="on_time"]', { timeout: 10_000 });
  assert.is(await page.locator('#graph-svg .late-badge').count(), 0);
  await screenshot(page, 'materialize-done');

  // The run page shows the same run with its event log.
  await progress.locator('a[href^="#/runs/"]').click();
  await page.waitForSelector('[data-testid=run-page]');
  assert.is(await page.innerText('[data-testid=run-page] [data-testid=run-status]'), 'succeeded');
  assert.match(await page.innerText('[data-testid=event-log]'), /demo\/later: materialized [0-9a-f]{8}/);
  await screenshot(page, 'run');
  resources.slowMs = 0;
  assert.equal(pageErrors(page), []);
  assert.equal(external, [], 'the UI made no request outside the server (works offline, no CDN)');
});

test('the run page follows a run live', async () => {
  resources.slowMs = 700;
  const res = await fetch(`${srv.url}/api/materialize`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ selection: 'demo/readings', mode: 'force' }),
  });
  const { runId } = (await res.json()) as any;
  await page.goto(`${srv.url}/#/runs/${encodeURIComponent(runId)}`);
  await page.waitForSelector('[data-testid=run-page] [data-run-status="running"]');
  const before = await page.locator('[data-testid=event-log] tr').count();
  await page.waitForSelector('[data-testid=run-page] [data-run-status="succeeded"]', { timeout: 20_000 });
  const after = await page.locator('[data-testid=event-log] tr').count();
  assert.ok(after > before, `events arrived while the page was open (${before} -> ${after})`);
  assert.match(await page.innerText('[data-testid=event-log]'), /run \S+ succeeded/);
  resources.slowMs = 0;
});

test('one stale partition can be materialized from the partitions page', async () => {
  resources.scale = 3;
  await fetch(`${srv.url}/api/materialize`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ selection: 'demo/readings', mode: 'force', partitions: '2024-01-05' }),
  })
    .then((r) => r.json())
    .then((r: any) => fetch(`${srv.url}${r.links.stream}`))
    .then((r) => r.text());
  await page.goto(`${srv.url}/#/assets/${encodeURIComponent('demo/daily_mean')}/partitions?status=stale`);
  await page.waitForSelector('[data-testid=partition-list] button[data-partition="2024-01-05"]');
  // The earlier forced readings run left other days stale too; only 2024-01-05 is run here.
  const staleBefore = await page.locator('[data-testid=partition-list] tbody tr').count();
  await page.click('[data-testid=partition-list] button[data-partition="2024-01-05"]');
  await page.waitForSelector('[data-testid=run-page] [data-run-status="succeeded"]', { timeout: 15_000 });
  assert.match(await page.innerText('[data-testid=event-log]'), /demo\/daily_mean\[2024-01-05\]: materialized/);
  const after = (await (await fetch(`${srv.url}/api/assets/${encodeURIComponent('demo/daily_mean')}/partitions?status=stale`)).json()) as any;
  assert.is(after.matching, staleBefore - 1);
  assert.not.ok(after.partitions.some((p: any) => p.partition === '2024-01-05'));
});

test('a run started from the UI can be canceled from its page', async () => {
  resources.slowMs = 8000;
  const res = await fetch(`${srv.url}/api/materialize`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ selection: 'demo/summary', mode: 'force' }),
  });
  const { runId } = (await res.json()) as any;
  await page.goto(`${srv.url}/#/runs/${encodeURIComponent(runId)}`);
  await page.click('[data-testid=run-page] [data-action="cancel"]');
  await page.waitForSelector('[data-testid=run-page] [data-run-status="canceled"]', { timeout: 15_000 });
  assert.match(await page.innerText('[data-testid=event-log]'), /skipped, run canceled|canceled/);
  resources.slowMs = 0;
});

test('a run asked for behind older queued runs shows "queued" and why; the runs page lists the queue; canceling one lets it run', async () => {
  // Older runs queued by another live process (this test process) on the same store, as many as the
  // server's limit (RUN_QUEUE_MAX_CONCURRENT, default 4): they take every slot before the UI's run.
  const older = Array.from({ length: RUN_QUEUE_DEFAULTS.maxConcurrentRuns }, (_, i) => `20261202T140000-0ld3r${i}`);
  for (const id of older)
    await srv.instance.store.enqueueRun({
      runId: id,
      selection: 'demo/report',
      partitions: null,
      force: true,
      trigger: 'cli',
      pools: [],
      enqueuedAt: Date.now(),
    });
  await page.goto(`${srv.url}/#/assets/${encodeURIComponent('demo/report')}`);
  await page.waitForSelector('[data-testid=asset-page][data-asset="demo/report"]');
  await page.click('[data-testid=asset-page] button[data-mode="force"]');
  await page.waitForSelector('[data-testid=run-progress] [data-testid=run-status] >> text=queued');
  assert.is(await page.innerText('[data-testid=queue-reason]'), `run ${older[0]}, queued earlier, starts first`);
  await screenshot(page, 'queued');

  // The runs page, in a second tab, lists every queued run, oldest first, each with a Cancel button.
  const runsPage = await newPage(browser);
  await runsPage.goto(`${srv.url}/#/runs`);
  await runsPage.waitForSelector('[data-testid=queue]');
  const rows = await runsPage.$$eval('[data-testid=queue] tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.queued));
  assert.is(rows.length, older.length + 1);
  assert.equal(rows.slice(0, older.length), older);
  assert.match(await runsPage.innerText(`[data-testid=queue] tr[data-queued="${rows.at(-1)}"]`), new RegExp(`run ${older[0]}, queued earlier, starts first`));
  await screenshot(runsPage, 'queue');
  await runsPage.click(`button[data-cancel="${older[0]}"]`);
  // A slot is free for it: the UI's run starts and ends as any run does.
  await page.locator('[data-testid=run-progress] [data-testid=run-status] >> text=succeeded').waitFor({ timeout: 20_000 });
  assert.is((await srv.instance.store.queuedRun(older[0]!))?.state, 'canceled');
  for (const id of older.slice(1)) assert.equal(await srv.instance.store.cancelQueuedRun(id), { canceled: true });
  await runsPage.waitForSelector('[data-testid=queue]', { state: 'detached', timeout: 15_000 });
  await runsPage.close();
  assert.equal(pageErrors(page), []);
});

test.run();
