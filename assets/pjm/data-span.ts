// The days a `dataminer-csv` run covers when PJM_START/PJM_END are not set: read from the
// exports in PJM_CSV_DIR, per feed (the configured markets' LMP feeds, and metered load when
// there is an export of it), keeping complete EPT days only (a trailing day with one hour is
// not a day of data), and the overlap of the feeds. `resolvePjmConfig` is how the definitions
// load the configuration.
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbConnect } from '../../runtime/index.ts';
import {
  csvSourceChosen,
  loadAreasGiven,
  loadPjmConfig,
  marketsGiven,
  needsDataSpan,
  nodesSetting,
  withPlaceholderSpan,
  PjmConfigError,
  PJM_MARKETS,
  type DataSpan,
  type ExportLoadAreas,
  type ExportMarkets,
  type ExportNodes,
  type PjmConfig,
  type PjmMarket,
  type PjmNode,
} from './config.ts';
import {
  dataMinerLmpCsvSql,
  dataMinerLoadMeteredCsvSql,
  findDataMinerCsvFiles,
  checkCsvHeaders,
  lmpCsvColumns,
  LOAD_METERED_CSV_COLUMNS,
} from './sources/dataminer-csv.ts';
import { EPT_ZONE, useUtc } from './sources/raw.ts';

export type CsvFeed = 'rt_hrl_lmps' | 'da_hrl_lmps' | 'hrl_load_metered';

export interface FeedSpan {
  readonly feed: CsvFeed;
  readonly files: readonly string[];
  /** First and last complete EPT day (every hour of the day present); null when the files hold none. */
  readonly first: string | null;
  readonly last: string | null;
}

/** First and last complete EPT day of the rows of `select` (columns ts_utc). */
async function completeDays(conn: DuckDBConnection, select: string): Promise<{ first: string | null; last: string | null }> {
  const r = await conn.runAndReadAll(`
    WITH h AS (SELECT DISTINCT ts_utc FROM (${select})),
         d AS (SELECT CAST(timezone('${EPT_ZONE}', ts_utc) AS DATE) AS d, count(*) AS n FROM h GROUP BY 1)
    SELECT CAST(min(d) AS VARCHAR), CAST(max(d) AS VARCHAR) FROM d
    WHERE n = date_diff('hour', timezone('${EPT_ZONE}', CAST(d AS TIMESTAMP)), timezone('${EPT_ZONE}', CAST(d + 1 AS TIMESTAMP)))`);
  const row = r.getRows()[0] ?? [];
  return { first: (row[0] as string | null) ?? null, last: (row[1] as string | null) ?? null };
}

/**
 * An export parsed once per connection into a temp table: the span, the node list and the
 * load areas of the same exports are read from it, not by parsing every CSV file again for
 * each at start-up.
 */
