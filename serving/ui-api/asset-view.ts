// GET /api/assets/:key and /api/assets/:key/partitions: one asset's definition,
// current version, status with its causes in words, materialization history
// with check results, and its partitions one by one.
import {
  asMulti,
  describeMapping,
  describePartition,
  parsePartitionArgument,
  UNPARTITIONED,
  type AssetKey,
  type CheckResultRecord,
  type CurrentRecord,
  type Instance,
  type MaterializationRecord,
  type Metadata,
} from '../../runtime/index.ts';
import type { Activity } from './activity.ts';
import { assetUiStatus, freshnessView, partitionCauses, partitionUiStatus, type FreshnessView, type StatusCounts, type UiStatus } from './status.ts';
import { modelViews, type ModelViews } from './model-view.ts';

export interface CheckView {
  readonly name: string;
  readonly blocking: boolean;
  readonly passed: boolean;
  readonly message: string;
  /** The validation report the check stored. */
  readonly metadata: Metadata;
}

export interface HistoryEntry {
  readonly id: number;
  readonly partition: string;
  readonly runId: string;
  /** 'published', or 'blocked' when a blocking check kept it from being published. */
  readonly status: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly metadata: Metadata;
  readonly checks: readonly CheckView[];
}

export interface AssetView {
  readonly key: string;
  readonly description: string;
  readonly group: string;
  readonly io: string;
  readonly codeVersion: string;
  readonly codeVersionIsDerived: boolean;
  readonly partitions: { readonly kind: string; readonly description: string } | null;
  readonly deps: readonly { readonly asset: string; readonly mapping: string }[];
  readonly children: readonly string[];
  readonly checks: readonly { readonly name: string; readonly blocking: boolean; readonly description: string }[];
  readonly status: UiStatus;
  readonly counts: StatusCounts;
  readonly causes: readonly { readonly text: string; readonly partitions: number }[];
  /** On time or late against its deadline; null when the asset declares none. */
  readonly freshness: FreshnessView | null;
  /** The current version of the unpartitioned asset, or of its latest materialized partition. */
  readonly current: {
    readonly materializationId: number;
    readonly partition: string;
    readonly dataVersion: string;
    readonly codeVersion: string;
    readonly runId: string;
    readonly endedAt: number;
  } | null;
  readonly history: readonly HistoryEntry[];
  /** Check results of the latest materialization that ran checks. */
  readonly latestChecks: { readonly materializationId: number; readonly partition: string; readonly results: readonly CheckView[] } | null;
  /** Model and backtest views, when the current version's metadata holds them. */
  readonly views: ModelViews;
}

const toCheck = (c: CheckResultRecord): CheckView => ({ name: c.name, blocking: c.blocking, passed: c.passed, message: c.message, metadata: c.metadata });

export async function historyEntry(instance: Instance<unknown>, m: MaterializationRecord): Promise<HistoryEntry> {
  return {
    id: m.id,
    partition: m.partition,
    runId: m.runId,
    status: m.status,
    startedAt: m.startedAt,
    endedAt: m.endedAt,
    durationMs: m.endedAt - m.startedAt,
    dataVersion: m.dataVersion,
    codeVersion: m.codeVersion,
    metadata: m.metadata,
    checks: (await instance.store.checkResults(m.id)).map(toCheck),
  };
}

