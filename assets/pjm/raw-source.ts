// The raw stage's view of the three sources: for one EPT day, SQL selecting the
// raw-LMP and raw-load rows (assets/pjm/sources/raw.ts shapes), restricted to the
// configured markets and load areas, prices for one node (the raw prices are node x
// day partitions). File sources are parsed once per process into tables of the
// shared DuckDB instance, so a 2,000-day backfill reads each file once, not 2,000
// times. The live API is fetched once per day and feed for every configured node
// (one request a day where per-node fetching would take one per node, at 6 requests a
// minute), and each node-day of that run is served from it.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DateTime } from 'luxon';
import { duckdbConnect } from '../../runtime/index.ts';
import type { PjmConfig } from './config.ts';
import { eptDayCondition } from './processed/index.ts';
import { DataMinerClient, registerDataMinerNdjson, withDayRetries, writeItemsNdjson, type DataMinerFeed, type DataMinerItem } from './sources/dataminer-api.ts';
import { findDataMinerCsvFiles, registerDataMinerLmpCsv, registerDataMinerLoadMeteredCsv } from './sources/dataminer-csv.ts';
import { registerEpftoolbox } from './sources/epftoolbox.ts';
import { RAW_LMP_COLUMNS, RAW_LOAD_COLUMNS, type LoadFeed, type LoadKind } from './sources/raw.ts';
import { sqlString } from '../../lib/duckdb/sql.ts';

export interface RawDaySql {
  /** A query over `conn` returning the day's raw rows in a fixed order. */
  readonly sql: string;
  readonly metadata: Record<string, string | number>;
}

/** What a raw step gives its source besides the day: cancellation, and a place to say it is retrying. */
export interface RawFetchOptions {
  readonly signal?: AbortSignal;
  /** The run asking: a live fetch is shared by the node-days of one run, never across runs (each run re-reads). */
  readonly runId?: string;
  readonly warn?: (message: string) => void;
}

export interface RawSource {
  /**
   * What the raw data is read from: file contents, or the API endpoint. Recorded in the raw
   * metadata, not in the code version: a new export with one more hub must not make every
   * day of every node stale (a changed file is re-read for the trailing PJM_REVISION_DAYS,
   * and a re-read that finds the same rows changes nothing).
   */
  fingerprint(): Promise<string>;
  /** The rows of one node (pnode id) and EPT day, every configured market. */
  pricesForNodeDay(conn: DuckDBConnection, nodeId: number, day: string, tempDir: string, options?: RawFetchOptions): Promise<RawDaySql>;
  loadForDay(conn: DuckDBConnection, day: string, tempDir: string, options?: RawFetchOptions): Promise<RawDaySql>;
  /** Whether this source has load data, and which (area, kind) series each day must hold. */
  loadFeed(): Promise<LoadFeed>;
}

const LMP_TABLE = 'pjm_source_lmp';
const LOAD_TABLE = 'pjm_source_load';
// Every column that can differ within a key takes part, so identical rows give identical files.
const LMP_ORDER = 'ORDER BY market, pnode_id, ts_utc, version_nbr, row_is_current, origin, lmp, energy, congestion, loss';
const LOAD_ORDER = 'ORDER BY area, kind, ts_utc, issued_utc';

const nodeIdSql = (nodeId: number): string => {
  if (!Number.isSafeInteger(nodeId) || nodeId <= 0) throw new Error(`A pricing node id is a positive whole number (a pnode_id), got ${nodeId}.`);
  return String(nodeId);
};

function marketFilter(config: PjmConfig): string {
  return `market IN (${config.markets.map(sqlString).join(', ')})`;
}

function areaFilter(config: PjmConfig): string {
  return config.loadAreas.length === 0 ? 'true' : `area IN (${config.loadAreas.map(sqlString).join(', ')})`;
}

async function hashFiles(paths: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const p of paths) h.update(p.split('/').pop()!).update(await readFile(p));
  return h.digest('hex').slice(0, 12);
}

/**
 * A file source: `load(conn)` fills the two source tables once per process (on
 * the shared in-memory DuckDB instance, visible to every step's connection).
 */
/** The series a present feed must deliver each day: every configured area, for each kind the feed has. */
const seriesOf = (config: PjmConfig, kinds: readonly LoadKind[]): { area: string; kind: LoadKind }[] =>
  config.loadAreas.flatMap((area) => kinds.map((kind) => ({ area, kind })));

