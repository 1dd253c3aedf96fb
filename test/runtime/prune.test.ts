// prune: superseded versions go, current ones and their lineage stay; orphan files (published
// by a process that died before recording them) go once older than the grace period, but never
// while a live run holds their asset partition, and never a file a row points at.
import { copyFileSync, existsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance, LocalStorage, materialize, prune, type AssetKey } from '../../runtime/index.ts';
import exampleDefs from '../fixtures/runtime/example-defs.ts';
import { tempDir } from '../support/tmp.ts';

const HOUR = 3_600_000;

test('orphan files older than the grace period are removed; recorded, recent and leased ones stay', async () => {
  const i = Instance.open(exampleDefs, { dataDir: tempDir('prune') });
  const run = await materialize(i, { trigger: 'test' });
  assert.is(run.status, 'succeeded');
  const root = (i.storage as LocalStorage).root;
  const recorded = i.store.current('example/readings' as AssetKey, '2024-01-01')!.location!;
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
  assert.ok(i.store.tryAcquireLease('example/readings' as AssetKey, '2024-01-04', 'a-live-run', Date.now(), 10 * 60_000).acquired);

  const dry = await prune(i, { olderThanMs: 30 * 24 * HOUR, dryRun: true });
  assert.is(dry.orphans, 2, 'a dry run counts both old orphans');
  assert.ok(existsSync(old) && existsSync(leased));

  const r = await prune(i, { olderThanMs: 30 * 24 * HOUR });
  assert.is(r.orphans, 1);
  assert.is(r.busy, 1);
  assert.is(existsSync(old), false, 'the old orphan is gone');
  assert.ok(existsSync(recent), 'an orphan within the grace period stays (a run may be about to record it)');
  assert.ok(existsSync(leased), 'an orphan whose partition a live run holds stays');
  for (const [, partitions] of i.store.snapshot()) for (const [, cur] of partitions) assert.ok(existsSync(join(root, cur.location!)), `${cur.location} is still there`);

  i.store.releaseLease('example/readings' as AssetKey, '2024-01-04', 'a-live-run');
  const later = await prune(i, { olderThanMs: 30 * 24 * HOUR });
  assert.is(later.orphans, 1);
  assert.is(existsSync(leased), false, 'once the run let go, the orphan goes too');
  // Scratch directories of steps are not published files.
  for await (const f of i.storage.list()) assert.not.match(f.location, /^\./);
  i.close();
});

test.run();