export async function assetView(
  instance: Instance<unknown>,
  activity: Activity,
  key: AssetKey,
  now: Date,
  options: { historyLimit?: number } = {},
): Promise<AssetView> {
  const def = instance.graph.get(key);
  const resolver = await instance.resolver(now, [key]);
  const s = assetUiStatus(activity, resolver, key);
  const history = await Promise.all((await instance.store.history(key, { limit: options.historyLimit ?? 50 })).map((m) => historyEntry(instance, m)));
  // The current version: of the unpartitioned asset, or of the partition materialized last.
  let current: CurrentRecord | undefined;
  let currentPartition = UNPARTITIONED;
  for (const p of resolver.partitionKeys(key)) {
    const c = resolver.status(key, p).current;
    if (c && (!current || c.endedAt > current.endedAt)) [current, currentPartition] = [c, p];
  }
  const withChecks = history.find((h) => h.checks.length > 0);
  const currentMetadata = current
    ? (history.find((h) => h.id === current.id)?.metadata ?? (await instance.store.materialization(current.id))?.metadata)
    : undefined;
  return {
    key,
    description: def.description,
    group: def.group,
    io: def.io,
    codeVersion: def.codeVersion,
    codeVersionIsDerived: def.codeVersionIsDerived,
    partitions: def.partitions ? { kind: def.partitions.kind, description: def.partitions.description } : null,
    deps: instance.graph.deps(key).map((d) => ({ asset: d.asset, mapping: describeMapping(d.mapping) })),
    children: instance.graph.children(key),
    checks: def.checks.map((c) => ({ name: c.name, blocking: c.blocking ?? true, description: c.description ?? '' })),
    status: s.status,
    freshness: freshnessView(resolver, def),
    counts: s.counts,
    causes: s.causes,
    current: current
      ? {
          materializationId: current.id,
          partition: currentPartition,
          dataVersion: current.dataVersion,
          codeVersion: current.codeVersion,
          runId: current.runId,
          endedAt: current.endedAt,
        }
      : null,
    history,
    latestChecks: withChecks ? { materializationId: withChecks.id, partition: withChecks.partition, results: withChecks.checks } : null,
    views: modelViews(currentMetadata ?? {}, current && `${key} materialization ${current.id}`),
  };
}

export interface PartitionRow {
  readonly partition: string;
  readonly label: string;
  readonly status: UiStatus;
  readonly causes: readonly string[];
  readonly materializationId: number | null;
  readonly dataVersion: string | null;
  readonly endedAt: number | null;
}

export interface PartitionsView {
  readonly asset: string;
  readonly counts: Readonly<Record<UiStatus, number>> & { readonly total: number };
  /** The matching partitions after offset, newest first. */
  readonly partitions: readonly PartitionRow[];
  readonly matching: number;
  /** For a two-dimensional asset, how healthy each value of its non-time dimension (each node) is. */
  readonly dimension: { readonly name: string; readonly values: readonly { readonly value: string; readonly counts: StatusCounts }[] } | null;
}

export async function partitionsView(
  instance: Instance<unknown>,
  activity: Activity,
  key: AssetKey,
  now: Date,
  options: { status?: UiStatus; limit?: number; offset?: number; partition?: string } = {},
): Promise<PartitionsView> {
  const resolver = await instance.resolver(now, [key]);
  const def = instance.graph.get(key).partitions;
  // A `-p`-style filter (`node=51288`, `day=2025-05-01...2025-05-31`) narrows the list, as on the command line.
  const keys = (options.partition && def ? parsePartitionArgument(options.partition, def, now, resolver.dynamic) : resolver.partitionKeys(key))
    .slice()
    .reverse();
  const counts = emptyCounts(keys.length);
  const multi = asMulti(def);
  // Per value of the dimension that is not time (the nodes): how healthy each is, for the grid view.
  const other = multi ? multi.dimensions.find((d) => d !== multi.timeDimension)! : undefined;
  const byValue = new Map<string, StatusCounts>();
  const matching: { partition: string; status: UiStatus }[] = [];
  for (const partition of keys) {
    const status = partitionUiStatus(activity, resolver, key, partition);
    counts[status]++;
    if (multi && other) {
      const value = multi.valueOf(partition, other.name)!;
      let c = byValue.get(value);
      if (!c) byValue.set(value, (c = emptyCounts(0)));
      c.total++;
      c[status]++;
    }
    if (!options.status || options.status === status) matching.push({ partition, status });
  }
  const offset = options.offset ?? 0;
  const page = matching.slice(offset, offset + (options.limit ?? 200));
  return {
    asset: key,
    counts,
    matching: matching.length,
    dimension: other
      ? {
          name: other.name,
          values: [...byValue].map(([value, c]) => ({ value, counts: c })).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)),
        }
      : null,
    partitions: page.map(({ partition, status }) => {
      const current = resolver.status(key, partition).current;
      return {
        partition,
        label: multi ? multi.describeKey(partition) : describePartition(key, partition),
        status,
        causes: partitionCauses(activity, resolver, key, partition),
        materializationId: current?.id ?? null,
        dataVersion: current?.dataVersion ?? null,
        endedAt: current?.endedAt ?? null,
      };
    }),
  };
}

function emptyCounts(total: number): { -readonly [K in keyof StatusCounts]: number } {
  return { total, fresh: 0, stale: 0, missing: 0, failed: 0, running: 0 };
}
