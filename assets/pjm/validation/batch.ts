// The `validated` checks of many partition files at once. Judging one day costs ~9 small DuckDB
// queries, whose fixed cost (planning, opening the Parquet file) is most of a day's validation;
// the default run validates ~4,400 day files. So a batch is screened with one query per table
// kind, grouped by file: a file that passes every check gets the report validatePrices /
// validateLoad would give it, built by the same result functions from the same figures; a file
// that fails anything (or needs a freshness check) is judged alone by the full function, whose
// report lists the offending rows. A clean day and a faulty day read exactly as they did.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PjmMarket } from '../config.ts';
import type { PriceRevisionReport } from '../processed/prices.ts';
import { LOAD_SCHEMA, PRICES_SCHEMA, type ColumnSpec } from '../processed/schema.ts';
import { EPT_ZONE, sqlFileList, type LoadFeed } from '../sources/raw.ts';
import { assertIsoDay } from '../processed/day.ts';
import {
  absentFeedResults,
  describeDays,
  expectedSeriesResult,
  loadCompletenessResult,
  loadKeysResult,
  loadUniqueResult,
  nonNegativeResult,
  validateLoad,
  zeroHoursResult,
  type LoadSeries,
} from './load.ts';
import { completenessResult, componentsResult, keysAndValuesResult, rangeResult, uniqueKeysResult, validatePrices } from './prices.ts';
import { makeReport, type CheckResult, type ValidationReport } from './report.ts';
import { isoUtc, parquetSource, prepare, query, schemaCheck, type Row } from './sql.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

/** One node-day of canonical prices to judge: it must hold every hour of `day` for `node` in `markets`. */
export interface PriceDayFile {
  readonly path: string;
  readonly node: number;
  readonly day: string;
  readonly markets: readonly PjmMarket[];
  readonly revisions?: PriceRevisionReport;
  /** Live mode's last day: judged alone (freshness needs its own query). */
  readonly freshness?: { readonly now: Date; readonly maxAgeHours: number };
}

/** One day of canonical load to judge against what the source promises. */
export interface LoadDayFile {
  readonly path: string;
  readonly day: string;
  readonly feed: LoadFeed;
  readonly freshness?: { readonly now: Date; readonly maxAgeHours: number };
}

// validatePrices' and validateLoad's defaults: a screened report must equal theirs.
const COMPONENT_TOLERANCE = 0.01;
const PRICE_RANGE: readonly [number, number] = [-1000, 10000];
const MAX_LISTED = 100;

/** One price day judged alone, by the full checks (what the screen's report must equal). */
export const validatePriceDayFile = (conn: DuckDBConnection, f: PriceDayFile): Promise<ValidationReport> =>
  validatePrices(conn, [f.path], {
    expected: { start: f.day, end: f.day, nodeIds: [f.node], markets: f.markets },
    revisions: f.revisions,
    freshness: f.freshness,
  });

/** One load day judged alone, by the full checks. */
export const validateLoadDayFile = (conn: DuckDBConnection, f: LoadDayFile): Promise<ValidationReport> =>
  validateLoad(conn, [f.path], { expected: { start: f.day, end: f.day }, freshness: f.freshness, feed: f.feed });

/** The reports of `files`, in their order. Never throws on bad data: each report says what is wrong. */
export async function validatePriceDays(conn: DuckDBConnection, files: readonly PriceDayFile[]): Promise<ValidationReport[]> {
  await prepare(conn);
  const alone = (f: PriceDayFile) => validatePriceDayFile(conn, f);
  const schemas = await schemaResults(
    conn,
    files.map((f) => f.path),
    PRICES_SCHEMA,
    'prices',
  );
  const screened = files.filter((f) => f.freshness === undefined && schemas.get(f.path)?.passed === true);
  const figures = await screenPrices(conn, screened);
  const reports: ValidationReport[] = [];
  for (const f of files) {
    const s = figures.get(f.path);
    const clean =
      s !== undefined &&
      s.nulls + s.badMarket + s.offHour + s.badComponents + s.outOfRange === 0 &&
      s.keys === s.rows &&
      (f.revisions?.conflicts ?? 0) === 0 &&
      s.hoursPresent === f.markets.length * s.hours;
    reports.push(
      clean
        ? makeReport([
            schemas.get(f.path)!,
            keysAndValuesResult({ rows: s.rows, nulls: 0, badMarket: 0, offHour: 0 }),
            uniqueKeysResult([], f.revisions, MAX_LISTED),
            completenessResult(s.lo, s.hi, []),
            componentsResult(COMPONENT_TOLERANCE, s.withComponents, []),
            rangeResult(PRICE_RANGE, { min: s.min, max: s.max, negative: s.negative }, []),
          ])
        : await alone(f),
    );
  }
  return reports;
}

