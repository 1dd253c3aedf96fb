// The S3 backend against a real S3-compatible server on loopback: a published
// version lands under its content-addressed key and reads back through the
// download cache; the same version is not uploaded twice; objects above the
// part size go up as multipart uploads; a removed or corrupt object is never
// served from the cache.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isRuntimeError, type AssetKey, type IoKind } from '../../runtime/index.ts';
import { MIN_PART_SIZE_BYTES, parseS3Location, type S3Storage } from '../../runtime/storage/s3.ts';
import { dataVersionOfBytes, type DataVersion } from '../../runtime/versions.ts';
import { TestS3Server } from './s3-server.ts';

const server = await TestS3Server.start('lmp-assets');
const PART = MIN_PART_SIZE_BYTES;

/** Writes `bytes` as a finished step output in a temp dir of `storage`, and publishes it. */
async function publishBytes(storage: S3Storage, asset: string, partition: string, bytes: Uint8Array, io: IoKind = 'json') {
  const dir = await storage.makeTempDir(`test-${asset}`);
  const tempPath = join(dir, 'out');
  await writeFile(tempPath, bytes);
  const dataVersion = dataVersionOfBytes(bytes);
  const location = await storage.publish({ tempPath, asset: asset as AssetKey, partition, dataVersion, io });
  return { location, dataVersion, tempPath, key: parseS3Location(location).key };
}

/** Bytes that differ per seed and do not compress to nothing. */
function bytesOf(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, Math.min(i, size - 4));
  }
  return b;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const puts = (key: string) => server.events.filter((e) => e.key === key && e.name === 'ObjectCreated:Put').length;
const multipartCompletes = (key: string) => server.events.filter((e) => e.key === key && e.name === 'ObjectCreated:Post').length;
const uploadParts = (key: string) => server.requestsFor(key).filter((r) => r.method === 'PUT' && r.url.includes('partNumber=')).length;
const gets = (key: string) => server.requestsFor(key).filter((r) => r.method === 'GET').length;

test('a published version is stored under s3://bucket/prefix/<asset>/<partition>/<version>.<ext> and reads back', async () => {
  const writer = server.storage({ prefix: '/pjm-lmp/dev/' });
  const body = Buffer.from(JSON.stringify({ node: 51288, lmp: [21.5, 23.25] }));
  const { location, dataVersion, tempPath, key } = await publishBytes(writer, 'pjm/validated/prices', '2024-01-02', body);

  assert.is(location, `s3://lmp-assets/pjm-lmp/dev/pjm/validated/prices/2024-01-02/${dataVersion}.json`);
  assert.is(writer.description, `s3://lmp-assets/pjm-lmp/dev at ${server.endpoint}`);
  assert.is(puts(key), 1, 'one PUT of the object');
  assert.not.ok(existsSync(tempPath), 'the temporary file was consumed, as the local backend moves it');

  // The writer kept what it uploaded as its cached copy: no download.
  const own = await writer.localPath(location);
  assert.equal(await readFile(own), body);
  assert.is(gets(key), 0);

  // Another process (a fresh cache) downloads it once, then reuses its copy; concurrent readers share one download.
  const reader = server.storage({ prefix: 'pjm-lmp/dev' });
  const [a, b] = await Promise.all([reader.localPath(location), reader.localPath(location)]);
  assert.is(a, b);
  assert.ok(a.startsWith(reader.cacheDir), a);
  assert.equal(await readFile(a), body);
  assert.is(gets(key), 1, 'one GET for two concurrent readers');
  await reader.localPath(location);
  assert.is(gets(key), 1, 'a cached version is not downloaded again');

  // An unpartitioned asset is stored under "_", as in the local layout.
  const whole = await publishBytes(writer, 'pjm/model', '', Buffer.from('{"trees":[]}'), 'file');
  assert.is(whole.location, `s3://lmp-assets/pjm-lmp/dev/pjm/model/_/${whole.dataVersion}.bin`);
});

test('content addressing: publishing a version that is already stored uploads nothing', async () => {
  const storage = server.storage({ prefix: 'ca' });
  const body = Buffer.from('{"same":"bytes"}');
  const first = await publishBytes(storage, 'example/total', '', body);
  const headsBefore = server.requestsFor(first.key).filter((r) => r.method === 'HEAD').length;
  const second = await publishBytes(server.storage({ prefix: 'ca' }), 'example/total', '', body);
  assert.is(second.location, first.location);
  assert.is(puts(first.key), 1, 'still exactly one PUT');
  assert.is(server.requestsFor(first.key).filter((r) => r.method === 'HEAD').length, headsBefore + 1, 'the second publish only asked whether it exists');
});

