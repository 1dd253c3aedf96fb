// prune: superseded versions go, current ones and their lineage stay; orphan files (published
// by a process that died before recording them) go once older than the grace period, but never
// while a live run holds their asset partition, and never a file a row points at.
import { copyFileSync, existsSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance, type LocalStorage, materialize, prune, type AssetKey } from '../../runtime/index.ts';
import exampleDefs from '../fixtures/runtime/example-defs.ts';
import { tempDir } from '../support/tmp.ts';
import { runCli, startCli } from '../support/cli.ts';

const HOUR = 3_600_000;

test('orphan files older than the grace period are removed; recorded, recent and leased ones stay', async () => {
  const i = await Instance.open(exampleDefs, { dataDir: tempDir('prune') });
  const run = await materialize(i, { trigger: 'test' });
  assert.is(run.status, 'succeeded');
  const root = (i.storage as LocalStorage).root;
  const recorded = (await i.store.current('example/readings' as AssetKey, '2024-01-01'))!.location!;
  const orphan = (partition: string, version: string, ageMs: number): string => {
    const path = join(root, 'example/readings', partition, `${version}.parquet`);
    copyFileSync(join(root, recorded), path);
    const t = new Date(Date.now() - ageMs);
    utimesSync(path, t, t);
    return path;
  };
  const old = orphan('2024-01-02', 'deadbeef00000001', 2 * HOUR);
  const recent = orphan('2024-01-03', 'deadbeef00000002', 60_000);
  const leased = orphan('2024-01-04', 'deadbeef00000003', 2 * HOUR);
  // A live run holds example/readings[2024-01-04]: it may be about to record that very file.
  assert.ok((await i.store.tryAcquireLease('example/readings' as AssetKey, '2024-01-04', 'a-live-run', Date.now(), 10 * 60_000)).acquired);

  const dry = await prune(i, { olderThanMs: 30 * 24 * HOUR, dryRun: true });
  assert.is(dry.orphans, 2, 'a dry run counts both old orphans');
  assert.ok(existsSync(old) && existsSync(leased));

  const r = await prune(i, { olderThanMs: 30 * 24 * HOUR });
  assert.is(r.orphans, 1);
  assert.is(r.busy, 1);
  assert.is(existsSync(old), false, 'the old orphan is gone');
  assert.ok(existsSync(recent), 'an orphan within the grace period stays (a run may be about to record it)');
  assert.ok(existsSync(leased), 'an orphan whose partition a live run holds stays');
  for (const [, partitions] of await i.store.snapshot())
    for (const [, cur] of partitions) assert.ok(existsSync(join(root, cur.location!)), `${cur.location} is still there`);

  await i.store.releaseLease('example/readings' as AssetKey, '2024-01-04', 'a-live-run');
  const later = await prune(i, { olderThanMs: 30 * 24 * HOUR });
  assert.is(later.orphans, 1);
  assert.is(existsSync(leased), false, 'once the run let go, the orphan goes too');
  // Scratch directories of steps are not published files.
  for await (const f of i.storage.list()) assert.not.match(f.location, /^\./);
  await i.close();
});

