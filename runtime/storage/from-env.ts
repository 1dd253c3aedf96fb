// Chooses the storage backend from configuration, the one place that reads
// STORAGE and the S3_* variables:
//   STORAGE=local (default)  files under <dataDir>/assets
//   STORAGE=s3               S3_BUCKET (required), S3_PREFIX, S3_REGION, S3_ENDPOINT,
//                            S3_CACHE_DIR (default <tmpdir>/pjm-s3-cache)
// Credentials are never read here: the AWS SDK's default chain finds them.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeError } from '../errors.ts';
import { LocalStorage } from './local.ts';
import { S3Storage } from './s3.ts';
import type { Storage } from './storage.ts';

export const STORAGE_KINDS = ['local', 's3'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

type Env = Readonly<Record<string, string | undefined>>;

/** The storage configuration, checked: what STORAGE and S3_* ask for, before anything is built. */
export type StorageSettings =
  | { readonly kind: 'local' }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      readonly prefix: string | undefined;
      readonly region: string | undefined;
      readonly endpoint: string | undefined;
      readonly cacheDir: string;
    };

/** Reads and checks STORAGE and S3_*; throws a RuntimeError of reason 'storage' naming the variable. */
export function storageSettingsFromEnv(env: Env): StorageSettings {
  const kind = (env.STORAGE ?? '').trim().toLowerCase() || 'local';
  if (kind === 'local') return { kind: 'local' };
  if (kind === 's3') {
    return {
      kind: 's3',
      bucket: bucketFrom(env.S3_BUCKET),
      prefix: value(env.S3_PREFIX),
      region: value(env.S3_REGION),
      endpoint: endpointFrom(env.S3_ENDPOINT),
      // A cache, not a copy of record: S3 holds every version, so it lives on scratch space
      // (in Kubernetes the pod's /tmp emptyDir), leaving the data volume to the lineage store.
      cacheDir: value(env.S3_CACHE_DIR) ?? join(tmpdir(), 'pjm-s3-cache'),
    };
  }
  throw new RuntimeError('storage', `STORAGE=${JSON.stringify(env.STORAGE)} is not a storage backend; set STORAGE to one of: ${STORAGE_KINDS.join(', ')}.`);
}

/** The backend the settings describe. */
export function storageFromSettings(settings: StorageSettings, dataDir: string): Storage {
  if (settings.kind === 'local') return new LocalStorage(join(dataDir, 'assets'));
  const { kind: _kind, ...s3 } = settings;
  return new S3Storage(s3);
}

export function storageFromEnv(env: Env, dataDir: string): Storage {
  return storageFromSettings(storageSettingsFromEnv(env), dataDir);
}

function value(raw: string | undefined): string | undefined {
  const v = raw?.trim();
  return v ? v : undefined;
}

function bucketFrom(raw: string | undefined): string {
  const bucket = value(raw);
  if (!bucket)
    throw new RuntimeError(
      'storage',
      'STORAGE=s3 needs S3_BUCKET, the name of the bucket to store asset versions in; set S3_BUCKET (and S3_PREFIX, S3_REGION as needed).',
    );
  if (bucket.startsWith('s3://') || bucket.includes('/')) {
    throw new RuntimeError(
      'storage',
      `S3_BUCKET=${JSON.stringify(raw)} is not a bucket name; give the bare name (such as "my-bucket") and put any path in S3_PREFIX.`,
    );
  }
  return bucket;
}

function endpointFrom(raw: string | undefined): string | undefined {
  const endpoint = value(raw);
  if (endpoint === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new RuntimeError('storage', `S3_ENDPOINT=${JSON.stringify(raw)} is not a URL; give one such as http://127.0.0.1:9000, or leave it unset for AWS S3.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RuntimeError('storage', `S3_ENDPOINT=${JSON.stringify(raw)} must be an http:// or https:// URL.`);
  }
  return endpoint;
}