function fileSource(
  config: PjmConfig,
  files: () => Promise<string[]>,
  load: (conn: DuckDBConnection) => Promise<void>,
  loadFeed: () => Promise<LoadFeed>,
): RawSource {
  let loaded: Promise<void> | undefined;
  const ensureLoaded = () =>
    (loaded ??= (async () => {
      const conn = await duckdbConnect();
      try {
        await load(conn);
      } finally {
        conn.closeSync();
      }
    })().catch((err) => {
      loaded = undefined;
      throw err;
    }));
  return {
    fingerprint: async () => hashFiles(await files()),
    loadFeed,
    async pricesForNodeDay(_conn, nodeId, day) {
      await ensureLoaded();
      return {
        sql: `SELECT ${RAW_LMP_COLUMNS.join(', ')} FROM ${LMP_TABLE} WHERE ${eptDayCondition('ts_utc', day)} AND pnode_id = ${nodeIdSql(nodeId)} AND ${marketFilter(config)} ${LMP_ORDER}`,
        metadata: { source: config.source },
      };
    },
    async loadForDay(_conn, day) {
      await ensureLoaded();
      return {
        sql: `SELECT ${RAW_LOAD_COLUMNS.join(', ')} FROM ${LOAD_TABLE} WHERE ${eptDayCondition('ts_utc', day)} AND ${areaFilter(config)} ${LOAD_ORDER}`,
        metadata: { source: config.source },
      };
    },
  };
}

function epftoolboxSource(config: PjmConfig): RawSource {
  const csv = join(config.epftoolboxDir, 'PJM.csv');
  return fileSource(
    config,
    async () => [csv],
    async (conn) => {
      const r = await registerEpftoolbox(conn, csv, { start: config.start, end: config.end });
      await conn.run(`CREATE OR REPLACE TABLE ${LMP_TABLE} AS SELECT * FROM ${r.relations.lmp}`);
      await conn.run(`CREATE OR REPLACE TABLE ${LOAD_TABLE} AS SELECT * FROM ${r.relations.load}`);
    },
    async () => ({
      status: 'present',
      feeds: ['PJM.csv'],
      series: seriesOf({ ...config, loadAreas: config.loadAreas.filter((a) => a === 'RTO' || a === 'COMED') }, ['forecast']),
    }),
  );
}

function dataMinerCsvSource(config: PjmConfig): RawSource {
  const dir = config.csvDir!;
  const list = async () => {
    const f = await findDataMinerCsvFiles(dir);
    return [...f.da, ...f.rt, ...f.loadMetered];
  };
  return fileSource(
    config,
    list,
    async (conn) => {
      const f = await findDataMinerCsvFiles(dir);
      const lmp: string[] = [];
      for (const market of config.markets) {
        const files = market === 'da' ? f.da : f.rt;
        if (files.length === 0) throw new Error(`PJM_MARKETS includes ${market}, but ${dir} has no *_${market}_hrl_lmps.csv export.`);
        await registerDataMinerLmpCsv(conn, files, market, `csv_lmp_${market}`);
        lmp.push(`SELECT ${RAW_LMP_COLUMNS.join(', ')} FROM csv_lmp_${market}`);
      }
      await conn.run(`CREATE OR REPLACE TABLE ${LMP_TABLE} AS ${lmp.join(' UNION ALL ')}`);
      if (f.loadMetered.length > 0) {
        await registerDataMinerLoadMeteredCsv(conn, f.loadMetered, 'csv_load');
        await conn.run(`CREATE OR REPLACE TABLE ${LOAD_TABLE} AS SELECT ${RAW_LOAD_COLUMNS.join(', ')} FROM csv_load`);
      } else {
        await conn.run(
          `CREATE OR REPLACE TABLE ${LOAD_TABLE} AS SELECT CAST(NULL AS TIMESTAMPTZ) AS ts_utc, CAST(NULL AS VARCHAR) AS area, CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS DOUBLE) AS mw, CAST(NULL AS TIMESTAMPTZ) AS issued_utc, CAST(NULL AS BOOLEAN) AS is_verified WHERE false`,
        );
      }
    },
    async () => {
      const f = await findDataMinerCsvFiles(dir);
      if (f.loadMetered.length === 0) {
        return { status: 'absent', reason: `PJM_CSV_DIR ${dir} has no hrl_load_metered export (*hrl_load_metered.csv); add one to use load` };
      }
      return { status: 'present', feeds: f.loadMetered.map((p) => p.split('/').pop()!), series: seriesOf(config, ['metered']) };
    },
  );
}

/** Today's EPT delivery day, by the real clock. */
const eptToday = (): string => DateTime.now().setZone('America/New_York').toISODate()!;

