// Crash safety and concurrency, with real processes: a materialization killed
// with SIGKILL leaves the previous version current and the store intact, and
// two processes materializing one store at once do no duplicate work and never
// fail with "database is locked".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { runCli, startCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const DEFS = 'test/fixtures/runtime/example-defs.ts';

test('SIGKILL mid-materialization: previous version still current, integrity ok, rerun completes', async () => {
  const dir = tempDir('crash');
  const args = ['--definitions', DEFS, '--data-dir', dir];
  assert.is((await runCli(args)).code, 0);
  const db = () => new Database(join(dir, 'store', 'lineage.sqlite'));
  const before = db().prepare(`SELECT asset, partition, materialization_id FROM current ORDER BY 1, 2`).all();

  const { child, done } = startCli([...args, 'example/readings', '--force', '--json'], { EXAMPLE_SLOW_MS: '400', EXAMPLE_SCALE: '3' });
  await new Promise<void>((resolve) => {
    let seen = 0;
    child.stdout!.on('data', (d: Buffer) => {
      seen += (d.toString().match(/"step_materialized"/g) ?? []).length;
      // Kill once some partitions have committed and others are in flight.
      if (seen >= 2) resolve();
    });
  });
  child.kill('SIGKILL');
  const killed = await done;
  assert.is(killed.signal, 'SIGKILL');

  const store = db();
  assert.is(store.pragma('integrity_check', { simple: true }), 'ok');
  const run = store.prepare(`SELECT status FROM runs ORDER BY started_at DESC LIMIT 1`).get() as { status: string };
  assert.is(run.status, 'running', 'the killed run could not record its own end');
  // Partitions that were not committed still point at their previous version.
  const after = store.prepare(`SELECT asset, partition, materialization_id FROM current ORDER BY 1, 2`).all() as { materialization_id: number }[];
  assert.is(after.length, before.length);
  const changed = after.filter((r, k) => r.materialization_id !== (before[k] as { materialization_id: number }).materialization_id).length;
  assert.ok(changed >= 2 && changed < 10, `${changed} partitions were replaced before the kill`);
  // Every current pointer refers to a published file.
  const missing = store.prepare(`SELECT count(*) AS n FROM current c JOIN materializations m ON m.id = c.materialization_id WHERE m.location IS NULL OR m.status != 'published'`).get() as { n: number };
  assert.is(missing.n, 0);
  store.close();

  const rerun = await runCli([...args, '--json'], { EXAMPLE_SCALE: '3' });
  assert.is(rerun.code, 0, rerun.stderr);
  const status = JSON.parse((await runCli([...args, 'status', '--json'], { EXAMPLE_SCALE: '3' })).stdout);
  assert.equal(status.map((s: { status: string }) => s.status), ['FRESH', 'FRESH', 'FRESH', 'FRESH']);
  const runs = JSON.parse((await runCli([...args, 'runs', '--json'])).stdout) as { status: string; error: string }[];
  const abandoned = runs.find((r) => r.status === 'failed');
  assert.ok(abandoned, 'the killed run is closed as failed by the next process');
  assert.match(abandoned!.error, /stopped without finishing/);
});

test('two processes materializing one store at once: no duplicate work, no lock errors', async () => {
  const dir = tempDir('concurrent');
  const args = ['--definitions', DEFS, '--data-dir', dir, '--json'];
  const env = { EXAMPLE_SLOW_MS: '200' };
  // Start the second process once the first is materializing, so they surely overlap.
  const first = startCli(args, env);
  await new Promise<void>((resolve) => first.child.stdout!.on('data', (d: Buffer) => /"step_started"/.test(d.toString()) && resolve()));
  const [a, b] = await Promise.all([first.done, runCli(args, env)]);
  assert.is(a.code, 0, a.stderr);
  assert.is(b.code, 0, b.stderr);
  assert.not.match(a.stderr + b.stderr, /locked|SQLITE_BUSY/);
  const db = new Database(join(dir, 'store', 'lineage.sqlite'), { readonly: true });
  const rows = db.prepare(`SELECT asset, partition, count(*) AS n FROM materializations GROUP BY 1, 2`).all() as { n: number }[];
  assert.is(rows.length, 22);
  assert.ok(rows.every((r) => r.n === 1), 'each asset partition was materialized exactly once');
  const skipped = (a.stdout + b.stdout).match(/materialized meanwhile by run|"step_waiting"/g) ?? [];
  assert.ok(skipped.length > 0, 'the processes met and one deferred to the other');
  db.close();
});

test.run();