/** The reports of `files`, in their order, as validateLoad gives them for one day each. */
export async function validateLoadDays(conn: DuckDBConnection, files: readonly LoadDayFile[]): Promise<ValidationReport[]> {
  await prepare(conn);
  const alone = (f: LoadDayFile) => validateLoadDayFile(conn, f);
  const schemas = await schemaResults(
    conn,
    files.map((f) => f.path),
    LOAD_SCHEMA,
    'load',
  );
  // Freshness applies only where there is a feed to be fresh (validateLoad skips it otherwise).
  const screened = files.filter((f) => (f.freshness === undefined || f.feed.status === 'absent') && schemas.get(f.path)?.passed === true);
  const reports: ValidationReport[] = [];
  // Files are screened in groups of one feed (one series list): in the pipeline that is all of them.
  const groups = new Map<LoadFeed, LoadDayFile[]>();
  for (const f of screened) groups.set(f.feed, [...(groups.get(f.feed) ?? []), f]);
  const figures = new Map<string, LoadFigures>();
  for (const [feed, group] of groups) for (const [path, s] of await screenLoad(conn, group, seriesOf(feed))) figures.set(path, s);
  for (const f of files) {
    const s = figures.get(f.path);
    const series = seriesOf(f.feed);
    const hoursOk = f.feed.status === 'absent' || s === undefined ? true : s.hoursPresent === (series ? series.length : s.pairs) * s.hours;
    const clean =
      s !== undefined &&
      s.nulls + s.badKind + s.negative + s.zero === 0 &&
      s.keys === s.rows &&
      hoursOk &&
      (series === undefined || s.seriesPresent === series.length);
    if (!clean) {
      reports.push(await alone(f));
      continue;
    }
    const days = describeDays({ start: f.day, end: f.day });
    const coverage: CheckResult[] =
      f.feed.status === 'absent'
        ? absentFeedResults(f.feed, days, s.rows)
        : [...(series ? [expectedSeriesResult(series, [], f.feed.feeds, days)] : []), loadCompletenessResult([], 'warn')];
    reports.push(
      makeReport([
        schemas.get(f.path)!,
        loadKeysResult({ rows: s.rows, nulls: 0, badKind: 0 }),
        loadUniqueResult([], MAX_LISTED),
        ...coverage,
        nonNegativeResult([]),
        zeroHoursResult([]),
      ]),
    );
  }
  return reports;
}

/**
 * The schema check of each file. Files whose Parquet schemas are identical have the same DuckDB
 * columns, so one DESCRIBE per distinct schema (one in practice) judges them all.
 */
async function schemaResults(conn: DuckDBConnection, paths: readonly string[], expected: ColumnSpec, table: string): Promise<Map<string, CheckResult>> {
  const out = new Map<string, CheckResult>();
  if (paths.length === 0) return out;
  let rows: Row[];
  try {
    rows = await query(
      conn,
      `SELECT file_name, string_agg(concat_ws(':', name, type, converted_type, logical_type, repetition_type, num_children), ',' ORDER BY rowid) AS signature
      FROM (SELECT *, row_number() OVER () AS rowid FROM parquet_schema(${sqlFileList(paths)})) GROUP BY file_name`,
    );
  } catch {
    // A file that cannot be read: judge each alone, so the unreadable one is named.
    for (const p of paths) out.set(p, await schemaCheck(conn, parquetSource([p]), expected, table));
    return out;
  }
  const bySignature = new Map<string, CheckResult>();
  const signatureOf = new Map(rows.map((r) => [String(r['file_name']), String(r['signature'])]));
  for (const p of paths) {
    const signature = signatureOf.get(p);
    if (signature === undefined) {
      out.set(p, await schemaCheck(conn, parquetSource([p]), expected, table));
      continue;
    }
    let result = bySignature.get(signature);
    if (!result) bySignature.set(signature, (result = await schemaCheck(conn, parquetSource([p]), expected, table)));
    out.set(p, result);
  }
  return out;
}