function dataMinerApiSource(config: PjmConfig): RawSource {
  // One client per process: its rate limiter must see every request.
  const client = new DataMinerClient(config.api);
  const fetchItems = (feed: DataMinerFeed, day: string, filter: Parameters<DataMinerClient['fetchDay']>[2], options: RawFetchOptions = {}) =>
    // The day is retried here rather than by the runtime's step retry, so that a refused
    // connection or a bad key fails the step at once instead of after minutes of backoff.
    withDayRetries(() => client.fetchDay(feed, day, filter), {
      attempts: 3,
      backoffMs: 30_000,
      signal: options.signal,
      onRetry: ({ attempt, error, delayMs }) =>
        options.warn?.(`${feed} ${day}: attempt ${attempt} failed (${error.message}); retrying in ${Math.round(delayMs / 1000)} s`),
    });
  const toView = async (conn: DuckDBConnection, feed: DataMinerFeed, items: readonly DataMinerItem[], tempDir: string) => {
    const path = join(tempDir, `${feed}.ndjson`);
    await writeItemsNdjson(items, path);
    const view = `api_${feed}`;
    if (items.length > 0) await registerDataMinerNdjson(conn, feed, [path], view);
    return items.length > 0 ? view : undefined;
  };
  // The LMPs of one day and feed for every configured node, fetched once per run: the
  // node-days of that run are cut from it. Entries of earlier runs are dropped, so every
  // run re-reads (PJM revises real-time prices after publishing them).
  const configured = config.nodes.map((n) => n.id);
  const shared = new Map<string, Promise<DataMinerItem[]>>();
  let sharedRun: string | undefined;
  const dayOfAllNodes = (feed: DataMinerFeed, day: string, options: RawFetchOptions): Promise<DataMinerItem[]> => {
    if (options.runId !== sharedRun) {
      shared.clear();
      sharedRun = options.runId;
    }
    const key = `${feed}|${day}`;
    let p = shared.get(key);
    if (!p) {
      p = fetchItems(feed, day, { pnodeIds: configured }, options);
      // A failed fetch is not kept: the next node-day asking tries again.
      p.catch(() => shared.delete(key));
      shared.set(key, p);
    }
    return p;
  };
  return {
    fingerprint: async () => `api:${config.api.baseUrl}`,
    loadFeed: async () => ({
      status: 'present',
      feeds: ['Data Miner API load_frcstd_7_day', 'Data Miner API hrl_load_metered'],
      series: seriesOf(config, ['forecast', 'metered']),
    }),
    async pricesForNodeDay(conn, nodeId, day, tempDir, options = {}) {
      const parts: string[] = [];
      const metadata: Record<string, number | string> = { source: config.source };
      const id = nodeIdSql(nodeId);
      for (const market of config.markets) {
        const feed: DataMinerFeed = market === 'da' ? 'da_hrl_lmps' : 'rt_hrl_lmps';
        // A node added at run time (`materialize partitions add pjm_nodes ID`) is not in the
        // shared request; it is fetched on its own.
        const all = configured.includes(nodeId) ? await dayOfAllNodes(feed, day, options) : await fetchItems(feed, day, { pnodeIds: [nodeId] }, options);
        const items = all.filter((item) => String(item['pnode_id']) === id);
        metadata[`${feed}Rows`] = items.length;
        const view = await toView(conn, feed, items, tempDir);
        if (view) parts.push(`SELECT ${RAW_LMP_COLUMNS.join(', ')} FROM ${view}`);
      }
      if (parts.length === 0) {
        // Today, or the next delivery day before its day-ahead prices post (the live raw prices
        // reach it): nothing yet is not an error. A day that is over must have rows.
        if (day >= eptToday()) {
          const feed: DataMinerFeed = config.markets[0] === 'rt' ? 'rt_hrl_lmps' : 'da_hrl_lmps';
          const path = join(tempDir, `${feed}-none.ndjson`);
          await writeItemsNdjson([], path);
          await registerDataMinerNdjson(conn, feed, [path], `api_${feed}`);
          return {
            sql: `SELECT ${RAW_LMP_COLUMNS.join(', ')} FROM api_${feed} ${LMP_ORDER}`,
            metadata: { ...metadata, published: `not yet: ${day} has not ended and Data Miner has no LMP rows of node ${nodeId} for it` },
          };
        }
        throw new Error(`Data Miner returned no LMP rows for node ${nodeId} on ${day}; is the day published yet, and is ${nodeId} a pnode_id?`);
      }
      return { sql: `SELECT * FROM (${parts.join(' UNION ALL ')}) WHERE ${eptDayCondition('ts_utc', day)} AND pnode_id = ${id} ${LMP_ORDER}`, metadata };
    },
    async loadForDay(conn, day, tempDir, options) {
      const parts: string[] = [];
      const metadata: Record<string, number | string> = { source: config.source };
      for (const feed of ['load_frcstd_7_day', 'hrl_load_metered'] as const) {
        const items = await fetchItems(feed, day, { areas: config.loadAreas }, options);
        metadata[`${feed}Rows`] = items.length;
        const view = await toView(conn, feed, items, tempDir);
        if (view) parts.push(`SELECT ${RAW_LOAD_COLUMNS.join(', ')} FROM ${view}`);
      }
      if (parts.length === 0) throw new Error(`Data Miner returned no load rows for ${day} (areas ${config.loadAreas.join(', ')}).`);
      return { sql: `SELECT * FROM (${parts.join(' UNION ALL ')}) WHERE ${eptDayCondition('ts_utc', day)} ${LOAD_ORDER}`, metadata };
    },
  };
}

export function rawSourceFor(config: PjmConfig): RawSource {
  switch (config.source) {
    case 'epftoolbox':
      return epftoolboxSource(config);
    case 'dataminer-csv':
      return dataMinerCsvSource(config);
    case 'dataminer-api':
      return dataMinerApiSource(config);
  }
}
