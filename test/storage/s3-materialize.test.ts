// The runtime's example graph materialized with asset files in S3: every
// pointer in the lineage store names an object that exists, downstream assets
// read their upstream versions through the download cache, and a process with
// an empty cache (another pod) downloads exactly what it reads, once.
import { readFile } from 'node:fs/promises';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance, materialize, prune, type AssetKey } from '../../runtime/index.ts';
import { parseS3Location } from '../../runtime/storage/s3.ts';
import exampleDefs from '../fixtures/runtime/example-defs.ts';
import { tempDir } from '../support/tmp.ts';
import { TestS3Server } from './s3-server.ts';

const server = await TestS3Server.start('cloud-assets');
const dataDir = tempDir('s3mat');
const readingsGets = () => server.requests.filter((r) => r.method === 'GET' && r.url.includes('/example/readings/')).length;

test('the example graph materializes into S3 and every pointer names a stored object', async () => {
  const storage = server.storage({ prefix: 'runtime-example' });
  const i = await Instance.open(exampleDefs, { dataDir, storage });
  const run = await materialize(i, { trigger: 'test' });
  assert.is(run.status, 'succeeded', JSON.stringify(run.failures));
  assert.is(run.counts.materialized, 22, '10 readings + 10 rolling + total + report');

  const snapshot = await i.store.snapshot();
  let pointers = 0;
  for (const [, partitions] of snapshot) {
    for (const [, cur] of partitions) {
      pointers++;
      assert.ok(cur.location?.startsWith('s3://cloud-assets/runtime-example/example/'), String(cur.location));
      const ref = parseS3Location(cur.location!);
      const head = await storage.client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
      assert.ok((head.ContentLength ?? 0) > 0, `${cur.location} exists`);
    }
  }
  assert.is(pointers, 22);

  // Downstream read upstream: the report carries the total of 10 days x (0 + 1 + ... + 23).
  const report = (await i.store.current('example/report' as AssetKey, ''))!;
  const text = JSON.parse(await readFile(await i.storage.localPath(report.location!), 'utf8')) as { total: number; text: string };
  assert.is(text.total, 2760);
  assert.is(text.text, 'The total is 2760.');
  // The writer kept each uploaded version as its cached copy, so downstream steps read upstream with no download.
  assert.is(readingsGets(), 0);
  await i.close();
});

test('a process with an empty cache downloads the upstream versions it reads, once, and recomputes the same data', async () => {
  // Same lineage store, a fresh cache: as a serving pod or the next CronJob pod on another node would be.
  const storage = server.storage({ prefix: 'runtime-example' });
  const i = await Instance.open(exampleDefs, { dataDir, storage });
  const before = (await i.store.current('example/total' as AssetKey, ''))!;
  const getsBefore = readingsGets();

  const run = await materialize(i, { selection: 'example/total', force: true, trigger: 'test' });
  assert.is(run.status, 'succeeded', JSON.stringify(run.failures));
  assert.is(readingsGets() - getsBefore, 10, 'each of the 10 readings partitions downloaded once');
  const after = (await i.store.current('example/total' as AssetKey, ''))!;
  assert.is(after.dataVersion, before.dataVersion, 'the data read from S3 is the data written');
  assert.is(run.counts.unchanged, 1);

  const again = await materialize(i, { selection: 'example/total', force: true, trigger: 'test' });
  assert.is(again.status, 'succeeded');
  assert.is(readingsGets() - getsBefore, 10, 'the second run read from the cache only');
  await i.close();
});

test('prune lists the bucket prefix and removes an orphan object (uploaded, never recorded), and nothing a row points at', async () => {
  const storage = server.storage({ prefix: 'runtime-example' });
  const i = await Instance.open(exampleDefs, { dataDir, storage });
  const orphanKey = 'runtime-example/example/readings/2024-01-02/0123456789abcdef.parquet';
  await storage.client.send(new PutObjectCommand({ Bucket: 'cloud-assets', Key: orphanKey, Body: 'left by a process that died before its commit' }));
  // Another application's object under another prefix is none of prune's business.
  await storage.client.send(new PutObjectCommand({ Bucket: 'cloud-assets', Key: 'elsewhere/example/readings/2024-01-02/0123456789abcdef.parquet', Body: 'x' }));
  const listed: string[] = [];
  for await (const f of storage.list()) listed.push(f.location);
  assert.ok(listed.includes(`s3://cloud-assets/${orphanKey}`));
  assert.ok(
    listed.every((l) => l.startsWith('s3://cloud-assets/runtime-example/')),
    listed.join('\n'),
  );

  const r = await prune(i, { olderThanMs: 30 * 86_400_000, orphanGraceMs: 0 });
  assert.is(r.orphans, 1);
  const gone = await storage.client.send(new HeadObjectCommand({ Bucket: 'cloud-assets', Key: orphanKey })).then(
    () => false,
    () => true,
  );
  assert.ok(gone, 'the orphan object was deleted');
  for (const [, partitions] of await i.store.snapshot()) {
    for (const [, cur] of partitions) {
      const ref = parseS3Location(cur.location!);
      await storage.client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    }
  }
  await i.close();
});

test.after(async () => {
  await server.stop();
});

test.run();
