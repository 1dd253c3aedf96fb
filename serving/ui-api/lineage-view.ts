// GET /api/materializations/:id/lineage: one materialization, its checks, the
// tree of what it consumed (upstream materializations with their versions and
// times) and what consumed it, from the runtime's lineage query.
import { lineageOf, type LineageResult } from '../../runtime/lineage.ts';
import type { Instance } from '../../runtime/index.ts';
import { historyEntry, type HistoryEntry } from './asset-view.ts';

export interface LineageView {
  readonly materialization: HistoryEntry & { readonly asset: string; readonly current: boolean };
  readonly lineage: LineageResult;
}

export async function lineageView(
  instance: Instance<unknown>,
  id: number,
  options: { depth?: number; maxPerGroup?: number } = {},
): Promise<LineageView | undefined> {
  const [m, lineage] = await Promise.all([
    instance.store.materialization(id),
    lineageOf(instance.store, id, { depth: options.depth ?? 4, maxPerGroup: options.maxPerGroup ?? 5 }),
  ]);
  if (!m || !lineage) return undefined;
  const current = (await instance.store.current(m.asset, m.partition))?.id === m.id;
  return { materialization: { ...(await historyEntry(instance, m)), asset: m.asset, current }, lineage };
}
