// The canonical rows a node's feature rows are computed from, kept in memory for /predict: a
// node's rows of each validated price partition, and every row of each load partition, keyed
// by the partition's materialization id. A new version of a partition has a new id, so
// changed data is read again and never answered from an old entry. The first request for a
// node reads its rows of the latest PREFETCH_DAYS days in one DuckDB query, so a later new
// day of that node (or of a day already read) needs no query at all.
import type { Instance } from '../../runtime/index.ts';
import type { LoadRow, PriceRow } from '../../assets/pjm/forecasting.ts';
import type { PartitionVersion, ValidatedCatalog } from './catalog.ts';
import type { ConnectionPool } from '../../lib/duckdb/pool.ts';
import { sqlStringList } from '../../lib/duckdb/sql.ts';
import { Lru } from './lru.ts';

/** Days of a node (and of load) read along with the first request that needs any of them. */
export const PREFETCH_DAYS = 62;

export interface NodeDayRows {
  readonly prices: PriceRow[];
  readonly load: LoadRow[];
}

/**
 * One entry of the cache: a node's rows of one price partition, or every row of one load
 * partition. Both kinds share one LRU (one memory bound), told apart by `kind` and by the key.
 */
type RowsEntry = { readonly kind: 'prices'; readonly rows: readonly PriceRow[] } | { readonly kind: 'load'; readonly rows: readonly LoadRow[] };

export class NodeRowCache {
  /** `<materialization id>|<node>` (prices) or `<materialization id>` (load) -> rows. */
  readonly #entries: Lru<string, RowsEntry>;

  constructor(
    private readonly instance: Instance<unknown>,
    private readonly catalog: ValidatedCatalog,
    private readonly pool: ConnectionPool,
    /** Partition entries kept (~48 rows each for a node-day of prices): ~10,000 stay well under 100 MB. */
    capacity = 10_000,
  ) {
    this.#entries = new Lru(capacity);
  }

  /**
   * The rows of `node` in the price partitions `prices` and every row of `load`, read from the
   * files for the partitions not in memory yet (with the node's other recent partitions when
   * nothing of it was). Throws when a file cannot be read (the caller finds which one).
   */
  async rows(node: number, prices: readonly PartitionVersion[], load: readonly PartitionVersion[]): Promise<NodeDayRows> {
    const missingPrices = prices.filter((p) => this.#prices(p, node) === undefined);
    const missingLoad = load.filter((l) => this.#load(l) === undefined);
    if (missingPrices.length > 0 || missingLoad.length > 0) {
      const extraPrices = this.catalog
        .latestPrices(PREFETCH_DAYS)
        .filter((p) => (p.node === null || p.node === node) && !p.corrupt && this.#prices(p, node) === undefined);
      const extraLoad = this.catalog.latestLoads(PREFETCH_DAYS).filter((l) => !l.corrupt && this.#load(l) === undefined);
      const union = <T extends PartitionVersion>(a: readonly T[], b: readonly T[]): T[] => [
        ...new Map([...a, ...b].map((p) => [p.materializationId, p])).values(),
      ];
      try {
        await this.#read(node, union(missingPrices, extraPrices), union(missingLoad, extraLoad));
      } catch {
        // A bad file among the prefetched ones must not fail this request: read only what it needs.
        await this.#read(node, missingPrices, missingLoad);
      }
    }
    const out: NodeDayRows = { prices: [], load: [] };
    for (const p of prices) out.prices.push(...(this.#prices(p, node) ?? []));
    for (const l of load) out.load.push(...(this.#load(l) ?? []));
    return out;
  }

  /** The node's rows of price partition `p` when in memory. */
  #prices(p: PartitionVersion, node: number): readonly PriceRow[] | undefined {
    const entry = this.#entries.get(priceKey(p, node));
    return entry?.kind === 'prices' ? entry.rows : undefined;
  }

  /** The rows of load partition `l` when in memory. */
  #load(l: PartitionVersion): readonly LoadRow[] | undefined {
    const entry = this.#entries.get(loadKey(l));
    return entry?.kind === 'load' ? entry.rows : undefined;
  }

  async #read(node: number, prices: readonly PartitionVersion[], load: readonly PartitionVersion[]): Promise<void> {
    const storage = this.instance.storage;
    const [pricePaths, loadPaths] = await Promise.all([
      Promise.all(prices.map((p) => storage.localPath(p.location))),
      Promise.all(load.map((l) => storage.localPath(l.location))),
    ]);
    const priceRows = new Map<string, PriceRow[]>(pricePaths.map((path) => [path, []]));
    const loadRows = new Map<string, LoadRow[]>(loadPaths.map((path) => [path, []]));
    await this.pool.with(async (conn) => {
      if (pricePaths.length > 0) {
        const r = await conn.runAndReadAll(
          `SELECT filename, epoch_ms(ts_utc), zone, market, lmp FROM read_parquet(${sqlStringList(pricePaths)}, filename = true) WHERE node_id = ${Math.trunc(node)}`,
        );
        for (const [file, ts, zone, market, lmp] of r.getRows())
          priceRows
            .get(String(file))
            ?.push({ ts: Number(ts), zone: zone === null ? null : String(zone), market: String(market), lmp: lmp === null ? null : Number(lmp) });
      }
      if (loadPaths.length > 0) {
        const r = await conn.runAndReadAll(`SELECT filename, epoch_ms(ts_utc), area, kind, mw FROM read_parquet(${sqlStringList(loadPaths)}, filename = true)`);
        for (const [file, ts, area, kind, mw] of r.getRows())
          loadRows.get(String(file))?.push({ ts: Number(ts), area: String(area), kind: String(kind), mw: mw === null ? null : Number(mw) });
      }
    });
    for (const [i, p] of prices.entries()) this.#entries.set(priceKey(p, node), { kind: 'prices', rows: priceRows.get(pricePaths[i]!) ?? [] });
    for (const [i, l] of load.entries()) this.#entries.set(loadKey(l), { kind: 'load', rows: loadRows.get(loadPaths[i]!) ?? [] });
  }
}

const priceKey = (p: PartitionVersion, node: number): string => `${p.materializationId}|${node}`;
const loadKey = (l: PartitionVersion): string => String(l.materializationId);