test('an object above the part size goes up as a multipart upload; one below it as a single PUT', async () => {
  const storage = server.storage({ prefix: 'mp', partSizeBytes: PART, queueSize: 2 });
  const big = bytesOf(2 * PART + 123_457, 7); // three parts: 5 MiB, 5 MiB, the rest
  const small = bytesOf(PART - 1, 8);
  const b = await publishBytes(storage, 'pjm/features', '', big, 'table');
  const s = await publishBytes(storage, 'pjm/forecast', '', small, 'table');

  assert.is(uploadParts(b.key), 3, 'three UploadPart requests');
  assert.is(multipartCompletes(b.key), 1, 'completed as a multipart upload');
  assert.is(puts(b.key), 0);
  assert.is(uploadParts(s.key), 0);
  assert.is(puts(s.key), 1, 'the small one is a single PUT');

  // The assembled object is byte for byte the file (the download checks the hash its key names, too).
  const copy = await server.storage({ prefix: 'mp' }).localPath(b.location);
  assert.is(sha(await readFile(copy)), sha(big));
});

test("a part size under S3's 5 MiB minimum is refused with the reason", () => {
  try {
    server.storage({ partSizeBytes: 1024 * 1024 });
    assert.unreachable('expected an error');
  } catch (err) {
    assert.ok(isRuntimeError(err, 'storage'));
    assert.match((err as Error).message, /5 MiB/);
  }
});

test('remove deletes the object and the cached copy; reading it afterwards says what to do', async () => {
  const storage = server.storage({ prefix: 'rm' });
  const { location, key } = await publishBytes(storage, 'example/report', '', Buffer.from('{"text":"bye"}'));
  const cached = await storage.localPath(location);
  await storage.remove(location);
  assert.is(server.events.filter((e) => e.key === key && e.name === 'ObjectRemoved:Delete').length, 1);
  assert.not.ok(existsSync(cached));
  await storage.remove(location); // missing is not an error
  try {
    await storage.localPath(location);
    assert.unreachable('expected an error');
  } catch (err) {
    assert.ok(isRuntimeError(err, 'storage'));
    assert.match((err as Error).message, location);
    assert.match((err as Error).message, /--force/);
  }
});

test('a downloaded object whose content does not match the version its key names never enters the cache', async () => {
  const storage = server.storage({ prefix: 'bad' });
  const claimed = dataVersionOfBytes(Buffer.from('what the key promises')) as DataVersion;
  const key = storage.keyFor({ asset: 'example/total' as AssetKey, partition: '', dataVersion: claimed, io: 'json' });
  await storage.client.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: 'something else' }));
  const location = `s3://${server.bucket}/${key}`;
  try {
    await storage.localPath(location);
    assert.unreachable('expected an error');
  } catch (err) {
    assert.ok(isRuntimeError(err, 'storage'));
    assert.match((err as Error).message, claimed);
  }
  const cache = storage.cachePath(parseS3Location(location));
  assert.not.ok(existsSync(cache), 'no cached copy');
});

test('a location recorded by the local backend is refused with a way out', async () => {
  const storage = server.storage();
  for (const bad of ['example/total/_/0123456789abcdef.json', 's3://bucket-only', 's3://b/a/../../etc/passwd']) {
    try {
      await storage.localPath(bad);
      assert.unreachable(`expected an error for ${bad}`);
    } catch (err) {
      assert.ok(isRuntimeError(err, 'storage'), String(err));
    }
  }
  try {
    await storage.localPath('example/total/_/0123456789abcdef.json');
  } catch (err) {
    assert.match((err as Error).message, /STORAGE=local/);
  }
});

test('an upload to a bucket that does not exist fails and names the location', async () => {
  const storage = server.storage({ bucket: 'no-such-bucket' });
  const dir = await storage.makeTempDir('nobucket');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'x'), '{}');
  try {
    await storage.publish({
      tempPath: join(dir, 'x'),
      asset: 'example/total' as AssetKey,
      partition: '',
      dataVersion: dataVersionOfBytes(Buffer.from('{}')),
      io: 'json',
    });
    assert.unreachable('expected an error');
  } catch (err) {
    assert.ok(isRuntimeError(err, 'storage'));
    assert.match((err as Error).message, 's3://no-such-bucket/example/total/_/');
    assert.match((err as Error).message, /NoSuchBucket/);
    assert.match((err as Error).message, /Nothing was committed/);
  }
});

test('a store that answers 403 for a missing key (listing denied outside the prefix) still gets the upload', async () => {
  // A proxy in front of the server answers HEAD of a missing key as S3 does for a role
  // without s3:ListBucket on the bucket: 403 instead of 404.
  const target = new URL(server.endpoint);
  const proxy = createServer((req, res) => {
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const status = req.method === 'HEAD' && up.statusCode === 404 ? 403 : (up.statusCode ?? 502);
      res.writeHead(status, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const storage = server.storage({ prefix: 'iam', endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    const { location, key } = await publishBytes(storage, 'example/total', '', Buffer.from('{"total":2760}'));
    assert.is(puts(key), 1);
    assert.equal(await readFile(await server.storage({ prefix: 'iam' }).localPath(location), 'utf8'), '{"total":2760}');
  } finally {
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
  }
});

test.after(async () => {
  await server.stop();
});

test.run();
