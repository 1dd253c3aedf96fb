// Lineage as a query over provenance records: for one materialization, what
// it consumed (recursively) and what consumed it. Inputs from many partitions
// of one upstream asset are grouped, so a model trained on 2,000 daily
// partitions reads as one line, not 2,000.
import type { AssetKey, PartitionKey } from './keys.ts';
import type { LineageStore } from './store/lineage-store-api.ts';
import type { MaterializationRecord } from './store/records.ts';
import type { CodeVersion, DataVersion } from './versions.ts';

export interface LineageEntry {
  readonly id: number;
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  readonly dataVersion: DataVersion;
  readonly codeVersion: CodeVersion;
  readonly runId: string;
  readonly endedAt: number;
  readonly status: MaterializationRecord['status'];
}

export interface LineageGroup {
  readonly asset: AssetKey;
  /** How many partitions of `asset` were consumed (or consume this one). */
  readonly count: number;
  readonly firstPartition: PartitionKey;
  readonly lastPartition: PartitionKey;
  /** Up to `maxPerGroup` entries, each expanded further while depth allows. */
  readonly entries: readonly LineageTree[];
}

export interface LineageTree extends LineageEntry {
  readonly groups: readonly LineageGroup[];
}

export interface LineageResult {
  readonly root: LineageEntry;
  readonly upstream: readonly LineageGroup[];
  readonly downstream: readonly LineageGroup[];
}

const toEntry = (m: MaterializationRecord): LineageEntry => ({
  id: m.id,
  asset: m.asset,
  partition: m.partition,
  dataVersion: m.dataVersion,
  codeVersion: m.codeVersion,
  runId: m.runId,
  endedAt: m.endedAt,
  status: m.status,
});

export async function lineageOf(
  store: LineageStore,
  materializationId: number,
  options: { depth?: number; maxPerGroup?: number } = {},
): Promise<LineageResult | undefined> {
  const root = await store.materialization(materializationId);
  if (!root) return undefined;
  const depth = options.depth ?? 6;
  const maxPerGroup = options.maxPerGroup ?? 3;
  const load = (id: number) => store.materialization(id);
  const upstreamOf = async (id: number) => (await store.inputsOf(id)).map((i) => i.materializationId);
  const downstreamOf = async (id: number) => (await store.consumersOf(id)).map((m) => m.id);
  const [upstream, downstream] = await Promise.all([
    expand(root.id, upstreamOf, load, depth, maxPerGroup),
    expand(root.id, downstreamOf, load, depth, maxPerGroup),
  ]);
  return { root: toEntry(root), upstream, downstream };
}

async function expand(
  id: number,
  next: (id: number) => Promise<number[]>,
  load: (id: number) => Promise<MaterializationRecord | undefined>,
  depth: number,
  maxPerGroup: number,
): Promise<LineageGroup[]> {
  if (depth <= 0) return [];
  const byAsset = new Map<AssetKey, MaterializationRecord[]>();
  // Loaded together: a model's inputs are hundreds of partitions, and PostgreSQL serves them in parallel.
  for (const m of await Promise.all((await next(id)).map(load))) {
    if (!m) continue;
    let list = byAsset.get(m.asset);
    if (!list) byAsset.set(m.asset, (list = []));
    list.push(m);
  }
  return Promise.all(
    [...byAsset].map(async ([asset, list]) => {
      list.sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : a.id - b.id));
      // Show the most recent partitions: they are the ones people ask about.
      const shown = list.slice(-maxPerGroup);
      return {
        asset,
        count: list.length,
        firstPartition: list[0]!.partition,
        lastPartition: list[list.length - 1]!.partition,
        entries: await Promise.all(shown.map(async (m) => ({ ...toEntry(m), groups: await expand(m.id, next, load, depth - 1, maxPerGroup) }))),
      };
    }),
  );
}
