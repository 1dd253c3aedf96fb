// "Is this stored file what the store says it is": hashing current files against
// their data versions, and recording the bad ones as corrupt marks in the store
// (which makes their partitions stale, so the next run rewrites them). Used by
// `materialize verify`, by a step whose read of its inputs failed, and by the
// server when a read of validated data fails.
import type { Instance } from './instance.ts';
import { describePartition, type AssetKey, type PartitionKey } from './keys.ts';
import { parsePartitionArgument } from './partition-argument.ts';
import { resolveSelection } from './selection.ts';
import type { CorruptDetector, CorruptReason } from './store/records.ts';
import type { DataVersion } from './versions.ts';

/** One current partition to check: where its file is and what it must hash to. */
export interface StoredVersion {
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  readonly materializationId: number;
  readonly dataVersion: DataVersion;
  readonly location: string;
}

/** A current file that is not its data version. */
export interface BadFile {
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  readonly location: string;
  readonly expected: DataVersion;
  readonly found: DataVersion | null;
  readonly reason: CorruptReason;
  readonly detail: string;
}

export interface VerifyResult {
  /** Current files hashed. */
  readonly checked: number;
  readonly bad: readonly BadFile[];
  /** Marks dropped because the file was found intact (restored by hand, say). */
  readonly cleared: number;
}

export interface VerifyOptions {
  /** Selection string; every asset when empty. */
  readonly selection?: string;
  /** A partition argument (key, FROM...TO, comma list) for the selected partitioned assets. */
  readonly partitions?: string;
  readonly onProgress?: (done: number, total: number) => void;
  /** Files hashed at once. Default 4. */
  readonly concurrency?: number;
  readonly now?: Date;
}

/** One bad file as a sentence: asset, partition, path, expected and found. */
export function describeBadFile(b: BadFile): string {
  const what =
    b.reason === 'mismatch'
      ? `expected data version ${b.expected}, found ${b.found}`
      : b.reason === 'missing'
        ? `expected data version ${b.expected}, the file is missing`
        : `expected data version ${b.expected}, unreadable: ${b.detail}`;
  return `${describePartition(b.asset, b.partition)} ${b.location}: ${what}`;
}

/** Hashes every current file of the selection; marks the bad ones corrupt, clears marks of files found intact. */
export async function verifyStore(instance: Instance<unknown>, options: VerifyOptions = {}): Promise<VerifyResult> {
  const now = options.now ?? new Date();
  const assets = resolveSelection(instance.graph, options.selection);
  const [snapshot, dynamic] = await Promise.all([instance.store.snapshot(assets), instance.store.dynamicPartitionKeys()]);
  const targets: StoredVersion[] = [];
  for (const asset of assets) {
    const byPartition = snapshot.get(asset);
    if (!byPartition) continue;
    const def = instance.graph.get(asset).partitions;
    const wanted = options.partitions !== undefined && def ? new Set(parsePartitionArgument(options.partitions, def, now, dynamic)) : undefined;
    for (const [partition, c] of [...byPartition].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      if (wanted && !wanted.has(partition)) continue;
      targets.push({ asset, partition, materializationId: c.id, dataVersion: c.dataVersion, location: c.location });
    }
  }
  let done = 0;
  let cleared = 0;
  const marked = new Set((await instance.store.corruptMarks(assets)).map((m) => `${m.asset}\u0000${m.partition}`));
  options.onProgress?.(0, targets.length);
  const bad = await checkVersions(instance, targets, 'verify', {
    concurrency: options.concurrency,
    onChecked: async (t, ok) => {
      if (ok && marked.has(`${t.asset}\u0000${t.partition}`)) {
        await instance.store.clearCorrupt(t.asset, t.partition, t.materializationId);
        cleared++;
      }
      options.onProgress?.(++done, targets.length);
    },
  });
  return { checked: targets.length, bad, cleared };
}

/**
 * Hashes the given current versions and records a corrupt mark for each bad one (found by
 * `detectedBy`). Returns the bad ones. Marks are only recorded while that materialization
 * is still current.
 */
export async function checkVersions(
  instance: Instance<unknown>,
  versions: readonly StoredVersion[],
  detectedBy: CorruptDetector,
  options: { concurrency?: number; onChecked?: (v: StoredVersion, ok: boolean) => void | Promise<void> } = {},
): Promise<BadFile[]> {
  const bad: BadFile[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < versions.length) {
      const v = versions[next++]!;
      const check = await instance.storage.verify(v.location, v.dataVersion);
      if (!check.ok) {
        const b: BadFile = {
          asset: v.asset,
          partition: v.partition,
          location: v.location,
          expected: v.dataVersion,
          found: check.found,
          reason: check.reason,
          detail: check.detail,
        };
        bad.push(b);
        try {
          await instance.store.markCorrupt({ ...b, materializationId: v.materializationId, detectedBy, now: Date.now() });
        } catch {
          // The finding still goes back to the caller; only its record is lost (a full disk, say).
        }
      }
      await options.onChecked?.(v, check.ok);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, versions.length)) }, worker));
  return bad.sort((a, b) => (a.asset === b.asset ? (a.partition < b.partition ? -1 : 1) : a.asset < b.asset ? -1 : 1));
}
