// "How an asset is stored": the one interface every storage backend implements.
// A materialization is written to a temporary file, then published under a
// versioned location; the lineage store records the location only after the
// publish succeeded, so the store never points at a missing object, and the
// previous version stays readable until the new pointer commits.
import type { IoKind } from '../definitions.ts';
import type { AssetKey, PartitionKey } from '../keys.ts';
import type { CorruptReason } from '../store/records.ts';
import type { DataVersion } from '../versions.ts';

export interface PublishRequest {
  /** A finished local file (in a directory from `tempDir`). The backend moves or uploads it. */
  readonly tempPath: string;
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  readonly dataVersion: DataVersion;
  readonly io: IoKind;
}

/** A published file as the backend lists it, with the asset partition its versioned path names. */
export interface StoredFile {
  readonly location: string;
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  /** Last write (epoch ms). */
  readonly modifiedAt: number;
}

/** What a stored file's bytes say about it, against the data version the store recorded. */
export type FileCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: CorruptReason;
      /** The version its bytes hash to, when they could be read. */
      readonly found: DataVersion | null;
      /** What was seen, in words. */
      readonly detail: string;
    };

/** A step's scratch directory, as `prune` sees it. */
export interface ScratchDir {
  /** The directory name: the label given to `makeTempDir` (a run id first), then a random suffix. */
  readonly name: string;
  readonly path: string;
  /** Last change (epoch ms). */
  readonly modifiedAt: number;
}

export interface Storage {
  readonly kind: string;
  /** Human description for logs: "local ./data/assets", "s3://bucket/prefix". */
  readonly description: string;
  /** Publishes a file atomically; returns the location to record in the store. */
  publish(req: PublishRequest): Promise<string>;
  /** A local path from which a published location can be read (remote backends download and cache). */
  localPath(location: string): Promise<string>;
  /**
   * Hashes a published location and compares it with the data version it must have. Never
   * throws for a bad, missing or unreadable file: that is the answer.
   */
  verify(location: string, expected: DataVersion): Promise<FileCheck>;
  /** Deletes a published location; missing is not an error. */
  remove(location: string): Promise<void>;
  /** A fresh local directory for one step's temporary files, on the same filesystem as published files where that matters. */
  makeTempDir(label: string): Promise<string>;
  /**
   * Every published file, recorded in the store or not (a process that died between publish
   * and commit leaves one nobody points at: `prune` finds those here).
   */
  list(): AsyncIterable<StoredFile>;
  /** Every scratch directory `makeTempDir` made that is still there (a killed process leaves its own). */
  listScratch(): AsyncIterable<ScratchDir>;
}

/** The file extension for an io kind. */
export function extensionFor(io: IoKind): string {
  return io === 'table' ? 'parquet' : io === 'json' ? 'json' : 'bin';
}

/**
 * The asset partition a versioned relative path names (the inverse of `versionedPath`), or
 * undefined for a path of another shape. Assets may contain slashes; the last two segments
 * are the partition and the version file.
 */
export function ownerOfVersionedPath(path: string): { asset: AssetKey; partition: PartitionKey } | undefined {
  const parts = path.split('/');
  if (parts.length < 3 || !/^[0-9a-f]+\.(parquet|json|bin)$/.test(parts[parts.length - 1]!)) return undefined;
  const partition = parts[parts.length - 2]!;
  return { asset: parts.slice(0, -2).join('/') as AssetKey, partition: (partition === '_' ? '' : partition) as PartitionKey };
}

/** The versioned relative path of a published file: `<asset>/<partition or _>/<data version>.<ext>`. */
export function versionedPath(asset: AssetKey, partition: PartitionKey, dataVersion: DataVersion, io: IoKind): string {
  return `${asset}/${partition === '' ? '_' : partition}/${dataVersion}.${extensionFor(io)}`;
}
