// The run page of a run whose steps a pool of `materialize worker` processes ran, in headless
// Chromium against the real server on a real PostgreSQL store: each step's worker (host:pid) is
// shown in the event log and beside each materialization, and it is one of the workers we started.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser } from 'playwright-core';
import { Instance } from '../../runtime/index.ts';
import { loadDefinitions } from '../../runtime/cli/load-definitions.ts';
import { openLineageStore } from '../../runtime/store/open-store.ts';
import { runCli, startCli } from '../support/cli.ts';
import { startPostgres, type PostgresCluster } from '../support/postgres.ts';
import { tempDir } from '../support/tmp.ts';
import { launchBrowser, newPage, pageErrors, screenshot } from './helpers/browser.ts';
import { startUiServer, type TestServer } from './helpers/server.ts';

const DEFS = 'test/fixtures/runtime/example-defs.ts';
let cluster: PostgresCluster;
let browser: Browser;
let srv: TestServer<unknown> | undefined;

test.before(async () => {
  cluster = await startPostgres();
  browser = await launchBrowser();
});
test.after(async () => {
  await browser?.close();
  await srv?.stop();
  cluster?.stop();
});

test('the run page names the worker (host:pid) that ran each step', async () => {
  const url = await cluster.createDatabase('ui-workers');
  const dataDir = tempDir('ui-workers');
  const env = { LINEAGE_STORE: url, EXAMPLE_END: '2024-01-06' };
  const args = ['--definitions', DEFS, '--data-dir', dataDir];
  await (await openLineageStore(url)).close();
  const workers = [0, 1].map(() => startCli([...args, 'worker'], env));
  let runId: string;
  try {
    const r = await runCli([...args, 'example/readings', '--executor', 'workers', '--json'], env);
    assert.is(r.code, 0, r.stderr);
    runId = (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { runId: string }).runId;
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.done));
  }
  const pids = new Set(workers.map((w) => String(w.child.pid)));

  const instance = await Instance.open(await loadDefinitions(DEFS, { dataDir, env: process.env }), { dataDir, store: await openLineageStore(url) });
  srv = await startUiServer(instance);
  const page = await newPage(browser);
  await page.goto(`${srv.url}/#/runs/${encodeURIComponent(runId)}`);
  await page.waitForSelector('[data-testid=run-page] [data-run-status="succeeded"]');
  await page.waitForSelector('[data-testid=materialization-worker]');

  // Event log: every step_started row names a worker we started.
  const started = await page.$$eval('[data-testid=event-log] tr.type-step_started [data-testid=event-worker]', (cells) =>
    cells.map((c) => c.textContent ?? ''),
  );
  assert.is(started.length, 6, 'one step_started per partition');
  for (const w of started) assert.ok(pids.has(w.split(':').at(-1)!), `event log names worker ${w}, one of pids ${[...pids].join(', ')}`);
  // Other events have no worker.
  assert.is(await page.locator('[data-testid=event-log] tr.type-run_started [data-testid=event-worker]').innerText(), '');
  // Materialized table: the worker beside each step, the same as its step_started.
  const rows = await page.$$eval('[data-testid=run-materializations] tbody tr', (trs) =>
    trs.map((tr) => ({ step: (tr as HTMLElement).dataset.step ?? '', worker: tr.querySelector('[data-testid=materialization-worker]')?.textContent ?? '' })),
  );
  assert.is(rows.length, 6);
  for (const row of rows) assert.ok(pids.has(row.worker.split(':').at(-1)!), `${row.step} names worker ${row.worker}`);
  assert.equal(rows.map((r) => r.worker).sort(), [...started].sort());
  assert.equal(pageErrors(page), []);
  await screenshot(page, 'run-workers');
});

test.run();
