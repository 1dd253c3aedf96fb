// The identity of what an asset partition would read now: the current data version of every
// expected input. Two evaluations that see the same upstream data produce the same
// fingerprint, so a policy's run request is de-duplicated across ticks and daemons, and an
// upstream re-materialized with identical data changes nothing.
import { createHash } from 'node:crypto';
import type { AssetGraph } from '../graph.ts';
import { describePartition, type AssetKey, type PartitionKey } from '../keys.ts';
import type { CurrentView, StalenessResolver } from '../staleness.ts';

export interface UpstreamState {
  /** Every expected input has a current version. */
  readonly complete: boolean;
  /** The first upstream partition without one, for a skip reason. */
  readonly firstMissing: string | undefined;
  readonly fingerprint: string;
}

export function upstreamState(
  graph: AssetGraph<unknown>,
  resolver: StalenessResolver,
  view: CurrentView,
  asset: AssetKey,
  partition: PartitionKey,
): UpstreamState {
  const h = createHash('sha256');
  let firstMissing: string | undefined;
  for (const dep of graph.deps(asset)) {
    const expected = resolver.expectedInputs(dep, partition);
    if (expected.length === 0) firstMissing ??= dep.asset;
    for (const p of expected) {
      const v = view.current(dep.asset, p)?.dataVersion;
      if (v === undefined) firstMissing ??= describePartition(dep.asset, p);
      h.update(`${dep.asset}\u0000${p}\u0000${v ?? '-'}\n`);
    }
  }
  return { complete: firstMissing === undefined, firstMissing, fingerprint: h.digest('hex').slice(0, 16) };
}
