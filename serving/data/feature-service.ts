// Feature rows of one (node, market, EPT day) for /predict, computed from the current
// validated partitions the day needs: their rows are kept in memory per node (NodeRowCache)
// and `featureRowsInMemory` computes what the `features` asset's SQL would from them (a test
// compares the two for every node-day of the test store). Results (and "missing input" answers) are
// cached under a key made of the data versions they were computed from, so a repeated
// request does no DuckDB work and new data is never answered from an old entry.
// A read that fails hashes the files it read: a bad one is marked corrupt in the store, and
// only requests that need that day are refused (503 `input_corrupt`, naming it); the node
// directory is read from the intact days, file by file when a batch read fails.
import type { Logger } from 'pino';
import { checkVersions, describePartition, duckdbConnect, errorMessage, type BadFile, type Instance } from '../../runtime/index.ts';
import {
  describeFeatureSet,
  featuresInMemory,
  featureTableOfDay,
  legacyFeatureSet,
  PRICE_LAGS,
  resolveFeatureSet,
  type FeatureSet,
  type FeatureTable,
  type Market,
  type MissingInput,
  type OneDayFeatures,
} from '../../assets/pjm/forecasting.ts';
import { HttpError } from '../http/errors.ts';
import type { ServingMetrics } from '../metrics.ts';
import { addDays } from '../../lib/days.ts';
import { ValidatedCatalog, type PartitionVersion } from './catalog.ts';
import { ConnectionPool } from '../../lib/duckdb/pool.ts';
import { readParquetSql } from '../../lib/duckdb/sql.ts';
import { Lru } from './lru.ts';
import { NodeRowCache } from './node-rows.ts';

export interface NodeInfo {
  readonly id: number;
  readonly name: string | null;
  readonly zone: string | null;
}

export interface DayFeatures {
  /** Cache key: node, market, day and the materialization ids of every partition read. */
  readonly key: string;
  readonly node: NodeInfo;
  readonly market: Market;
  readonly day: string;
  /** The 24 grid-hour rows, as the model code reads them. */
  readonly table: FeatureTable;
  /** `asset[day]` -> data version of every validated partition the rows were built from. */
  readonly dataVersions: Readonly<Record<string, string>>;
}

export interface FeatureServiceOptions {
  readonly instance: Instance<unknown>;
  readonly log: Logger;
  readonly metrics: ServingMetrics;
  readonly pollIntervalMs: number;
  readonly cacheSize: number;
  /** Load area of the system-wide load forecast (the features asset's setting). Default 'RTO'. */
  readonly systemLoadArea?: string;
  /** Concurrent DuckDB feature queries. Default 2. */
  readonly connections?: number;
  readonly catalog?: ValidatedCatalog;
}

/** How many recent price partitions the node directory is read from. */
const DIRECTORY_DAYS = 31;
const MAX_LAG = Math.max(...PRICE_LAGS);

interface NodeDirectory {
  readonly generation: number;
  readonly byId: Map<number, NodeInfo>;
  readonly byName: Map<string, NodeInfo>;
}

type CacheEntry = { readonly ok: true; readonly value: DayFeatures } | { readonly ok: false; readonly error: HttpError };

export class FeatureService {
  readonly catalog: ValidatedCatalog;
  readonly #pool: ConnectionPool;
  readonly #cache: Lru<string, CacheEntry>;
  readonly #rows: NodeRowCache;
  readonly #inflight = new Map<string, Promise<CacheEntry>>();
  #directory: NodeDirectory | undefined;
  #directoryLoading: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;
  /** One refresh at a time; a change seen meanwhile asks for one more after it. */
  #refreshing: Promise<void> | undefined;
  #again = false;

  constructor(private readonly options: FeatureServiceOptions) {
    this.catalog = options.catalog ?? new ValidatedCatalog(options.instance.store);
    // At most `connections` feature queries at once, each on its own connection.
    const connections = options.connections ?? 2;
    this.#pool = new ConnectionPool({ connect: duckdbConnect, maxIdle: connections, maxOpen: connections });
    this.#cache = new Lru(options.cacheSize);
    this.#rows = new NodeRowCache(options.instance, this.catalog, this.#pool);
  }

