// "Must this partition run?": the one decision the planner makes for its plan and the
// executor makes again, with the partition's lease held, against the live store (an upstream
// may have produced identical data, another run may have done it meanwhile). A partition runs
// when it is missing, when a cause of its staleness is one a run can fix, or when it is due
// for a re-read; otherwise it need not. Pure: the status and the clock come from the caller.
import type { AssetDefinition } from './definitions.ts';
import type { PartitionKey } from './keys.ts';
import type { DynamicPartitionKeys } from './partitions.ts';
import { refreshReason } from './refresh.ts';
import { describeCause, isActionable, type PartitionStatus } from './staleness.ts';

export type RunDecision =
  /** It runs, and why in words ("missing: never materialized", "stale: …", "re-read: …", "forced"). */
  | { readonly run: true; readonly reason: string }
  /** It need not run: fresh, or stale only for causes outside its own run's reach (upstream not yet redone). */
  | { readonly run: false; readonly status: PartitionStatus };

export function decideRun(
  def: Pick<AssetDefinition<unknown>, 'refresh' | 'partitions'>,
  partition: PartitionKey,
  status: PartitionStatus,
  context: { readonly now: Date; readonly dynamic: DynamicPartitionKeys; readonly force: boolean },
): RunDecision {
  if (context.force) return { run: true, reason: 'forced' };
  if (status.status === 'MISSING') return { run: true, reason: 'missing: never materialized' };
  const actionable = status.causes.filter(isActionable);
  if (actionable.length > 0) return { run: true, reason: `stale: ${actionable.map(describeCause).join('; ')}` };
  const refresh = refreshReason(def, partition, context.now, context.dynamic);
  if (refresh !== undefined) return { run: true, reason: refresh };
  return { run: false, status };
}
