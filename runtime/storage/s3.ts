// S3 storage (and S3-compatible stores such as MinIO): each asset version is an
// immutable object under a content-addressed key, `s3://bucket/prefix/<asset>/
// <partition>/<data version>.<ext>`. Publishing uploads the object (multipart
// above the part size) and returns only once S3 has it, so the executor commits
// the pointer in the lineage store after the object exists: a crash or a lost
// connection mid-upload leaves no pointer, and an incomplete multipart upload is
// never visible as an object. Readers get a local copy from a download cache,
// because DuckDB's httpfs extension cannot be fetched at run time here (see
// infrastructure/STORAGE.md for how reads would go with it).
import { randomBytes, createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';
import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';

// The AWS SDK takes a tenth of a second to load; every CLI start (status, a no-op
// run) would pay it though most use local storage. Load it on first use instead.
const requireSdk = createRequire(import.meta.url);
let sdkModules: { s3: typeof import('@aws-sdk/client-s3'); storage: typeof import('@aws-sdk/lib-storage') } | undefined;
function sdk() {
  sdkModules ??= { s3: requireSdk('@aws-sdk/client-s3'), storage: requireSdk('@aws-sdk/lib-storage') };
  return sdkModules;
}
import { errorMessage, RuntimeError } from '../errors.ts';
import { describePartition } from '../keys.ts';
import { exists, fsyncPath } from './fs-helpers.ts';
import { ownerOfVersionedPath, versionedPath, type FileCheck, type PublishRequest, type ScratchDir, type Storage, type StoredFile } from './storage.ts';
import { scratchDirs } from './local.ts';
import { dataVersionOfFile, type DataVersion } from '../versions.ts';

/** S3 refuses multipart parts under 5 MiB (except the last one). */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
const DEFAULT_PART_SIZE_BYTES = 8 * 1024 * 1024;

export interface S3StorageOptions {
  readonly bucket: string;
  /** Key prefix of every object, without slashes at either end ("" for the bucket root). */
  readonly prefix?: string;
  /** AWS region; when absent the SDK's chain decides (AWS_REGION, the profile), or us-east-1 with an endpoint. */
  readonly region?: string;
  /** Endpoint of an S3-compatible store (MinIO, s3rver); switches to path-style addressing. */
  readonly endpoint?: string;
  /** Local directory for downloaded versions and for steps' temporary files. */
  readonly cacheDir: string;
  /** Objects larger than this are uploaded in parts of this size. Default 8 MiB, at least 5 MiB. */
  readonly partSizeBytes?: number;
  /** Parts uploaded at once. Default 4; memory used is about queueSize × partSizeBytes. */
  readonly queueSize?: number;
  /** Attempts per S3 request, retries included. Default 3 (the SDK's). */
  readonly maxAttempts?: number;
}

/** Where an object lives, parsed from a location recorded in the store. */
export interface S3ObjectRef {
  readonly bucket: string;
  readonly key: string;
}

export class S3Storage implements Storage {
  readonly kind = 's3';
  readonly bucket: string;
  readonly prefix: string;
  readonly endpoint: string | undefined;
  readonly cacheDir: string;
  readonly partSizeBytes: number;
  readonly queueSize: number;
  /** The SDK client; credentials come from the default provider chain (env, profile, IRSA web identity, instance role). */
  readonly client: S3Client;
  /** Downloads in flight, so concurrent readers of one version share one download. */
  private readonly downloads = new Map<string, Promise<string>>();

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix ?? '');
    this.endpoint = options.endpoint;
    this.cacheDir = resolve(options.cacheDir);
    this.partSizeBytes = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
    this.queueSize = Math.max(1, options.queueSize ?? 4);
    if (this.partSizeBytes < MIN_PART_SIZE_BYTES) {
      throw new RuntimeError(
        'storage',
        `S3 part size ${this.partSizeBytes} bytes is below S3's minimum of ${MIN_PART_SIZE_BYTES} (5 MiB); raise partSizeBytes.`,
      );
    }
    this.client = new (sdk().s3.S3Client)({
      // S3-compatible stores mostly ignore the region, but requests are signed with one.
      region: options.region ?? (options.endpoint ? 'us-east-1' : undefined),
      ...(options.endpoint
        ? {
            endpoint: options.endpoint,
            forcePathStyle: true,
            // Several S3-compatible stores reject the CRC checksums the SDK now sends by
            // default; send and check them only where the API requires them.
            requestChecksumCalculation: 'WHEN_REQUIRED' as const,
            responseChecksumValidation: 'WHEN_REQUIRED' as const,
          }
        : {}),
      maxAttempts: options.maxAttempts,
      // A store that stops answering must fail the step, not hang it.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    });
  }

  get description(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}${this.endpoint ? ` at ${this.endpoint}` : ''}`;
  }

  /** The object key of an asset version. */
  keyFor(req: Pick<PublishRequest, 'asset' | 'partition' | 'dataVersion' | 'io'>): string {
    const rel = versionedPath(req.asset, req.partition, req.dataVersion, req.io);
    return this.prefix ? `${this.prefix}/${rel}` : rel;
  }

  async publish(req: PublishRequest): Promise<string> {
    const key = this.keyFor(req);
    const location = formatS3Location({ bucket: this.bucket, key });
    const what = `${describePartition(req.asset, req.partition)} (version ${req.dataVersion}) to ${location}`;
    const { size } = await stat(req.tempPath);
    let body: ReturnType<typeof createReadStream> | undefined;
    try {
      // Content-addressed, but a name proves nothing: an object under this key is reused
      // only when its size and then its bytes' hash say it is this data version.
      const existing = await this.objectSize({ bucket: this.bucket, key });
      const reusable = existing === size && (await this.objectVersion({ bucket: this.bucket, key }, req.dataVersion.length)) === req.dataVersion;
      if (!reusable) {
        body = createReadStream(req.tempPath);
        const upload = new (sdk().storage.Upload)({
          client: this.client,
          params: { Bucket: this.bucket, Key: key, Body: body, ContentLength: size, Metadata: { 'data-version': req.dataVersion } },
          partSize: this.partSizeBytes,
          queueSize: this.queueSize,
          // Abort the multipart upload on failure so no parts linger (a lifecycle rule catches
          // the ones an abort cannot reach, such as when the store itself is gone).
          leavePartsOnError: false,
        });
        await upload.done();
      }
    } catch (err) {
      throw new RuntimeError(
        'storage',
        `Uploading ${what} failed: ${s3ErrorText(err)}. Nothing was committed; the previous version stays current. Check that the bucket is reachable with these credentials${this.endpoint ? ` and that ${this.endpoint} is up` : ''}, then rerun.`,
      );
    } finally {
      // A failed upload may stop reading midway; close the file rather than wait for GC.
      body?.destroy();
    }
    // The uploaded file becomes the cached copy, so readers in this process need no download.
    await this.adoptIntoCache(req.tempPath, this.cachePath({ bucket: this.bucket, key }));
    return location;
  }

  async localPath(location: string): Promise<string> {
    const ref = parseS3Location(location);
    const path = this.cachePath(ref);
    // Versions are immutable: a cached copy (only ever complete, see download) is always right.
    if (await exists(path)) return path;
    let pending = this.downloads.get(path);
    if (!pending) {
      pending = this.download(ref, path).finally(() => this.downloads.delete(path));
      this.downloads.set(path, pending);
    }
    return pending;
  }

  async verify(location: string, expected: DataVersion): Promise<FileCheck> {
    let ref: S3ObjectRef;
    try {
      ref = parseS3Location(location);
    } catch (err) {
      return { ok: false, reason: 'unreadable', found: null, detail: errorMessage(err) };
    }
    let found: string | undefined;
    try {
      found = await this.objectVersion(ref, expected.length);
    } catch (err) {
      return { ok: false, reason: 'unreadable', found: null, detail: `${location}: ${s3ErrorText(err)}` };
    }
    if (found === undefined) return { ok: false, reason: 'missing', found: null, detail: `${location} does not exist` };
    if (found !== expected) return { ok: false, reason: 'mismatch', found: found as DataVersion, detail: `${location} hashes to ${found}, not ${expected}` };
    // The object is good; a damaged cached copy would still be trusted by localPath: drop it.
    const cached = this.cachePath(ref);
    if ((await exists(cached)) && (await dataVersionOfFile(cached).catch(() => undefined)) !== expected) await rm(cached, { force: true });
    return { ok: true };
  }

  async *listScratch(): AsyncIterable<ScratchDir> {
    yield* scratchDirs(join(this.cacheDir, 'tmp'));
  }

  /** The first `length` hex digits of the SHA-256 of an object's bytes (streamed, nothing stored), or undefined when it does not exist. */
  private async objectVersion(ref: S3ObjectRef, length: number): Promise<string | undefined> {
    let response: GetObjectCommandOutput;
    try {
      response = await this.client.send(new (sdk().s3.GetObjectCommand)({ Bucket: ref.bucket, Key: ref.key }));
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 403) return undefined;
      throw err;
    }
    const body = response.Body as NodeJS.ReadableStream | undefined;
    if (!body) return undefined;
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    return hash.digest('hex').slice(0, length);
  }

  async remove(location: string): Promise<void> {
    const ref = parseS3Location(location);
    try {
      // Deleting a missing key succeeds in S3, which is what the interface asks for.
      await this.client.send(new (sdk().s3.DeleteObjectCommand)({ Bucket: ref.bucket, Key: ref.key }));
    } catch (err) {
      throw new RuntimeError(
        'storage',
        `Deleting ${location} failed: ${s3ErrorText(err)}. The store no longer points at it; delete it by hand or rerun prune.`,
      );
    }
    await rm(this.cachePath(ref), { force: true });
  }

  async *list(): AsyncIterable<StoredFile> {
    const under = this.prefix ? `${this.prefix}/` : '';
    let token: string | undefined;
    do {
      let page: { Contents?: { Key?: string; LastModified?: Date }[]; IsTruncated?: boolean; NextContinuationToken?: string };
      try {
        page = await this.client.send(new (sdk().s3.ListObjectsV2Command)({ Bucket: this.bucket, Prefix: under, ContinuationToken: token }));
      } catch (err) {
        throw new RuntimeError('storage', `Listing s3://${this.bucket}/${under} failed: ${s3ErrorText(err)}. prune needs s3:ListBucket on the prefix.`);
      }
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        const owner = ownerOfVersionedPath(object.Key.slice(under.length));
        if (owner) yield { location: formatS3Location({ bucket: this.bucket, key: object.Key }), ...owner, modifiedAt: object.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async makeTempDir(label: string): Promise<string> {
    const base = join(this.cacheDir, 'tmp');
    await mkdir(base, { recursive: true });
    return mkdtemp(join(base, `${label.replace(/[^A-Za-z0-9_.-]+/g, '_')}-`));
  }

  /** Where the cached copy of an object lives: `<cacheDir>/objects/<bucket>/<key>`. */
  cachePath(ref: S3ObjectRef): string {
    const root = join(this.cacheDir, 'objects');
    const path = resolve(root, ref.bucket, ref.key);
    if (!path.startsWith(root + sep))
      throw new RuntimeError('storage', `Object key ${ref.key} would be cached outside ${root}; it is not a key this runtime writes.`);
    return path;
  }

  /** The object's size, or undefined when it does not exist. */
  private async objectSize(ref: S3ObjectRef): Promise<number | undefined> {
    try {
      const head = await this.client.send(new (sdk().s3.HeadObjectCommand)({ Bucket: ref.bucket, Key: ref.key }));
      return head.ContentLength;
    } catch (err) {
      // S3 answers 403 rather than 404 for a missing key when the caller may not list the
      // bucket (a prefix-scoped IAM policy); either way, upload, which fails clearly if denied.
      if (statusOf(err) === 404 || statusOf(err) === 403) return undefined;
      throw err;
    }
  }

  /** Downloads to a temporary file beside the target, checks it, then renames it into place. */
  private async download(ref: S3ObjectRef, path: string): Promise<string> {
    const location = formatS3Location(ref);
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      let response: GetObjectCommandOutput;
      try {
        response = await this.client.send(new (sdk().s3.GetObjectCommand)({ Bucket: ref.bucket, Key: ref.key }));
      } catch (err) {
        const status = statusOf(err);
        if (status === 404 || status === 403) {
          throw new RuntimeError(
            'storage',
            `Stored object ${location} is missing or not readable (${s3ErrorText(err)}); the store points at it. Check the bucket and credentials; if it was deleted, rematerialize the asset with --force.`,
          );
        }
        throw err;
      }
      const body = response.Body as NodeJS.ReadableStream | undefined;
      if (!body) throw new Error('the response had no body');
      const hash = createHash('sha256');
      let bytes = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(body, tap, createWriteStream(partial));
      if (response.ContentLength !== undefined && bytes !== response.ContentLength) {
        throw new Error(`received ${bytes} of ${response.ContentLength} bytes`);
      }
      // The key names the data version (a prefix of the content's SHA-256): check it, so a
      // corrupt copy never enters the cache, where it would be trusted for good.
      const expected = dataVersionInKey(ref.key);
      const actual = hash.digest('hex');
      if (expected && !actual.startsWith(expected)) {
        throw new Error(`its content hashes to ${actual.slice(0, expected.length)}, not to the data version ${expected} its key names`);
      }
      await fsyncPath(partial);
      await rename(partial, path);
      return path;
    } catch (err) {
      await rm(partial, { force: true });
      if (err instanceof RuntimeError) throw err;
      throw new RuntimeError('storage', `Downloading ${location} to ${path} failed: ${s3ErrorText(err)}. Check that the store is reachable, then retry.`);
    }
  }

  /** Moves a just-uploaded file into the cache (copies across filesystems); a cache miss later is only slower. */
  private async adoptIntoCache(file: string, path: string): Promise<void> {
    const partial = `${path}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(dirname(path), { recursive: true });
      // A cached copy is trusted by localPath: keep it only when it is this very content.
      const key = dataVersionInKey(path);
      if ((await exists(path)) && key !== undefined && (await dataVersionOfFile(path).catch(() => undefined)) === key) return;
      try {
        await rename(file, partial);
      } catch {
        await copyFile(file, partial);
      }
      // Flushed before it gets its final name: after a power cut the cache holds the whole file or none.
      await fsyncPath(partial);
      await rename(partial, path);
    } catch {
      // The object is in S3; the cache is an optimization.
      await rm(partial, { force: true }).catch(() => undefined);
    }
  }
}

/** `s3://bucket/key`. */
export function formatS3Location(ref: S3ObjectRef): string {
  return `s3://${ref.bucket}/${ref.key}`;
}

/** Parses a location this backend recorded; anything else is an error that says where it came from. */
export function parseS3Location(location: string): S3ObjectRef {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!m) {
    throw new RuntimeError(
      'storage',
      `Location ${JSON.stringify(location)} is not an s3:// location; it was recorded by another storage backend (STORAGE=local?). Switch STORAGE back, or rematerialize the asset with --force so it is stored in S3.`,
    );
  }
  const key = m[2]!;
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new RuntimeError('storage', `Location ${location} has an empty, "." or ".." key segment; the runtime never writes such keys.`);
  }
  return { bucket: m[1]!, key };
}

function normalizePrefix(prefix: string): string {
  const p = prefix.trim().replace(/^\/+|\/+$/g, '');
  if (p.split('/').some((s) => s === '.' || s === '..' || (p !== '' && s === ''))) {
    throw new RuntimeError('storage', `S3 prefix ${JSON.stringify(prefix)} has an empty, "." or ".." segment; use a path such as "pjm-lmp" or "team/pjm".`);
  }
  return p;
}

/** The data version a key's file name carries (`<16 hex>.<ext>`), if it has one. */
function dataVersionInKey(key: string): string | undefined {
  return /^([0-9a-f]{16})\.[a-z]+$/.exec(basename(key))?.[1];
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** An SDK error as a short phrase: its S3 code, HTTP status, and message. */
function s3ErrorText(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string };
  const status = statusOf(err);
  const code = e?.code ?? (e?.name && e.name !== 'Error' ? e.name : undefined);
  const parts = [code, status ? `HTTP ${status}` : undefined].filter(Boolean);
  const message = errorMessage(err);
  return parts.length > 0 && message && !message.includes(String(code)) ? `${parts.join(', ')}: ${message}` : message || parts.join(', ') || 'unknown error';
}
