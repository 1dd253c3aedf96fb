// GET /api/graph: every asset with its status, partition health and causes,
// and every dependency edge. It must stay fast at 1,000 assets: one store
// snapshot and one resolver serve every asset, and the result is reused until
// the store changes (see LineageStore.activityToken).
import { describeMapping, type Instance } from '../../runtime/index.ts';
import type { Activity } from './activity.ts';
import { assetUiStatus, freshnessView, type FreshnessView, type StatusCounts, type UiStatus } from './status.ts';

export interface GraphNode {
  readonly key: string;
  readonly group: string;
  readonly description: string;
  readonly io: string;
  /** "daily from 2016-01-01", or null when unpartitioned. */
  readonly partitions: string | null;
  readonly codeVersion: string;
  readonly status: UiStatus;
  readonly counts: StatusCounts;
  /** The three most common causes; `moreCauses` says how many more there are. */
  readonly causes: readonly { readonly text: string; readonly partitions: number }[];
  readonly moreCauses: number;
  readonly lastMaterializedAt: number | null;
  readonly dataVersion: string | null;
  /** On time or late against its deadline; null when the asset declares none. */
  readonly freshness: FreshnessView | null;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly mapping: string;
}

export interface GraphView {
  readonly generatedAt: number;
  /** Topological order: upstream before downstream. */
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly totals: Readonly<Record<UiStatus, number>>;
  readonly activeRuns: readonly { readonly id: string; readonly selection: string; readonly startedAt: number; readonly trigger: string }[];
}

const MAX_CAUSES = 3;

export async function graphView(instance: Instance<unknown>, activity: Activity, now: Date): Promise<GraphView> {
  const resolver = await instance.resolver(now);
  const totals: Record<UiStatus, number> = { fresh: 0, stale: 0, missing: 0, failed: 0, running: 0 };
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  for (const key of instance.graph.keys()) {
    const def = instance.graph.get(key);
    const s = assetUiStatus(activity, resolver, key);
    totals[s.status]++;
    nodes.push({
      key,
      group: def.group,
      description: def.description,
      io: def.io,
      partitions: def.partitions?.description ?? null,
      codeVersion: def.codeVersion,
      status: s.status,
      counts: s.counts,
      causes: s.causes.slice(0, MAX_CAUSES),
      moreCauses: Math.max(0, s.causes.length - MAX_CAUSES),
      lastMaterializedAt: s.lastMaterializedAt,
      dataVersion: s.dataVersion,
      freshness: freshnessView(resolver, def),
    });
    for (const dep of instance.graph.deps(key)) edges.push({ from: dep.asset, to: key, mapping: describeMapping(dep.mapping) });
  }
  return {
    generatedAt: now.getTime(),
    nodes,
    edges,
    totals,
    activeRuns: activity.activeRuns.map((r) => ({ id: r.id, selection: r.selection, startedAt: r.startedAt, trigger: r.trigger })),
  };
}
