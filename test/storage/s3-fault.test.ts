// The S3 store dies in the middle of a multipart upload: the step fails, no
// pointer is committed, the previous version stays current and readable, the
// lineage store is intact, and a rerun once the store is back completes.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defineAsset, defineDefinitions, Instance, materialize, type AssetDefinition, type AssetKey } from '../../runtime/index.ts';
import { MIN_PART_SIZE_BYTES, parseS3Location } from '../../runtime/storage/s3.ts';
import { tempDir } from '../support/tmp.ts';
import { TestS3Server } from './s3-server.ts';

const SIZE = 3 * MIN_PART_SIZE_BYTES; // a three-part upload at the minimum part size
const state = { seed: 1 };
const contentOf = (seed: number) => Buffer.alloc(SIZE, seed);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const model = defineAsset({
  key: 'cloud/model',
  codeVersion: '1',
  io: 'file',
  materialize: () => ({ file: contentOf(state.seed) }),
});
const summary = defineAsset({
  key: 'cloud/summary',
  codeVersion: '1',
  deps: ['cloud/model'],
  io: 'json',
  async materialize(ctx) {
    const [path] = await ctx.input('model').paths();
    const bytes = await readFile(path!);
    return { value: { bytes: bytes.length, firstByte: bytes[0]!, sha256: sha(bytes) } };
  },
});
const defs = defineDefinitions({ assets: [model, summary] as AssetDefinition<unknown>[] });

const server = await TestS3Server.start('fault-assets');
const dataDir = tempDir('s3fault');
// Parts one at a time and one retry, so the cut lands between parts and the step fails quickly.
const storage = server.storage({ prefix: 'pjm', partSizeBytes: MIN_PART_SIZE_BYTES, queueSize: 1, maxAttempts: 2 });
const instance = await Instance.open(defs, { dataDir, storage });
const MODEL = 'cloud/model' as AssetKey;
const SUMMARY = 'cloud/summary' as AssetKey;

test('with the store up, the first version is published', async () => {
  const run = await materialize(instance, { trigger: 'test' });
  assert.is(run.status, 'succeeded', JSON.stringify(run.failures));
  const cur = (await instance.store.current(MODEL, ''))!;
  assert.ok(
    server.events.some((e) => e.name === 'ObjectCreated:Post' && e.key === parseS3Location(cur.location!).key),
    'uploaded as multipart',
  );
});

test('the store stops mid-upload: the step fails, no pointer is committed, the previous version stays current and readable', async () => {
  const v1 = (await instance.store.current(MODEL, ''))!;
  const publishedBefore = (await instance.store.history(MODEL, { limit: 100 })).filter((m) => m.status === 'published').length;

  // Stop the server the moment the second part of the new version arrives.
  let cutAt: string | undefined;
  server.onRequest = (req) => {
    if (cutAt === undefined && req.method === 'PUT' && req.url?.includes('partNumber=2')) {
      cutAt = req.url;
      void server.stop();
    }
  };
  state.seed = 2;
  const run = await materialize(instance, { selection: 'cloud/model', force: true, trigger: 'test' });
  server.onRequest = undefined;

  assert.ok(cutAt, 'the server was stopped during the upload of part 2');
  assert.not.ok(server.running);
  assert.is(run.status, 'failed');
  assert.is(run.failures.length, 1);
  assert.is(run.failures[0]!.asset, 'cloud/model');
  assert.match(run.failures[0]!.error, /Uploading cloud\/model .* failed/);
  assert.match(run.failures[0]!.error, /Nothing was committed/);

  // No pointer moved, no published row was added: the store still names version 1.
  const cur = (await instance.store.current(MODEL, ''))!;
  assert.is(cur.id, v1.id);
  assert.is(cur.location, v1.location);
  assert.is((await instance.store.history(MODEL, { limit: 100 })).filter((m) => m.status === 'published').length, publishedBefore);
  assert.equal(await instance.store.checkConsistency(), [], 'the store is consistent');

  // Version 1 is readable while the store is down (cached copy) ...
  assert.is(sha(await readFile(await instance.storage.localPath(v1.location!))), sha(contentOf(1)));

  // ... and from S3 once it is back, by a reader with no cache; the new version's object does not exist.
  await server.restart();
  const fresh = server.storage({ prefix: 'pjm' });
  assert.is(sha(await readFile(await fresh.localPath(v1.location!))), sha(contentOf(1)));
  const v2Key = storage.keyFor({
    asset: MODEL,
    partition: '',
    dataVersion: createHash('sha256').update(contentOf(2)).digest('hex').slice(0, 16) as never,
    io: 'file',
  });
  const head = await fresh.client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: v2Key })).then(
    () => 200,
    (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode,
  );
  assert.is(head, 404, 'an interrupted multipart upload leaves no object');
});

test('after the store restarts, a rerun completes and downstream reads the new version', async () => {
  // The same request as the one that failed, then the usual "whatever is stale" run.
  const rerun = await materialize(instance, { selection: 'cloud/model', force: true, trigger: 'test' });
  assert.is(rerun.status, 'succeeded', JSON.stringify(rerun.failures));
  assert.is(rerun.counts.materialized, 1);
  const catchUp = await materialize(instance, { trigger: 'test' });
  assert.is(catchUp.status, 'succeeded', JSON.stringify(catchUp.failures));
  assert.is(catchUp.counts.materialized, 1, 'the summary, stale since the model changed');
  const cur = (await instance.store.current(MODEL, ''))!;
  assert.is(sha(await readFile(await instance.storage.localPath(cur.location!))), sha(contentOf(2)));
  const s = JSON.parse(await readFile(await instance.storage.localPath((await instance.store.current(SUMMARY, ''))!.location!), 'utf8')) as {
    bytes: number;
    firstByte: number;
  };
  assert.equal(s, { bytes: SIZE, firstByte: 2, sha256: sha(contentOf(2)) });
  assert.equal(await instance.store.checkConsistency(), [], 'the store is consistent');
});

test.after(async () => {
  await instance.close();
  await server.stop();
});

test.run();
