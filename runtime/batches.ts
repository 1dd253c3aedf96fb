// Which planned steps of a batch asset (`batch: { maxPartitions }`) run together. Pure: the
// executor turns each group into one call of the asset's batch function. A group holds
// partitions that share every non-time dimension (one node's days, never two nodes'), in plan
// order, at most `maxPartitions` of them: what a batch function can compute with one query over
// one slice of its inputs.
import type { AssetGraph } from './graph.ts';
import type { AssetKey, PartitionKey } from './keys.ts';
import { asMulti } from './partitions-multi.ts';

/** Splits `items` (all of `asset`) into the groups one step each runs; a non-batch asset's items run one per step. */
export function groupIntoBatches<T extends { readonly partition: PartitionKey }>(graph: AssetGraph<unknown>, asset: AssetKey, items: readonly T[]): T[][] {
  const def = graph.get(asset);
  if (def.runner.kind !== 'batch') return items.map((i) => [i]);
  const max = def.runner.policy.maxPartitions;
  const multi = asMulti(def.partitions);
  const other = multi?.dimensions.find((d) => d !== multi.timeDimension);
  const byOther = new Map<string, T[]>();
  for (const item of items) {
    const key = multi && other ? (multi.valueOf(item.partition, other.name) ?? '') : '';
    let list = byOther.get(key);
    if (!list) byOther.set(key, (list = []));
    list.push(item);
  }
  const groups: T[][] = [];
  for (const list of byOther.values()) for (let i = 0; i < list.length; i += max) groups.push(list.slice(i, i + max));
  return groups;
}