/** The EPT day's bounds in UTC, as a SQL pair (lo, hi). */
function dayBoundsSql(day: string): string {
  assertIsoDay(day, 'day');
  return `timezone('${EPT_ZONE}', CAST(DATE ${sqlString(day)} AS TIMESTAMP)), timezone('${EPT_ZONE}', CAST(DATE ${sqlString(day)} + 1 AS TIMESTAMP))`;
}

interface PriceFigures {
  readonly lo: string;
  readonly hi: string;
  readonly hours: number;
  readonly rows: number;
  readonly nulls: number;
  readonly badMarket: number;
  readonly offHour: number;
  /** Distinct (node, market, hour) keys: fewer than rows means duplicates. */
  readonly keys: number;
  /** Distinct on-the-hour rows of the expected node and markets within the day. */
  readonly hoursPresent: number;
  readonly withComponents: number;
  readonly badComponents: number;
  readonly outOfRange: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly negative: number;
}

async function screenPrices(conn: DuckDBConnection, files: readonly PriceDayFile[]): Promise<Map<string, PriceFigures>> {
  if (files.length === 0) return new Map();
  const [lo, hi] = PRICE_RANGE;
  const values = files
    .map((f) => `(${sqlString(f.path)}, ${Math.trunc(f.node)}::BIGINT, [${f.markets.map(sqlString).join(', ')}]::VARCHAR[], ${dayBoundsSql(f.day)})`)
    .join(',\n');
  const comps = 's.energy IS NOT NULL AND s.congestion IS NOT NULL AND s.loss IS NOT NULL';
  const rows = await query(
    conn,
    `
    WITH f(filename, want_node, markets, lo, hi) AS (VALUES ${values}),
    s AS (SELECT * FROM read_parquet(${sqlFileList(files.map((x) => x.path))}, filename = true))
    SELECT f.filename, ${isoUtc('f.lo')} AS lo, ${isoUtc('f.hi')} AS hi, date_diff('hour', f.lo, f.hi) AS hours,
      count(s.filename) AS n_rows,
      count(*) FILTER (WHERE s.filename IS NOT NULL AND (s.ts_utc IS NULL OR s.node_id IS NULL OR s.market IS NULL OR s.lmp IS NULL)) AS nulls,
      count(*) FILTER (WHERE s.market NOT IN ('da', 'rt')) AS bad_market,
      count(*) FILTER (WHERE s.ts_utc IS NOT NULL AND date_trunc('hour', s.ts_utc) <> s.ts_utc) AS off_hour,
      count(DISTINCT (s.node_id, s.market, s.ts_utc)) FILTER (WHERE s.filename IS NOT NULL) AS n_keys,
      count(DISTINCT (s.node_id, s.market, s.ts_utc)) FILTER (WHERE s.node_id = f.want_node AND list_contains(f.markets, s.market)
        AND s.ts_utc >= f.lo AND s.ts_utc < f.hi AND s.ts_utc = date_trunc('hour', s.ts_utc)) AS hours_present,
      count(*) FILTER (WHERE ${comps}) AS with_comp,
      count(*) FILTER (WHERE ${comps} AND abs(s.lmp - (s.energy + s.congestion + s.loss)) > ${COMPONENT_TOLERANCE} + 1e-9) AS bad_comp,
      count(*) FILTER (WHERE s.lmp < ${lo} OR s.lmp > ${hi} OR isnan(s.lmp) OR isinf(s.lmp)) AS out_of_range,
      min(s.lmp) AS mn, max(s.lmp) AS mx, count(*) FILTER (WHERE s.lmp < 0) AS negative
    FROM f LEFT JOIN s ON s.filename = f.filename
    GROUP BY f.filename, f.lo, f.hi`,
  );
  return new Map(
    rows.map((r) => [
      String(r['filename']),
      {
        lo: String(r['lo']),
        hi: String(r['hi']),
        hours: Number(r['hours']),
        rows: Number(r['n_rows']),
        nulls: Number(r['nulls']),
        badMarket: Number(r['bad_market']),
        offHour: Number(r['off_hour']),
        keys: Number(r['n_keys']),
        hoursPresent: Number(r['hours_present']),
        withComponents: Number(r['with_comp']),
        badComponents: Number(r['bad_comp']),
        outOfRange: Number(r['out_of_range']),
        min: (r['mn'] as number | null) ?? null,
        max: (r['mx'] as number | null) ?? null,
        negative: Number(r['negative']),
      },
    ]),
  );
}

