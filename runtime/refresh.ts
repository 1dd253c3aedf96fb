// "Is this partition due for a re-read?": source assets whose last partitions the outside
// world may still revise (PJM republishes real-time prices for days) declare
// `refresh: { trailing: n }`, and the partitions whose time value is among the last n of
// the definition run on every run, fresh or not. The planner (what the plan says) and the
// executor's live re-check (whether a planned step still runs) both ask this one function,
// so the two can never disagree. Pure: `now` and the dynamic keys come from the caller.
import type { AssetDefinition } from './definitions.ts';
import type { PartitionKey } from './keys.ts';
import { asMulti } from './partitions-multi.ts';
import { NO_DYNAMIC_KEYS, type DynamicPartitionKeys } from './partitions.ts';

/** Re-read the last `trailing` partitions of the time dimension on every run (0: never). */
export interface RefreshPolicy {
  readonly trailing: number;
  /** Why, in words, for the plan: "the source may revise its last 7 days". Default from `trailing`. */
  readonly because?: string;
}

/**
 * Why `asset[partition]` is re-read although it may be fresh, or undefined when it is not
 * due: its time value (the day of `node|day`) is one of the last `trailing` keys of the
 * time dimension as of `now`.
 */
export function refreshReason(
  def: Pick<AssetDefinition<unknown>, 'refresh' | 'partitions'>,
  partition: PartitionKey,
  now: Date,
  dynamic: DynamicPartitionKeys = NO_DYNAMIC_KEYS,
): string | undefined {
  const policy = def.refresh;
  if (!policy || policy.trailing <= 0 || !def.partitions) return undefined;
  const multi = asMulti(def.partitions);
  const time = multi ? multi.timeDimension.definition : def.partitions;
  const value = multi ? multi.valueOf(partition, multi.timeDimension.name) : partition;
  if (value === undefined || def.partitions.shift(partition, 0, now, dynamic) === undefined) return undefined;
  // Among the last n keys exactly when there is no key n windows later.
  if (time.shift(value, policy.trailing, now, dynamic) !== undefined) return undefined;
  const unit = time.kind === 'daily' ? 'day' : time.kind === 'hourly' ? 'hour' : 'partition';
  return `re-read: ${policy.because ?? `the source may revise its last ${policy.trailing} ${unit}${policy.trailing === 1 ? '' : 's'}`}`;
}
