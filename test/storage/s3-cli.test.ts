// The CLI in cloud mode, configured only by environment as the CronJob is:
// STORAGE=s3 with the S3_* variables sends every asset version to the bucket,
// and a missing S3_BUCKET stops the command with the variable's name.
import { openLineageStore, sqliteStorePath } from '../../runtime/store/open-store.ts';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';
import { TestS3Server } from './s3-server.ts';

const DEFS = 'test/fixtures/runtime/example-defs.ts';
const server = await TestS3Server.start('cron-assets');

test('STORAGE=s3: `materialize` stores every version in the bucket and `status` reads them back as fresh', async () => {
  const dataDir = tempDir('s3cli');
  const env = {
    STORAGE: 's3',
    S3_BUCKET: 'cron-assets',
    S3_PREFIX: 'pjm-lmp',
    S3_ENDPOINT: server.endpoint,
    S3_CACHE_DIR: join(dataDir, 'cache'),
    EXAMPLE_END: '2024-01-03',
  };
  const run = await runCli(['--definitions', DEFS, '--data-dir', dataDir, '--trigger', 'cron'], env);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /succeeded .*: 8 materialized/);

  const store = await openLineageStore(sqliteStorePath(dataDir));
  const locations: string[] = [];
  for (const asset of (await store.snapshot()).keys()) {
    for (const m of await store.history(asset, { limit: 10_000 })) if (m.status === 'published' && m.location) locations.push(m.location);
  }
  await store.close();
  assert.is(locations.length, 8);
  for (const l of locations) assert.ok(l.startsWith('s3://cron-assets/pjm-lmp/example/'), l);
  assert.is(server.events.filter((e) => e.name.startsWith('ObjectCreated')).length, 8);

  const status = await runCli(['--definitions', DEFS, '--data-dir', dataDir, 'status'], env);
  assert.is(status.code, 0, status.stderr);
  assert.match(status.stdout, /example\/readings\s+FRESH\s+3\/0\/0/);
});

test('STORAGE=s3 without S3_BUCKET fails before doing anything, naming the variable', async () => {
  const r = await runCli(['--definitions', DEFS, '--data-dir', tempDir('s3cli-bad')], { STORAGE: 's3', S3_BUCKET: '' });
  assert.is.not(r.code, 0);
  assert.match(r.stderr + r.stdout, /S3_BUCKET/);
});

test.after(async () => {
  await server.stop();
});

test.run();