/** The configured series of a feed, or undefined when the checks take the series the data has. */
const seriesOf = (feed: LoadFeed): readonly LoadSeries[] | undefined => (feed.status === 'present' && feed.series.length > 0 ? feed.series : undefined);

interface LoadFigures {
  readonly hours: number;
  readonly rows: number;
  readonly nulls: number;
  readonly badKind: number;
  readonly keys: number;
  /** Distinct (area, kind) in the file: the series completeness counts when none is configured. */
  readonly pairs: number;
  /** Configured series with at least one row within the day. */
  readonly seriesPresent: number;
  /** Distinct on-the-hour rows within the day of the series completeness counts. */
  readonly hoursPresent: number;
  readonly negative: number;
  readonly zero: number;
}

async function screenLoad(conn: DuckDBConnection, files: readonly LoadDayFile[], series: readonly LoadSeries[] | undefined): Promise<Map<string, LoadFigures>> {
  if (files.length === 0) return new Map();
  const values = files.map((f) => `(${sqlString(f.path)}, ${dayBoundsSql(f.day)})`).join(',\n');
  // Configured series are matched by a join (one row each, so rows are not multiplied).
  const unique = series ? [...new Map(series.map((x) => [`${x.area}\u0000${x.kind}`, x])).values()] : [];
  const seriesCte =
    unique.length > 0
      ? `VALUES ${unique.map((x) => `(${sqlString(x.area)}, ${sqlString(x.kind)})`).join(', ')}`
      : `SELECT NULL::VARCHAR, NULL::VARCHAR WHERE false`;
  const inDay = 's.ts_utc >= f.lo AND s.ts_utc < f.hi';
  const counted = series ? 's.in_series' : 's.filename IS NOT NULL';
  const rows = await query(
    conn,
    `
    WITH f(filename, lo, hi) AS (VALUES ${values}),
    ser(area, kind) AS (${seriesCte}),
    s AS (SELECT p.*, ser.area IS NOT NULL AS in_series FROM read_parquet(${sqlFileList(files.map((x) => x.path))}, filename = true) p
          LEFT JOIN ser ON p.area = ser.area AND p.kind = ser.kind)
    SELECT f.filename, date_diff('hour', f.lo, f.hi) AS hours,
      count(s.filename) AS n_rows,
      count(*) FILTER (WHERE s.filename IS NOT NULL AND (s.ts_utc IS NULL OR s.area IS NULL OR s.kind IS NULL OR s.mw IS NULL)) AS nulls,
      count(*) FILTER (WHERE s.kind NOT IN ('forecast', 'metered')) AS bad_kind,
      count(DISTINCT (s.area, s.kind, s.ts_utc)) FILTER (WHERE s.filename IS NOT NULL) AS n_keys,
      count(DISTINCT (s.area, s.kind)) FILTER (WHERE s.filename IS NOT NULL) AS pairs,
      count(DISTINCT (s.area, s.kind)) FILTER (WHERE s.in_series AND ${inDay}) AS series_present,
      count(DISTINCT (s.area, s.kind, s.ts_utc)) FILTER (WHERE ${counted} AND ${inDay} AND s.ts_utc = date_trunc('hour', s.ts_utc)) AS hours_present,
      count(*) FILTER (WHERE s.mw < 0 OR isnan(s.mw) OR isinf(s.mw)) AS negative,
      count(*) FILTER (WHERE s.mw = 0) AS zero
    FROM f LEFT JOIN s ON s.filename = f.filename
    GROUP BY f.filename, f.lo, f.hi`,
  );
  return new Map(
    rows.map((r) => [
      String(r['filename']),
      {
        hours: Number(r['hours']),
        rows: Number(r['n_rows']),
        nulls: Number(r['nulls']),
        badKind: Number(r['bad_kind']),
        keys: Number(r['n_keys']),
        pairs: Number(r['pairs']),
        seriesPresent: Number(r['series_present']),
        hoursPresent: Number(r['hours_present']),
        negative: Number(r['negative']),
        zero: Number(r['zero']),
      },
    ]),
  );
}