async function exportTable(conn: DuckDBConnection, table: string, files: readonly string[], select: string): Promise<string> {
  const parsed = parsedExports.get(conn) ?? new Map<string, string>();
  parsedExports.set(conn, parsed);
  const key = files.join('\n');
  if (parsed.get(table) !== key) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${select}`);
    parsed.set(table, key);
  }
  return table;
}
const lmpExportTable = (conn: DuckDBConnection, files: readonly string[], market: PjmMarket): Promise<string> =>
  exportTable(conn, `export_lmp_${market}`, files, dataMinerLmpCsvSql(files, market));
const loadExportTable = (conn: DuckDBConnection, files: readonly string[]): Promise<string> =>
  exportTable(conn, 'export_load_metered', files, dataMinerLoadMeteredCsvSql(files));
const parsedExports = new WeakMap<DuckDBConnection, Map<string, string>>();

/** The span of each feed a run on `dir` with `markets` reads. Throws naming a configured market without an export. */
export async function csvFeedSpans(conn: DuckDBConnection, dir: string, markets: readonly PjmMarket[]): Promise<FeedSpan[]> {
  const found = await findDataMinerCsvFiles(dir);
  await useUtc(conn);
  const spans: FeedSpan[] = [];
  for (const market of markets) {
    const files = market === 'da' ? found.da : found.rt;
    if (files.length === 0)
      throw new PjmConfigError('PJM_MARKETS', markets.join(','), `markets that have an export in ${dir} (there is no *_${market}_hrl_lmps.csv)`);
    await checkCsvHeaders(files, lmpCsvColumns(market), `${market}_hrl_lmps`);
    spans.push({ feed: `${market}_hrl_lmps`, files, ...(await completeDays(conn, `SELECT * FROM ${await lmpExportTable(conn, files, market)}`)) });
  }
  if (found.loadMetered.length > 0) {
    await checkCsvHeaders(found.loadMetered, LOAD_METERED_CSV_COLUMNS, 'hrl_load_metered');
    spans.push({
      feed: 'hrl_load_metered',
      files: found.loadMetered,
      ...(await completeDays(conn, `SELECT * FROM ${await loadExportTable(conn, found.loadMetered)}`)),
    });
  }
  return spans;
}

/** The overlap of the feeds' spans, with the sentence the run output shows. Throws when they do not overlap. */
export function overlapOf(dir: string, spans: readonly FeedSpan[]): DataSpan {
  const empty = spans.filter((s) => s.first === null);
  if (empty.length > 0)
    throw new PjmConfigError(
      'PJM_CSV_DIR',
      dir,
      `exports holding at least one complete EPT day (${empty.map((s) => s.files.join(', ')).join('; ')} hold none)`,
    );
  // ISO dates sort as strings: the overlap starts at the latest first day and ends at the earliest last day.
  const start = spans
    .map((s) => s.first!)
    .sort()
    .at(-1)!;
  const end = spans.map((s) => s.last!).sort()[0]!;
  const each = spans.map((s) => `${s.feed} ${s.first}..${s.last}`).join(', ');
  if (end < start) throw new PjmConfigError('PJM_CSV_DIR', dir, `exports whose feeds share some days (${each} do not overlap); or set PJM_START/PJM_END`);
  const detail =
    spans.length === 1
      ? `the complete days of the export in ${dir} (${each})`
      : `the overlap of the exports in ${dir} (${each}; complete days only): ${start}..${end}`;
  return { start, end, detail };
}

/** The nodes of each configured market's export, and those in all of them (the default PJM_NODES), in pnode id order. */
export async function csvExportNodes(
  conn: DuckDBConnection,
  dir: string,
  markets: readonly PjmMarket[],
): Promise<ExportNodes & { byMarket: ReadonlyMap<PjmMarket, ReadonlyMap<number, string | null>> }> {
  const found = await findDataMinerCsvFiles(dir);
  await useUtc(conn);
  const byMarket = new Map<PjmMarket, Map<number, string | null>>();
  for (const market of markets) {
    const files = market === 'da' ? found.da : found.rt;
    if (files.length === 0)
      throw new PjmConfigError('PJM_MARKETS', markets.join(','), `markets that have an export in ${dir} (there is no *_${market}_hrl_lmps.csv)`);
    const r = await conn.runAndReadAll(
      `SELECT CAST(pnode_id AS DOUBLE), any_value(pnode_name) FROM ${await lmpExportTable(conn, files, market)} GROUP BY pnode_id ORDER BY pnode_id`,
    );
    byMarket.set(market, new Map(r.getRows().map(([id, name]) => [Number(id), name === null || name === '' ? null : String(name)])));
  }
  const [first, ...rest] = markets.map((m) => byMarket.get(m)!);
  const inEvery: PjmNode[] = [...first!].filter(([id]) => rest.every((m) => m.has(id))).map(([id, name]) => ({ id, name }));
  const counts = markets.map((m) => `${m} ${byMarket.get(m)!.size}`).join(', ');
  const partial = new Set([...byMarket.values()].flatMap((m) => [...m.keys()]).filter((id) => !inEvery.some((n) => n.id === id)));
  const detail =
    `the ${inEvery.length} node(s) in ${markets.length > 1 ? "every market's export" : 'the export'} in ${dir} (${counts})` +
    (partial.size > 0
      ? `; left out, in some market's export only: ${[...partial].slice(0, 10).join(', ')}${partial.size > 10 ? ` and ${partial.size - 10} more` : ''}`
      : '');
  return { inEvery, detail, byMarket };
}

/**
 * The markets a folder of exports can forecast when PJM_MARKETS is unset: those with an LMP
 * export. A user who exported RT prices only gets an RT model from RT prices, not an error
 * asking for a DA file they do not have.
 */
export async function csvExportMarkets(dir: string): Promise<ExportMarkets> {
  const found = await findDataMinerCsvFiles(dir);
  const markets = PJM_MARKETS.filter((m) => found[m].length > 0);
  if (markets.length === 0) {
    throw new PjmConfigError(
      'PJM_CSV_DIR',
      dir,
      `a directory with at least one LMP export (*_da_hrl_lmps.csv or *_rt_hrl_lmps.csv); it holds only metered load (${found.loadMetered.join(', ')}), which has no price to forecast`,
    );
  }
  const missing = PJM_MARKETS.filter((m) => !markets.includes(m));
  const detail = `the LMP exports in ${dir} (${markets.map((m) => `${m}: ${found[m].length} file(s)`).join(', ')}${missing.length > 0 ? `; no *_${missing[0]}_hrl_lmps.csv, so no ${missing[0]} market` : ''})`;
  return { markets, detail };
}