  /**
   * Reads the catalog once, then refreshes it whenever the store reports a change (PostgreSQL:
   * LISTEN/NOTIFY; SQLite: the store's poll), and every pollIntervalMs as a safety net (two
   * token reads when nothing changed).
   */
  async start(): Promise<void> {
    await this.#poll();
    try {
      this.#unsubscribe = await this.options.instance.store.subscribe((change) => {
        if (change.kind === 'activity' || change.asset === this.catalog.pricesAsset || change.asset === this.catalog.loadAsset) void this.#poll();
      });
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'cannot subscribe to lineage store changes; polling only');
    }
    this.#timer = setInterval(() => void this.#poll(), this.options.pollIntervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#unsubscribe?.().catch(() => undefined);
    await this.#refreshing;
    this.#pool.close();
  }

  #poll(): Promise<void> {
    if (this.#refreshing !== undefined) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        try {
          if (await this.catalog.refresh()) this.options.log.info(this.catalog.counts, 'validated data changed');
        } catch (err) {
          this.options.log.error({ err: (err as Error).message }, 'reading validated partitions from the lineage store failed');
        }
      } while (this.#again);
    })().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  /** The node a request names (pnode id or name, case-insensitive); 404 `unknown_node` when no validated price has it. */
  async resolveNode(ref: number | string): Promise<NodeInfo> {
    const dir = await this.#nodeDirectory();
    const node = typeof ref === 'number' ? dir.byId.get(ref) : (dir.byName.get(ref.trim().toUpperCase()) ?? numericRef(ref, dir.byId));
    if (node) return node;
    const known = [...dir.byId.values()].slice(0, 20).map((n) => (n.name ? `${n.id} (${n.name})` : String(n.id)));
    throw new HttpError(
      404,
      'unknown_node',
      known.length === 0
        ? `Unknown node ${JSON.stringify(ref)}: there are no validated prices yet, so no node is known. Materialize pjm/validated/prices first.`
        : `Unknown node ${JSON.stringify(ref)}: it has no validated prices in the last ${DIRECTORY_DAYS} days of data. Known nodes: ${known.join(', ')}.`,
      { node: ref },
    );
  }

  /**
   * The feature rows of (node, market, day) built from `featureSet` (the served model's; default
   * the market's legacy set), or a 422 `missing_inputs` naming every missing series, day and hour.
   */
  async forDay(
    node: NodeInfo,
    market: Market,
    day: string,
    featureSet: FeatureSet = legacyFeatureSet(market, this.options.systemLoadArea ?? 'RTO'),
  ): Promise<DayFeatures> {
    const prices: PartitionVersion[] = [];
    for (let lag = MAX_LAG; lag >= 0; lag--) {
      const p = this.catalog.prices(node.id, addDays(day, -lag));
      if (p) prices.push(p);
    }
    const load: PartitionVersion[] = [];
    for (const d of [addDays(day, -1), day]) {
      const l = this.catalog.load(d);
      if (l) load.push(l);
    }
    if (load.length === 0 && this.catalog.counts.load > 0) {
      // Keep the load areas known to the SQL (it reads them from the files it is given), so
      // missing load days are reported as missing instead of the load features being dropped.
      const latest = this.catalog.latestLoad();
      if (latest) load.push(latest);
    }
    const corrupt = [...prices, ...load].filter((p) => p.corrupt);
    if (corrupt.length > 0)
      throw inputCorrupt(
        node,
        market,
        day,
        corrupt.map((p) => ({ asset: p.asset, partition: p.partition, what: describeMark(p) })),
      );
    const key = `${node.id}|${describeFeatureSet(featureSet)}|${day}|${prices.map((p) => p.materializationId).join(',')}|${load.map((l) => l.materializationId).join(',')}`;
    let entry = this.#cache.get(key);
    if (entry) {
      this.options.metrics.featureCache.inc({ result: 'hit' });
    } else {
      this.options.metrics.featureCache.inc({ result: 'miss' });
      let pending = this.#inflight.get(key);
      if (!pending) {
        pending = this.#compute(key, node, featureSet, day, prices, load).finally(() => this.#inflight.delete(key));
        this.#inflight.set(key, pending);
      }
      entry = await pending;
    }
    if (!entry.ok) throw entry.error;
    return entry.value;
  }

  async #compute(key: string, node: NodeInfo, featureSet: FeatureSet, day: string, prices: PartitionVersion[], load: PartitionVersion[]): Promise<CacheEntry> {
    const market = featureSet.market;
    let entry: CacheEntry;
    if (prices.length === 0) {
      const missing: MissingInput[] = [...PRICE_LAGS].map((lag) => ({ input: 'price', nodeId: node.id, market, day: addDays(day, -lag), hours: range24 }));
      entry = { ok: false, error: missingInputs(node, market, day, `no validated prices exist for ${addDays(day, -MAX_LAG)}..${addDays(day, -1)}`, missing) };
    } else {
      let result: OneDayFeatures;
      const set = resolveFeatureSet(market, featureSet);
      try {
        // The rows of the files the feature SQL would read, from memory (read once per node),
        // and the SQL's arithmetic in TypeScript: no query per node-day.
        const rows = await this.#rows.rows(node.id, prices, load);
        result = featuresInMemory({ nodeId: node.id, day, set, prices: rows.prices, load: rows.load });
      } catch (err) {
        // Not cached: once the partition is rewritten, the next request must read it again.
        const bad = await this.#findCorrupt([...prices, ...load]);
        if (bad.length === 0) throw err;
        throw inputCorrupt(
          node,
          market,
          day,
          bad.map((b) => ({ asset: b.asset, partition: b.partition, what: describeBad(b) })),
        );
      }
      if (result.ok) {
        const dataVersions: Record<string, string> = {};
        for (const p of [...prices, ...load]) dataVersions[describePartition(p.asset, p.partition)] = p.dataVersion;
        const table = featureTableOfDay({ nodeId: node.id, day, set, target: result.target, features: result.features });
        entry = { ok: true, value: { key, node, market, day, table, dataVersions } };
      } else {
        entry = { ok: false, error: missingInputs(node, market, day, result.error.message, result.error.missing) };
      }
    }
    this.#cache.set(key, entry);
    return entry;
  }

  async #nodeDirectory(): Promise<NodeDirectory> {
    while (this.#directory?.generation !== this.catalog.generation) {
      this.#directoryLoading ??= this.#loadDirectory().finally(() => (this.#directoryLoading = undefined));
      await this.#directoryLoading;
    }
    return this.#directory;
  }

  async #loadDirectory(): Promise<void> {
    const generation = this.catalog.generation;
    // Days marked corrupt are left out: the directory must not depend on every recent day reading.
    const partitions = this.catalog.latestIntactPrices(DIRECTORY_DAYS);
    const byId = new Map<number, NodeInfo>();
    const byName = new Map<string, NodeInfo>();
    if (partitions.length > 0) {
      let rows: unknown[][];
      try {
        rows = await this.#directoryRows(partitions);
      } catch (err) {
        // One bad file fails the whole read: read them one at a time, keep what reads, and mark the bad ones.
        this.options.log.warn({ err: errorMessage(err) }, 'reading the node directory failed; reading its partitions one by one');
        rows = [];
        const failed: PartitionVersion[] = [];
        for (const p of partitions) {
          try {
            rows.push(...(await this.#directoryRows([p])));
          } catch {
            failed.push(p);
          }
        }
        if (failed.length > 0) await this.#findCorrupt(failed);
      }
      for (const [id, name, zone] of rows as [unknown, unknown, unknown][]) {
        const node: NodeInfo = { id: Number(id), name: name === null ? null : String(name), zone: zone === null ? null : String(zone) };
        byId.set(node.id, node);
        if (node.name) byName.set(node.name.toUpperCase(), node);
      }
    }
    this.#directory = { generation, byId, byName };
  }

  async #directoryRows(partitions: readonly PartitionVersion[]): Promise<unknown[][]> {
    const paths = await Promise.all(partitions.map((p) => this.options.instance.storage.localPath(p.location)));
    return this.#pool.with(async (conn) => {
      const reader = await conn.runAndReadAll(
        `SELECT node_id, any_value(node_name) AS name, any_value(zone) AS zone FROM ${readParquetSql(paths)} GROUP BY node_id ORDER BY node_id`,
      );
      return reader.getRows();
    });
  }

  /** Hashes the files of `partitions`, marks the bad ones corrupt in the store (so /ready and status know), and returns them. */
  async #findCorrupt(partitions: readonly PartitionVersion[]): Promise<BadFile[]> {
    const bad = await checkVersions(
      this.options.instance,
      partitions.map((p) => ({
        asset: p.asset,
        partition: p.partition,
        materializationId: p.materializationId,
        dataVersion: p.dataVersion as never,
        location: p.location,
      })),
      'server',
    ).catch(() => [] as BadFile[]);
    if (bad.length > 0) {
      this.options.log.error(
        { corrupt: bad.map((b) => `${describePartition(b.asset, b.partition)}: ${describeBad(b)}`) },
        'corrupt validated partitions found and marked in the store',
      );
      await this.#poll();
    }
    return bad;
  }
}

