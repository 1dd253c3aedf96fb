// `prune --older-than 30d`: removes old run events and superseded versions
// (rows and files), but never a current version or anything the lineage of a
// current version points at; and removes orphan files, published by a process
// that died before it could record them.
//
// A file is removed only while prune holds the lease of its asset partition and
// no row points at it: a run publishing the same content-addressed version
// (which skips the upload when the file exists) holds that lease from publish
// to commit, so prune can never delete a file a run is about to record.
//
// It also removes steps' scratch directories left by runs whose process died
// (SIGKILL, OOM): a directory is named after its run, and one whose run is
// still live (heartbeat recent, process alive) is never touched.
//
// Asset records (store/asset-records.ts: the served-forecast log, for one) have their own
// retention, `--records-older-than` (default DEFAULT_RECORDS_RETENTION_MS, a year), not the
// run history's: they are data a step may read again (a revised day is scored again from its
// kept forecasts), so they outlive the events of the runs that wrote them.
import type { Instance } from './instance.ts';
import { RuntimeError } from './errors.ts';
import type { AssetKey, PartitionKey } from './keys.ts';
import { runIsLive } from './store/run-liveness.ts';
import { rm } from 'node:fs/promises';

export interface PruneOptions {
  readonly olderThanMs: number;
  readonly now?: number;
  readonly dryRun?: boolean;
  /**
   * Orphan files younger than this are left alone (default one hour): a run may have
   * published one a moment ago and be about to record it.
   */
  readonly orphanGraceMs?: number;
  /** Asset records recorded longer ago than this are removed (default DEFAULT_RECORDS_RETENTION_MS). */
  readonly recordsOlderThanMs?: number;
}

export interface PruneResult {
  readonly cutoff: number;
  readonly events: number;
  readonly materializations: number;
  /** Files of the pruned versions removed (or, on a dry run, that would be). */
  readonly files: number;
  /** Orphan files (published, never recorded) removed (or that would be). */
  readonly orphans: number;
  /** Files left for next time because a live run holds their asset partition. */
  readonly busy: number;
  /** Scratch directories of dead runs removed (or that would be). */
  readonly scratch: number;
  /** Automation ticks, run request claims and ended run queue rows older than the cutoff. */
  readonly ticks: number;
  readonly claims: number;
  readonly queueRows: number;
  /** Asset records recorded before `recordsCutoff`. */
  readonly assetRecords: number;
  readonly recordsCutoff: number;
  readonly dryRun: boolean;
}

export const DEFAULT_ORPHAN_GRACE_MS = 3_600_000;
/** How long asset records are kept by default: a year (a year of served forecasts, scored again when PJM revises a day). */
export const DEFAULT_RECORDS_RETENTION_MS = 365 * 86_400_000;
const PRUNE_LEASE_MS = 60_000;
/** A run whose heartbeat is older than this is dead (three default lease lifetimes, as the executor closes runs). */
const RUN_STALE_MS = 90_000;

/** Parses "30d", "12h", "90m" into milliseconds; `flag` names the option in the error. */
export function parseAge(text: string, flag?: string): number {
  const m = /^(\d+)\s*(d|h|m)$/.exec(text.trim());
  if (!m)
    throw new RuntimeError(
      'invalid-definition',
      `Invalid age ${JSON.stringify(text)}${flag ? ` for ${flag}` : ''}: write a number followed by d, h or m, such as 30d.`,
    );
  const unit = m[2] === 'd' ? 86_400_000 : m[2] === 'h' ? 3_600_000 : 60_000;
  return Number(m[1]) * unit;
}

export async function prune(instance: Instance<unknown>, options: PruneOptions): Promise<PruneResult> {
  const cutoff = (options.now ?? Date.now()) - options.olderThanMs;
  const dryRun = options.dryRun ?? false;
  const isReferenced = (location: string): Promise<boolean> => instance.store.isRecorded(location);
  // Superseded versions, their inputs and checks, and old events: the store's one definition of what goes.
  const records = await instance.store.pruneRecords(cutoff, { dryRun });
  const plan = { doomed: records.materializations, files: records.files, events: records.events };

  const holder = `prune:${process.pid}:${Date.now()}`;
  /** Removes a file unless a row points at it; 'busy' when a live run holds its asset partition. */
  const removeUnlessRecorded = async (file: { location: string; asset: AssetKey; partition: PartitionKey }): Promise<'removed' | 'busy' | 'recorded'> => {
    if (dryRun) return 'removed';
    const lease = await instance.store.tryAcquireLease(file.asset, file.partition, holder, Date.now(), PRUNE_LEASE_MS);
    if (!lease.acquired) return 'busy';
    try {
      if (await isReferenced(file.location)) return 'recorded';
      await instance.storage.remove(file.location);
      return 'removed';
    } finally {
      await instance.store.releaseLease(file.asset, file.partition, holder);
    }
  };
  const counts = { files: 0, orphans: 0, busy: 0 };
  for (const f of plan.files) {
    const outcome = await removeUnlessRecorded(f);
    if (outcome === 'removed') counts.files++;
    else if (outcome === 'busy') counts.busy++;
  }
  // Orphans: published files no row points at, old enough that no run can be about to record them.
  const graceCutoff = (options.now ?? Date.now()) - (options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS);
  for await (const f of instance.storage.list()) {
    if (f.modifiedAt >= graceCutoff || (await isReferenced(f.location))) continue;
    const outcome = await removeUnlessRecorded(f);
    if (outcome === 'removed') counts.orphans++;
    else if (outcome === 'busy') counts.busy++;
  }
  const scratch = await pruneScratch(instance, options.now ?? Date.now(), options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS, dryRun);
  const automation = await instance.store.pruneAutomation(cutoff, { dryRun });
  const recordsCutoff = (options.now ?? Date.now()) - (options.recordsOlderThanMs ?? DEFAULT_RECORDS_RETENTION_MS);
  const assetRecords = await instance.store.pruneAssetRecords(recordsCutoff, { dryRun });
  return { cutoff, events: plan.events, materializations: plan.doomed, ...counts, scratch, ...automation, assetRecords, recordsCutoff, dryRun };
}

/**
 * Removes scratch directories whose run is not live. A directory is named `<run id>-<step>-<random>`;
 * one whose name matches no recorded run (made outside a run) goes only once older than the grace period.
 */
async function pruneScratch(instance: Instance<unknown>, now: number, graceMs: number, dryRun: boolean): Promise<number> {
  const ownerOf = async (name: string) => {
    // Run ids may hold dashes themselves: try each prefix that ends before a dash.
    for (let i = name.indexOf('-'); i > 0; i = name.indexOf('-', i + 1)) {
      const run = await instance.store.getRun(name.slice(0, i));
      if (run) return run;
    }
    return undefined;
  };
  let removed = 0;
  for await (const dir of instance.storage.listScratch()) {
    const owner = await ownerOf(dir.name);
    if (owner ? runIsLive(owner, now, RUN_STALE_MS) : dir.modifiedAt >= now - graceMs) continue;
    if (!dryRun) await rm(dir.path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