/**
 * The load areas a folder's metered-load export holds, when PJM_LOAD_AREAS is unset: RTO when
 * the export has it (the system load the features prefer), else every area it holds. A user
 * who exported one zone's load (say AECO) gets that zone, not 365 days blocked for "no RTO load".
 * Undefined when the folder has no metered-load export (load is then done without).
 */
export async function csvExportLoadAreas(conn: DuckDBConnection, dir: string): Promise<ExportLoadAreas> {
  const found = await findDataMinerCsvFiles(dir);
  // No load is read then (the load feed is absent); the configured area stays RTO, and the run output says it is unused.
  if (found.loadMetered.length === 0) return { areas: ['RTO'], detail: `the default (RTO), unused: ${dir} has no metered-load export (hrl_load_metered*.csv)` };
  await checkCsvHeaders(found.loadMetered, LOAD_METERED_CSV_COLUMNS, 'hrl_load_metered');
  const r = await conn.runAndReadAll(`SELECT DISTINCT area FROM ${await loadExportTable(conn, found.loadMetered)} WHERE area IS NOT NULL ORDER BY area`);
  const held = r.getRows().map(([a]) => String(a));
  if (held.length === 0) throw new PjmConfigError('PJM_CSV_DIR', dir, `a metered-load export with rows (${found.loadMetered.join(', ')} holds no load_area)`);
  const areas = held.includes('RTO') ? ['RTO'] : held;
  const list = held.length > 12 ? `${held.slice(0, 12).join(', ')} and ${held.length - 12} more` : held.join(', ');
  const detail = `the metered-load export in ${dir} (areas ${list}${held.includes('RTO') ? '; RTO, the system load, used' : '; no RTO, so every area it holds'})`;
  return { areas, detail };
}

/**
 * Every configured node must be in the export of every configured market, or each of its days
 * would be blocked as incomplete, one message per day: say it once, before any work.
 */
function checkNodesInExports(config: PjmConfig, byMarket: ReadonlyMap<PjmMarket, ReadonlyMap<number, string | null>>, dir: string, given: string): void {
  const missing = config.nodes.flatMap((n) => config.markets.filter((m) => !byMarket.get(m)!.has(n.id)).map((m) => `${n.id} (no ${m} rows)`));
  if (missing.length === 0) return;
  const available = [...byMarket.get(config.markets[0]!)!.keys()].slice(0, 12).join(', ');
  throw new PjmConfigError(
    'PJM_NODES',
    given,
    `pnode ids that the exports in ${dir} hold for every configured market; not: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''} (the ${config.markets[0]} export holds ${available}${byMarket.get(config.markets[0]!)!.size > 12 ? ', …' : ''}); or unset PJM_NODES to use every node the exports hold`,
  );
}

/**
 * `loadPjmConfig`, with what only the files can tell read first when PJM_SOURCE=dataminer-csv:
 * the span of the exports (when PJM_START or PJM_END is unset) and their nodes (the default
 * PJM_NODES; a configured node the exports lack is an error). Every other source needs no I/O.
 */
export async function resolvePjmConfig(env: Readonly<Record<string, string | undefined>> = process.env, now: Date = new Date()): Promise<PjmConfig> {
  if (!csvSourceChosen(env)) return loadPjmConfig(env, now);
  // Validate everything but the span first (a missing PJM_CSV_DIR is reported as such).
  const unread = loadPjmConfig(withPlaceholderSpan(env), now);
  const dir = unread.csvDir!;
  const markets = marketsGiven(env) ? undefined : await csvExportMarkets(dir);
  const provisional = markets === undefined ? unread : loadPjmConfig(withPlaceholderSpan(env), now, { markets });
  const conn = await duckdbConnect();
  try {
    const span = needsDataSpan(env) ? overlapOf(dir, await csvFeedSpans(conn, dir, provisional.markets)) : undefined;
    const nodes = await csvExportNodes(conn, dir, provisional.markets);
    if (nodes.inEvery.length === 0)
      throw new PjmConfigError(
        'PJM_CSV_DIR',
        dir,
        `exports that share at least one pricing node across the markets ${provisional.markets.join(', ')} (${nodes.detail}); or set PJM_MARKETS to one market`,
      );
    const loadAreas = loadAreasGiven(env) ? undefined : await csvExportLoadAreas(conn, dir);
    const config = loadPjmConfig(env, now, { span, nodes, markets, loadAreas });
    if (config.nodesOrigin === 'PJM_NODES') checkNodesInExports(config, nodes.byMarket, dir, nodesSetting(env));
    return config;
  } finally {
    conn.closeSync();
  }
}