test('scratch directories of a SIGKILLed run are pruned; a live run keeps its own', async () => {
  const dir = tempDir('prune-scratch');
  const args = ['--definitions', 'test/fixtures/runtime/example-defs.ts', '--data-dir', dir];
  const scratch = () => readdirSync(join(dir, 'assets', '.tmp'));
  /** Starts a slow run and resolves once `n` of its steps have started (each has a scratch directory then). */
  const slowRun = async (n: number) => {
    const started = startCli([...args, 'example/readings', '--force', '--json', '--concurrency', '4'], { EXAMPLE_SLOW_MS: '30000' });
    await new Promise<void>((resolve) => {
      let seen = 0;
      started.child.stdout!.on('data', (d: Buffer) => {
        seen += (d.toString().match(/"step_started"/g) ?? []).length;
        if (seen >= n) resolve();
      });
    });
    // step_started is announced just before the step makes its directory: give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return started;
  };
  const killed = await slowRun(4);
  killed.child.kill('SIGKILL');
  await killed.done;
  const left = scratch();
  assert.is(left.length, 4, 'the killed run left the scratch directories of its four steps');

  const live = await slowRun(4);
  const liveDirs = scratch().filter((d) => !left.includes(d));
  assert.is(liveDirs.length, 4);
  const r = await runCli([...args, 'prune', '--older-than', '30d', '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).scratch, 4, 'every directory of the dead run went');
  assert.equal(scratch().sort(), liveDirs.sort(), 'the live run keeps its own');
  live.child.kill('SIGTERM');
  await live.done;
  assert.equal(scratch(), [], 'a canceled run removes its own');
});

test('prune --dry-run while a run creates and deletes scratch directories never fails on a vanished one', async () => {
  const dir = tempDir('prune-churn');
  const args = ['--definitions', 'test/fixtures/runtime/example-defs.ts', '--data-dir', dir];
  // About 1,500 quick steps, each making and removing its scratch directory.
  const churn = startCli([...args, 'example/readings', '--json'], { EXAMPLE_START: '2020-01-01', EXAMPLE_END: '2024-01-31' });
  await new Promise<void>((resolve) => churn.child.stdout!.once('data', () => resolve()));
  let runs = 0;
  let stillRunning = true;
  void churn.done.then(() => (stillRunning = false));
  while (stillRunning && runs < 15) {
    const dry = await runCli([...args, 'prune', '--older-than', '30d', '--dry-run'], { EXAMPLE_START: '2020-01-01', EXAMPLE_END: '2024-01-31' });
    assert.is(dry.code, 0, dry.stderr);
    runs++;
  }
  assert.ok(runs >= 3, `prune ran ${runs} times during the run`);
  assert.is((await churn.done).code, 0);
});

test('asset records go once older than their retention (default 365 d, --records-older-than), not the run history’s --older-than', async () => {
  const dir = tempDir('prune-records');
  const args = ['--definitions', 'test/fixtures/runtime/example-defs.ts', '--data-dir', dir];
  const i = await Instance.open(exampleDefs, { dataDir: dir });
  const DAY = 24 * HOUR;
  const now = Date.now();
  const rec = (key: string, ageDays: number) => ({ namespace: 'example/notes', key, partition: null, recordedAt: now - ageDays * DAY, payload: { key } });
  await i.store.addAssetRecords([rec('400 days', 400), rec('100 days', 100), rec('today', 0)]);
  const keys = async () => (await i.store.assetRecords({ namespace: 'example/notes', order: 'newest' })).map((r) => r.key);
  try {
    const r = await prune(i, { olderThanMs: 30 * DAY });
    assert.is(r.assetRecords, 1);
    assert.equal(await keys(), ['today', '100 days'], 'the default retention keeps a year, whatever --older-than');
    const dry = await runCli([...args, 'prune', '--older-than', '30d', '--records-older-than', '90d', '--dry-run', '--json']);
    assert.is(dry.code, 0, dry.stderr);
    assert.is(JSON.parse(dry.stdout).assetRecords, 1);
    assert.equal(await keys(), ['today', '100 days'], 'a dry run removes nothing');
    const real = await runCli([...args, 'prune', '--older-than', '30d', '--records-older-than', '90d']);
    assert.is(real.code, 0, real.stderr);
    assert.match(real.stdout, /Removed 1 asset records recorded before \d{4}-\d\d-\d\dT[\d:.]+Z \(--records-older-than\)\./);
    assert.equal(await keys(), ['today']);
    const bad = await runCli([...args, 'prune', '--older-than', '30d', '--records-older-than', 'a year']);
    assert.is(bad.code, 2);
    assert.match(bad.stderr, /Invalid age "a year" for --records-older-than: write a number followed by d, h or m, such as 30d\./);
  } finally {
    await i.close();
  }
});

test.run();
