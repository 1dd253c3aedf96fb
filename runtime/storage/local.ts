// Local filesystem storage: versioned files under one root, published with
// temp file + fsync + rename + directory fsync, so a crash leaves either the
// whole new file or none of it. A version already on disk is reused only after
// its bytes are hashed and found to be that version: a damaged file is
// replaced, never trusted because of its name.
import { mkdir, mkdtemp, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { errorMessage, RuntimeError } from '../errors.ts';
import { dataVersionOfFile, type DataVersion } from '../versions.ts';
import { exists, fsyncPath } from './fs-helpers.ts';
import { ownerOfVersionedPath, versionedPath, type FileCheck, type PublishRequest, type ScratchDir, type Storage, type StoredFile } from './storage.ts';

/** The scratch area under the root; a dot directory, so never mistaken for an asset. */
const SCRATCH = '.tmp';

export class LocalStorage implements Storage {
  readonly kind = 'local';
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get description(): string {
    return `local ${this.root}`;
  }

  async publish(req: PublishRequest): Promise<string> {
    const location = versionedPath(req.asset, req.partition, req.dataVersion, req.io);
    const target = this.resolveLocation(location);
    await fsyncPath(req.tempPath);
    await mkdir(dirname(target), { recursive: true });
    if ((await exists(target)) && (await this.verify(location, req.dataVersion)).ok) {
      // Content-addressed, and its bytes checked: the same data version is already published.
      await unlink(req.tempPath);
    } else {
      // New, or a file under this name whose bytes are not this version (truncated, damaged):
      // rename replaces it atomically, so a reader sees the old bytes or the new, never a mix.
      await rename(req.tempPath, target);
      await fsyncPath(dirname(target), 'r');
    }
    return location;
  }

  async verify(location: string, expected: DataVersion): Promise<FileCheck> {
    let path: string;
    try {
      path = this.resolveLocation(location);
    } catch (err) {
      return { ok: false, reason: 'unreadable', found: null, detail: errorMessage(err) };
    }
    try {
      const found = await dataVersionOfFile(path);
      return found === expected ? { ok: true } : { ok: false, reason: 'mismatch', found, detail: `${path} hashes to ${found}, not ${expected}` };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { ok: false, reason: 'missing', found: null, detail: `${path} does not exist` };
      return { ok: false, reason: 'unreadable', found: null, detail: `${path}: ${errorMessage(err)}` };
    }
  }

  async localPath(location: string): Promise<string> {
    const path = this.resolveLocation(location);
    if (!(await exists(path))) {
      throw new RuntimeError('storage', `Stored file ${path} is missing; the store points at it. Rematerialize the asset with --force.`);
    }
    return path;
  }

  /** Synchronous resolution for hot paths that know the file exists. */
  resolveLocation(location: string): string {
    const path = resolve(this.root, location);
    if (!path.startsWith(this.root + sep)) throw new RuntimeError('storage', `Location ${location} is outside the storage root ${this.root}.`);
    return path;
  }

  async remove(location: string): Promise<void> {
    await rm(this.resolveLocation(location), { force: true });
  }

  async makeTempDir(label: string): Promise<string> {
    const base = join(this.root, SCRATCH);
    await mkdir(base, { recursive: true });
    return mkdtemp(join(base, `${label.replace(/[^A-Za-z0-9_.-]+/g, '_')}-`));
  }

  async *list(): AsyncIterable<StoredFile> {
    // Walked one directory at a time, skipping dot entries (.tmp: steps' scratch directories,
    // which live runs create and delete while we walk) and anything that vanishes mid-walk.
    const pending = [this.root];
    while (pending.length > 0) {
      const dir = pending.pop()!;
      const entries = await readdirIfPresent(dir);
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const path = join(dir, e.name);
        if (e.isDirectory()) {
          pending.push(path);
          continue;
        }
        if (!e.isFile()) continue;
        const location = relative(this.root, path).split(sep).join('/');
        const owner = ownerOfVersionedPath(location);
        if (!owner) continue;
        const info = await stat(path).catch(() => undefined);
        if (info) yield { location, ...owner, modifiedAt: info.mtimeMs };
      }
    }
  }

  async *listScratch(): AsyncIterable<ScratchDir> {
    yield* scratchDirs(join(this.root, SCRATCH));
  }
}

/** A directory's entries; none when it is gone (removed while a caller walks the tree). */
export async function readdirIfPresent(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/** The scratch directories directly under `base`, each with its last change; vanishing ones are skipped. */
export async function* scratchDirs(base: string): AsyncIterable<ScratchDir> {
  for (const e of await readdirIfPresent(base)) {
    if (!e.isDirectory()) continue;
    const path = join(base, e.name);
    const info = await stat(path).catch(() => undefined);
    if (info) yield { name: e.name, path, modifiedAt: info.mtimeMs };
  }
}