const range24 = Array.from({ length: 24 }, (_, h) => h);

function numericRef(ref: string, byId: Map<number, NodeInfo>): NodeInfo | undefined {
  return /^\d+$/.test(ref.trim()) ? byId.get(Number(ref.trim())) : undefined;
}

function describeBad(b: Pick<BadFile, 'reason' | 'found' | 'expected' | 'detail'>): string {
  return b.reason === 'mismatch'
    ? `its file hashes to ${b.found}, not to its data version ${b.expected}`
    : b.reason === 'missing'
      ? 'its file is missing'
      : `its file cannot be read (${b.detail})`;
}

function describeMark(p: PartitionVersion): string {
  return describeBad({ reason: p.corrupt!.reason, found: p.corrupt!.found, expected: p.corrupt!.expected, detail: p.corrupt!.detail });
}

/** 503: the day needs a validated partition whose stored file is bad; a rematerialization repairs it. */
function inputCorrupt(node: NodeInfo, market: Market, day: string, corrupt: readonly { asset: string; partition: string; what: string }[]): HttpError {
  const list = corrupt.map((c) => `${describePartition(c.asset, c.partition)} (${c.what})`).join('; ');
  return new HttpError(
    503,
    'input_corrupt',
    `Cannot forecast node ${node.id}${node.name ? ` (${node.name})` : ''}, market ${market}, ${day}: it needs ${list}, whose stored data is corrupt. Other days are served. Repair it with \`materialize ${corrupt[0]!.asset} -p '${corrupt[0]!.partition}'\` (any run rewrites it).`,
    {
      node: node.id,
      market,
      date: day,
      corrupt: corrupt.map((c) => ({ asset: c.asset, partition: c.partition, day: c.partition.slice(c.partition.indexOf('|') + 1), problem: c.what })),
    },
    { 'Retry-After': '60' },
  );
}

function missingInputs(node: NodeInfo, market: Market, day: string, why: string, missing: readonly MissingInput[]): HttpError {
  return new HttpError(
    422,
    'missing_inputs',
    `Cannot forecast node ${node.id}${node.name ? ` (${node.name})` : ''}, market ${market}, ${day}: ${why.replace(/^Cannot build features[^:]*: /, '')}`,
    { node: node.id, market, date: day, missing },
  );
}
