// "Is this asset's data there by its deadline": on time, late or unknown, with the reason in
// words. Pure over the asset's declaration, a view of the current versions and `now` (tests
// fix the clock). See FreshnessPolicy for what the deadline means for a daily-partitioned and
// for an unpartitioned asset.
import { formatMs } from '../events.ts';
import type { AssetDefinition } from '../definitions.ts';
import type { AssetGraph } from '../graph.ts';
import type { AssetKey } from '../keys.ts';
import { describePartition, UNPARTITIONED } from '../keys.ts';
import type { CurrentView } from '../staleness.ts';
import type { FreshnessPolicy, FreshnessStatus } from './types.ts';
import { addDays } from '../../lib/days.ts';
import { formatLocal, instantOn, localDay } from './zoned-time.ts';

/** The most recent deadline at or before `now` (today's time if passed, else yesterday's), and the one before. */
export function lastDeadlines(policy: FreshnessPolicy, now: number): { day: string; at: number; previous: number } {
  let day = localDay(now, policy.timezone);
  let at = instantOn(day, policy);
  if (at > now) {
    day = addDays(day, -1);
    at = instantOn(day, policy);
  }
  return { day, at, previous: instantOn(addDays(day, -1), policy) };
}

export function evaluateFreshness(def: AssetDefinition<unknown>, view: CurrentView, now: Date): FreshnessStatus | undefined {
  const policy = def.freshness;
  if (!policy) return undefined;
  const tz = policy.timezone;
  const { day, at, previous } = lastDeadlines(policy, now.getTime());
  const by = formatLocal(at, tz);
  if (!def.partitions) {
    const cur = view.current(def.key, UNPARTITIONED);
    if (cur && cur.endedAt > previous) {
      return {
        state: 'on_time',
        partition: UNPARTITIONED,
        deadline: at,
        reason: `materialized ${formatLocal(cur.endedAt, tz)}, since the deadline before ${by}`,
      };
    }
    const last = cur ? `last materialized ${formatLocal(cur.endedAt, tz)}` : 'never materialized';
    return {
      state: 'late',
      partition: UNPARTITIONED,
      deadline: at,
      reason: `due by ${by} (once a day, after ${formatLocal(previous, tz)}) and ${last}; ${formatMs(now.getTime() - at)} late`,
    };
  }
  // Partition D is due on day D + partitionDay: the one due at the last deadline.
  const partition = addDays(day, -(policy.partitionDay ?? 0));
  try {
    def.partitions.validate(partition, now);
  } catch {
    return {
      state: 'unknown',
      partition: undefined,
      deadline: at,
      reason: `${describePartition(def.key, partition)} was due by ${by}, but it is not a partition of the asset (${def.partitions.description})`,
    };
  }
  const cur = view.current(def.key, partition);
  if (cur) {
    const when = cur.endedAt <= at ? 'before' : `${formatMs(cur.endedAt - at)} after`;
    return {
      state: 'on_time',
      partition,
      deadline: at,
      reason: `${describePartition(def.key, partition)} materialized ${formatLocal(cur.endedAt, tz)}, ${when} its deadline ${by}`,
    };
  }
  return {
    state: 'late',
    partition,
    deadline: at,
    reason: `${describePartition(def.key, partition)} was due by ${by} and is missing; ${formatMs(now.getTime() - at)} late`,
  };
}

/** One asset's verdict, as `materialize status`, `/metrics` and the UI show it. */
export interface AssetFreshness extends FreshnessStatus {
  readonly asset: AssetKey;
  /** How late, in seconds (0 unless late). */
  readonly secondsLate: number;
}

/** The verdict of every asset among `assets` that declares freshness, in their order. */
export function freshnessOf(graph: AssetGraph<unknown>, view: CurrentView, now: Date, assets: Iterable<AssetKey> = graph.keys()): AssetFreshness[] {
  const out: AssetFreshness[] = [];
  for (const asset of assets) {
    const status = evaluateFreshness(graph.get(asset), view, now);
    if (!status) continue;
    const secondsLate = status.state === 'late' && status.deadline !== undefined ? Math.max(0, (now.getTime() - status.deadline) / 1000) : 0;
    out.push({ asset, ...status, secondsLate });
  }
  return out;
}

/**
 * The latest deadline at or before `now` over every asset that declares freshness (0 when none
 * does): a verdict can change only when it moves or the store changes, so a cached view keyed
 * by it (the UI's graph) is never stale across a deadline.
 */
export function latestDeadline(graph: AssetGraph<unknown>, now: Date): number {
  let latest = 0;
  for (const asset of graph.keys()) {
    const policy = graph.get(asset).freshness;
    if (policy) latest = Math.max(latest, lastDeadlines(policy, now.getTime()).at);
  }
  return latest;
}
