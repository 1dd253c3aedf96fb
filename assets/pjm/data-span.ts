// The days a `dataminer-csv` run covers when PJM_START/PJM_END are not set: read from the
// exports in PJM_CSV_DIR, per feed (the configured markets' LMP feeds, and metered load when
// there is an export of it), keeping complete EPT days only (a trailing day with one hour is
// not a day of data), and the overlap of the feeds. `resolvePjmConfig` is how the definitions
// load the configuration.
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbConnect } from '../../runtime/index.ts';
import { loadPjmConfig, needsDataSpan, PjmConfigError, type DataSpan, type PjmConfig, type PjmMarket } from './config.ts';
import { dataMinerLmpCsvSql, dataMinerLoadMeteredCsvSql, findDataMinerCsvFiles, checkCsvHeaders, lmpCsvColumns, LOAD_METERED_CSV_COLUMNS } from './sources/dataminer-csv.ts';
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

/** The span of each feed a run on `dir` with `markets` reads. Throws naming a configured market without an export. */
export async function csvFeedSpans(conn: DuckDBConnection, dir: string, markets: readonly PjmMarket[]): Promise<FeedSpan[]> {
  const found = await findDataMinerCsvFiles(dir);
  await useUtc(conn);
  const spans: FeedSpan[] = [];
  for (const market of markets) {
    const files = market === 'da' ? found.da : found.rt;
    if (files.length === 0) throw new PjmConfigError('PJM_MARKETS', markets.join(','), `markets that have an export in ${dir} (there is no *_${market}_hrl_lmps.csv)`);
    await checkCsvHeaders(files, lmpCsvColumns(market), `${market}_hrl_lmps`);
    spans.push({ feed: `${market}_hrl_lmps`, files, ...(await completeDays(conn, dataMinerLmpCsvSql(files, market))) });
  }
  if (found.loadMetered.length > 0) {
    await checkCsvHeaders(found.loadMetered, LOAD_METERED_CSV_COLUMNS, 'hrl_load_metered');
    spans.push({ feed: 'hrl_load_metered', files: found.loadMetered, ...(await completeDays(conn, dataMinerLoadMeteredCsvSql(found.loadMetered))) });
  }
  return spans;
}

/** The overlap of the feeds' spans, with the sentence the run output shows. Throws when they do not overlap. */
export function overlapOf(dir: string, spans: readonly FeedSpan[]): DataSpan {
  const empty = spans.filter((s) => s.first === null);
  if (empty.length > 0) throw new PjmConfigError('PJM_CSV_DIR', dir, `exports holding at least one complete EPT day (${empty.map((s) => s.files.join(', ')).join('; ')} hold none)`);
  // ISO dates sort as strings: the overlap starts at the latest first day and ends at the earliest last day.
  const start = spans.map((s) => s.first!).sort().at(-1)!;
  const end = spans.map((s) => s.last!).sort()[0]!;
  const each = spans.map((s) => `${s.feed} ${s.first}..${s.last}`).join(', ');
  if (end < start) throw new PjmConfigError('PJM_CSV_DIR', dir, `exports whose feeds share some days (${each} do not overlap); or set PJM_START/PJM_END`);
  const detail = spans.length === 1 ? `the complete days of the export in ${dir} (${each})` : `the overlap of the exports in ${dir} (${each}; complete days only): ${start}..${end}`;
  return { start, end, detail };
}

/**
 * `loadPjmConfig`, with the span of the exports read first when PJM_SOURCE=dataminer-csv and
 * PJM_START or PJM_END is unset. Every other source needs no I/O.
 */
export async function resolvePjmConfig(env: Readonly<Record<string, string | undefined>> = process.env, now: Date = new Date()): Promise<PjmConfig> {
  if (!needsDataSpan(env)) return loadPjmConfig(env, now);
  // Validate everything but the span first (a missing PJM_CSV_DIR is reported as such).
  const provisional = loadPjmConfig({ ...env, PJM_START: env.PJM_START || '1970-01-01', PJM_END: env.PJM_END || '9999-12-31' }, now);
  const conn = await duckdbConnect();
  try {
    const span = overlapOf(provisional.csvDir!, await csvFeedSpans(conn, provisional.csvDir!, provisional.markets));
    return loadPjmConfig(env, now, span);
  } finally {
    conn.closeSync();
  }
}
