// Local filesystem storage: versioned files under one root, published with
// temp file + fsync + rename + directory fsync, so a crash leaves either the
// whole new file or none of it.
import { mkdir, mkdtemp, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { RuntimeError } from '../errors.ts';
import { exists, fsyncPath } from './fs-helpers.ts';
import { ownerOfVersionedPath, versionedPath, type PublishRequest, type Storage, type StoredFile } from './storage.ts';

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
    if (await exists(target)) {
      // Content-addressed: the same data version is already published, byte for byte.
      await unlink(req.tempPath);
    } else {
      await rename(req.tempPath, target);
      await fsyncPath(dirname(target), 'r');
    }
    return location;
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
    const base = join(this.root, '.tmp');
    await mkdir(base, { recursive: true });
    return mkdtemp(join(base, `${label.replace(/[^A-Za-z0-9_.-]+/g, '_')}-`));
  }

  async *list(): AsyncIterable<StoredFile> {
    if (!(await exists(this.root))) return;
    // Dot entries (.tmp: steps' scratch directories) are not published files.
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    for (const e of entries) {
      if (!e.isFile()) continue;
      const path = join(e.parentPath ?? e.path, e.name);
      const location = relative(this.root, path).split(sep).join('/');
      if (location.split('/').some((segment) => segment.startsWith('.'))) continue;
      const owner = ownerOfVersionedPath(location);
      if (!owner) continue;
      const info = await stat(path).catch(() => undefined);
      if (info) yield { location, ...owner, modifiedAt: info.mtimeMs };
    }
  }
}
