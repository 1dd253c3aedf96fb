// The UI's five statuses (fresh, stale, missing, failed, running) per asset and
// per partition: the runtime's staleness (FRESH / STALE / MISSING with causes)
// overlaid with what live and failed runs say. Pure: a resolver and an Activity in.
import {
  describeCause,
  summarizeAsset,
  type AssetDefinition,
  type AssetKey,
  type AssetStatusSummary,
  type PartitionKey,
  type StalenessResolver,
  type Status,
} from '../../runtime/index.ts';
import { evaluateFreshness } from '../../runtime/automation/freshness.ts';
import type { Activity, Failure } from './activity.ts';

export type UiStatus = 'fresh' | 'stale' | 'missing' | 'failed' | 'running';

export interface StatusCounts {
  total: number;
  fresh: number;
  stale: number;
  missing: number;
  failed: number;
  running: number;
}

export interface AssetUiStatus {
  readonly status: UiStatus;
  readonly counts: StatusCounts;
  /** Distinct cause sentences, most common first, with how many partitions each concerns. */
  readonly causes: readonly { readonly text: string; readonly partitions: number }[];
  readonly lastMaterializedAt: number | null;
  readonly dataVersion: string | null;
  readonly summary: AssetStatusSummary;
}

const fromRuntime = (s: Status): UiStatus => (s === 'FRESH' ? 'fresh' : s === 'STALE' ? 'stale' : 'missing');

/**
 * A failure counts only while no newer version was published: a later success
 * (by any run) clears it.
 */
export function activeFailure(activity: Activity, resolver: StalenessResolver, asset: AssetKey, partition: PartitionKey): Failure | undefined {
  const failure = activity.failures.get(asset)?.get(partition);
  if (!failure) return undefined;
  const current = resolver.status(asset, partition).current;
  return current && current.endedAt >= failure.ts ? undefined : failure;
}

export function partitionUiStatus(activity: Activity, resolver: StalenessResolver, asset: AssetKey, partition: PartitionKey): UiStatus {
  if (activity.running.get(asset)?.has(partition)) return 'running';
  if (activeFailure(activity, resolver, asset, partition)) return 'failed';
  return fromRuntime(resolver.status(asset, partition).status);
}

/** The asset's status: running or failed when any partition is, else the runtime's (missing > stale > fresh). */
export function assetUiStatus(activity: Activity, resolver: StalenessResolver, asset: AssetKey): AssetUiStatus {
  const summary = summarizeAsset(resolver, asset);
  const counts: StatusCounts = { total: summary.total, fresh: summary.fresh, stale: summary.stale, missing: summary.missing, failed: 0, running: 0 };
  const failureTexts = new Map<string, number>();
  // Only the few running or failed partitions are moved out of their runtime bucket.
  const overlaid = new Set<PartitionKey>([...(activity.running.get(asset) ?? []), ...(activity.failures.get(asset)?.keys() ?? [])]);
  for (const partition of overlaid) {
    const ui = partitionUiStatus(activity, resolver, asset, partition);
    if (ui !== 'running' && ui !== 'failed') continue;
    const base = fromRuntime(resolver.status(asset, partition).status);
    counts[base]--;
    counts[ui]++;
    if (ui === 'failed') {
      const f = activeFailure(activity, resolver, asset, partition)!;
      const text = `the latest attempt ${f.kind === 'blocked' ? 'was blocked by a failed check' : 'failed'} (run ${f.runId}): ${f.message}`;
      failureTexts.set(text, (failureTexts.get(text) ?? 0) + 1);
    }
  }
  const status: UiStatus = counts.running > 0 ? 'running' : counts.failed > 0 ? 'failed' : fromRuntime(summary.status);
  const causes = [...[...failureTexts].map(([text, partitions]) => ({ text, partitions })), ...summary.causes];
  return { status, counts, causes, lastMaterializedAt: summary.lastMaterializedAt, dataVersion: summary.dataVersion, summary };
}

/** Cause sentences of one partition. */
export function partitionCauses(activity: Activity, resolver: StalenessResolver, asset: AssetKey, partition: PartitionKey): string[] {
  const out: string[] = [];
  const failure = activeFailure(activity, resolver, asset, partition);
  if (failure)
    out.push(`the latest attempt ${failure.kind === 'blocked' ? 'was blocked by a failed check' : 'failed'} (run ${failure.runId}): ${failure.message}`);
  const s = resolver.status(asset, partition);
  if (s.status === 'MISSING') out.push('never materialized');
  for (const c of s.causes) out.push(describeCause(c));
  return out;
}

/** Whether an asset that declares a deadline (freshness) is on time, as the UI shows it. */
export interface FreshnessView {
  readonly state: 'on_time' | 'late' | 'unknown';
  readonly reason: string;
  /** The partition the verdict is about ('' unpartitioned), null when none is due. */
  readonly partition: string | null;
  /** ms since epoch of the deadline the verdict is about. */
  readonly deadline: number | null;
}

/** The asset's deadline verdict at the resolver's time, or null when it declares none. */
export function freshnessView(resolver: StalenessResolver, def: AssetDefinition<unknown>): FreshnessView | null {
  const f = evaluateFreshness(def, resolver.view, resolver.now);
  return f ? { state: f.state, reason: f.reason, partition: f.partition ?? null, deadline: f.deadline ?? null } : null;
}
