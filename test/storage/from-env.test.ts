// Choosing the storage backend from STORAGE and S3_*: local by default, S3 when
// asked, and every misconfiguration named with the variable to fix.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance, isRuntimeError, LocalStorage, S3Storage, storageFromEnv } from '../../runtime/index.ts';
import exampleDefs from '../fixtures/runtime/example-defs.ts';
import { tempDir } from '../support/tmp.ts';

const dataDir = '/srv/pjm-data';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    assert.ok(isRuntimeError(err, 'storage'), `a RuntimeError of reason storage, got ${String(err)}`);
    return err as Error;
  }
  throw new Error('expected an error');
}

test('without STORAGE, or with STORAGE=local, assets are files under <dataDir>/assets', () => {
  for (const env of [{}, { STORAGE: 'local' }, { STORAGE: ' Local ' }, { STORAGE: '' }]) {
    const s = storageFromEnv(env, dataDir);
    assert.instance(s, LocalStorage);
    assert.is((s as LocalStorage).root, join(dataDir, 'assets'));
  }
});

test('STORAGE=s3 builds the S3 backend from S3_BUCKET, S3_PREFIX, S3_REGION, S3_ENDPOINT', () => {
  const s = storageFromEnv(
    { STORAGE: 's3', S3_BUCKET: 'pjm-lmp-assets-123', S3_PREFIX: 'pjm-lmp/', S3_REGION: 'us-east-1', S3_ENDPOINT: 'http://127.0.0.1:9000' },
    dataDir,
  );
  assert.instance(s, S3Storage);
  const s3 = s as S3Storage;
  assert.is(s3.kind, 's3');
  assert.is(s3.bucket, 'pjm-lmp-assets-123');
  assert.is(s3.prefix, 'pjm-lmp');
  assert.is(s3.cacheDir, join(tmpdir(), 'pjm-s3-cache'), 'a cache on scratch space, not on the data volume');
  assert.is(s3.description, 's3://pjm-lmp-assets-123/pjm-lmp at http://127.0.0.1:9000');

  const aws = storageFromEnv({ STORAGE: 's3', S3_BUCKET: 'b', S3_CACHE_DIR: '/tmp/cache' }, dataDir) as S3Storage;
  assert.is(aws.prefix, '');
  assert.is(aws.endpoint, undefined);
  assert.is(aws.cacheDir, '/tmp/cache');
  assert.is(aws.description, 's3://b');
});

test('STORAGE=s3 without S3_BUCKET names the missing variable', () => {
  assert.match(errorOf(() => storageFromEnv({ STORAGE: 's3' }, dataDir)).message, /needs S3_BUCKET/);
  assert.match(errorOf(() => storageFromEnv({ STORAGE: 's3', S3_BUCKET: '  ' }, dataDir)).message, /needs S3_BUCKET/);
});

test('a bucket given as a URL, or a bad endpoint, is refused with the fix', () => {
  assert.match(errorOf(() => storageFromEnv({ STORAGE: 's3', S3_BUCKET: 's3://b/prefix' }, dataDir)).message, /S3_PREFIX/);
  assert.match(errorOf(() => storageFromEnv({ STORAGE: 's3', S3_BUCKET: 'b', S3_ENDPOINT: 'localhost:9000' }, dataDir)).message, /S3_ENDPOINT/);
  assert.match(errorOf(() => storageFromEnv({ STORAGE: 's3', S3_BUCKET: 'b', S3_PREFIX: 'a/../b' }, dataDir)).message, /prefix/);
});

test('an unknown STORAGE value names the accepted ones', () => {
  const message = errorOf(() => storageFromEnv({ STORAGE: 'gcs' }, dataDir)).message;
  assert.match(message, /"gcs"/);
  assert.match(message, /local, s3/);
});

test('Instance.open without a storage option follows the environment', async () => {
  const saved = { ...process.env };
  try {
    process.env.STORAGE = 's3';
    process.env.S3_BUCKET = 'from-env';
    const dir = tempDir('fromenv');
    const i = await Instance.open(exampleDefs, { dataDir: dir });
    assert.is(i.storage.kind, 's3');
    assert.is(i.storage.description, 's3://from-env');
    await i.close();
    delete process.env.STORAGE;
    const j = await Instance.open(exampleDefs, { dataDir: dir });
    assert.is(j.storage.description, `local ${join(dir, 'assets')}`);
    await j.close();
  } finally {
    for (const k of ['STORAGE', 'S3_BUCKET']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
});

test.run();
