// Runs the feature SQL: for every day (the `features` asset, Parquet out) or for one node,
// market and day (`/predict` and the `forecast` asset), where a missing input is a typed error
// naming it, never a silent fallback to older data.
import { rm } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  KEY_COLUMNS,
  TARGET_COLUMN,
  describeFeatureSet,
  featureColumns,
  legacyFeatureSet,
  normaliseFeatureSet,
  PRICE_LAGS,
  type FeatureSet,
  type Market,
} from './columns.ts';
import { COMPLETE_CONDITION, featureSql, type FeatureSqlOptions } from './sql.ts';
import { addDays } from '../../../lib/days.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

export interface FeatureInputs {
  /** Canonical prices Parquet files (validated). */
  readonly pricesParquet: readonly string[];
  /** Canonical load Parquet files (validated); may be empty when there is no load data. */
  readonly loadParquet: readonly string[];
  /** Target market: 'da' or 'rt'. */
  readonly market: Market;
  /**
   * The inputs the rows are made of (its market must be `market`). Default: the legacy set
   * (own price lags, the DA price for RT, the `systemLoadArea` load forecast).
   */
  readonly featureSet?: FeatureSet;
  /** Load area of the system-wide forecast of the default set. Default 'RTO'. */
  readonly systemLoadArea?: string;
}

/** The feature set of `inputs`, checked against its market (see resolveFeatureSet). */
export function featureSetOf(inputs: FeatureInputs): FeatureSet {
  return resolveFeatureSet(inputs.market, inputs.featureSet, inputs.systemLoadArea);
}

/**
 * The feature set rows of `market` are built from: `featureSet` checked and in its normal form
 * (inputs in canonical order, areas only for the inputs that use them, so two spellings of one
 * set describe and compare the same), or the
 * market's legacy set (with the `systemLoadArea` load forecast) when none is given. Throws
 * when `featureSet` is another market's.
 */
export function resolveFeatureSet(market: Market, featureSet?: FeatureSet, systemLoadArea = 'RTO'): FeatureSet {
  const set = normaliseFeatureSet(featureSet ?? legacyFeatureSet(market, systemLoadArea));
  if (set.market !== market) throw new Error(`Feature set ${describeFeatureSet(set)} is for market ${set.market}, not ${market}.`);
  return set;
}

export interface BuildFeaturesOptions extends FeatureInputs {
  /** Parquet file to write: key columns, `target`, then `featureColumns(market)`. */
  readonly outPath: string;
}

export interface BuildFeaturesResult {
  readonly rows: number;
  readonly nodes: number;
  readonly firstDay: string | null;
  readonly lastDay: string | null;
  /** Target days (node, day) left out because their lags reach before the first day of prices (the first 7 days). */
  readonly incompleteDays: number;
  readonly columns: readonly string[];
  readonly featureSet: FeatureSet;
}

/** One missing input of a feature row: which series, which EPT day, which hours (0-23 on the grid). */
export interface MissingInput {
  readonly input: 'price' | 'load_forecast' | 'load_metered';
  /** Node and market of a price input; area of a load input. */
  readonly nodeId?: number;
  readonly market?: Market;
  readonly area?: string;
  readonly day: string;
  readonly hours: readonly number[];
}

/** The feature row of (node, market, day) cannot be built: these inputs are missing. */
export class MissingFeatureInputsError extends Error {
  override readonly name = 'MissingFeatureInputsError';
  readonly reason = 'missing_inputs' as const;
  constructor(
    readonly nodeId: number,
    readonly market: Market,
    readonly day: string,
    readonly missing: readonly MissingInput[],
  ) {
    super(
      `Cannot build features for node ${nodeId}, market ${market}, day ${day} (EPT): missing ` +
        missing.map((m) => `${describeInput(m)} on ${m.day} hours ${formatHours(m.hours)}`).join('; ') +
        '. Load or validate the data for those days, then retry.',
    );
  }
}

const formatHours = (hours: readonly number[]): string => (hours.length === 24 ? 'all' : hours.join(','));
const describeInput = (m: MissingInput): string =>
  m.input === 'price'
    ? `${m.market} price of node ${m.nodeId}`
    : m.input === 'load_forecast'
      ? `load forecast of area ${m.area}`
      : `metered load of area ${m.area}`;

/**
 * Days inside the data's span lack an input the feature set requires: the features asset
 * refuses to drop them silently. Lists the first node-days with every missing input.
 */
export class FeatureInputsMissingError extends Error {
  override readonly name = 'FeatureInputsMissingError';
  readonly reason = 'missing_inputs' as const;
  constructor(
    readonly featureSet: FeatureSet,
    readonly nodeDays: number,
    readonly examples: readonly MissingFeatureInputsError[],
  ) {
    super(
      `Feature set ${describeFeatureSet(featureSet)}: ${nodeDays} node-day(s) inside the data's span lack a required input` +
        `${nodeDays > examples.length ? ` (first ${examples.length} listed)` : ''}: ` +
        examples
          .map((e) => `node ${e.nodeId} ${e.day}: ${e.missing.map((m) => `${describeInput(m)} on ${m.day} hours ${formatHours(m.hours)}`).join(', ')}`)
          .join('; ') +
        '. Fill those days in the source (or narrow PJM_START..PJM_END to days that have them), or train without that input.',
    );
  }
}

/** A feature row: key columns, `target` (null when the day is not known yet) and features by name. */
export interface FeatureRow {
  readonly nodeId: number;
  readonly market: Market;
  readonly day: string;
  readonly hour: number;
  readonly target: number | null;
  readonly features: Readonly<Record<string, number | null>>;
}

export type FeaturesForDayResult =
  | { readonly ok: true; readonly rows: readonly FeatureRow[] }
  | { readonly ok: false; readonly error: MissingFeatureInputsError };

function sqlOptions(inputs: FeatureInputs, targets: FeatureSqlOptions['targets'], holidayYears: [number, number]): FeatureSqlOptions {
  return { pricesParquet: inputs.pricesParquet, loadParquet: inputs.loadParquet, set: featureSetOf(inputs), targets, holidayYears };
}

/** How many incomplete node-days a FeatureInputsMissingError spells out. */
const MISSING_EXAMPLES = 5;

/** An empty load table stand-in, so that the SQL has a relation when there is no load file. */
async function loadFiles(conn: DuckDBConnection, files: readonly string[], tempDir: string): Promise<string[]> {
  if (files.length > 0) return [...files];
  const path = `${tempDir}/empty-load.parquet`;
  await conn.run(`COPY (SELECT CAST(NULL AS TIMESTAMPTZ) AS ts_utc, CAST(NULL AS VARCHAR) AS area,
    CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS DOUBLE) AS mw WHERE false) TO ${sqlString(path)} (FORMAT parquet)`);
  return [path];
}

async function yearSpan(conn: DuckDBConnection, pricesParquet: readonly string[]): Promise<[number, number]> {
  const r = await conn.runAndReadAll(`SELECT year(min(ts_utc)) - 1, year(max(ts_utc)) + 1 FROM read_parquet([${pricesParquet.map(sqlString).join(', ')}])`);
  const row = r.getRows()[0];
  return [Number(row?.[0] ?? 2000), Number(row?.[1] ?? 2100)];
}

/**
 * Computes the feature rows of every complete (node, day) of `market` and writes them to
 * `outPath` as Parquet, ordered by node, day, hour. A row is complete when every input its
 * set needs is present (see `COMPLETE_CONDITION`) and its target is known. Days whose lags
 * reach before the first day of prices are left out; any other day with a known target but a
 * missing input throws FeatureInputsMissingError naming the input, node, day and hours.
 */
export async function buildFeatures(conn: DuckDBConnection, options: BuildFeaturesOptions): Promise<BuildFeaturesResult> {
  if (options.pricesParquet.length === 0) throw new Error('buildFeatures: no prices Parquet file given (pricesParquet is empty).');
  await conn.run(`SET TimeZone='UTC'`);
  const tempDir = options.outPath.replace(/\/[^/]*$/, '') || '.';
  const inputs = { ...options, loadParquet: await loadFiles(conn, options.loadParquet, tempDir) };
  const set = featureSetOf(options);
  const sql = featureSql(sqlOptions(inputs, { kind: 'all' }, await yearSpan(conn, options.pricesParquet)));
  const columns = [...new Set([...KEY_COLUMNS, TARGET_COLUMN, ...featureColumns(set)])];
  // Every row goes to a scratch Parquet file with its completeness, and the output and the
  // counts are read back from it: holding all rows in a DuckDB table instead (with the
  // bookkeeping lists) cost ~250 MB more at peak, a quarter of the default run's memory.
  const allRows = `${tempDir}/features-all-rows.parquet`;
  await conn.run(`COPY (SELECT ${columns.join(', ')}, (${COMPLETE_CONDITION} AND target IS NOT NULL) AS _complete,
      (${COMPLETE_CONDITION}) AS _inputs_complete, _lags_in_span FROM (${sql}))
    TO ${sqlString(allRows)} (FORMAT parquet)`);
  // Node-days inside the span with a known target but a missing input: an error, spelled out
  // for the first few by the one-day path (the same SQL, its own bookkeeping of missing hours).
  const gaps = await conn.runAndReadAll(`SELECT node_id, CAST(day AS VARCHAR) AS day, count(*) OVER () AS n FROM (
      SELECT DISTINCT node_id, day FROM read_parquet(${sqlString(allRows)}) WHERE _lags_in_span AND NOT _inputs_complete AND target IS NOT NULL)
    ORDER BY node_id, day LIMIT ${MISSING_EXAMPLES}`);
  const gapRows = gaps.getRows();
  if (gapRows.length > 0) {
    const examples: MissingFeatureInputsError[] = [];
    for (const [nodeId, day] of gapRows) {
      const r = await featuresForDay(conn, { ...options, nodeId: Number(nodeId), day: String(day), tempDir });
      if (!r.ok) examples.push(r.error);
    }
    await rm(allRows, { force: true });
    throw new FeatureInputsMissingError(set, Number(gapRows[0]![2]), examples);
  }
  await conn.run(`COPY (SELECT ${columns.join(', ')} FROM read_parquet(${sqlString(allRows)}) WHERE _complete ORDER BY node_id, day, hour)
    TO ${sqlString(options.outPath)} (FORMAT parquet)`);
  const stats = await conn.runAndReadAll(`SELECT
      count(*) FILTER (WHERE _complete),
      count(DISTINCT node_id),
      CAST(min(day) FILTER (WHERE _complete) AS VARCHAR),
      CAST(max(day) FILTER (WHERE _complete) AS VARCHAR),
      count(DISTINCT (node_id, day)) FILTER (WHERE NOT _complete AND NOT _lags_in_span)
    FROM read_parquet(${sqlString(allRows)})`);
  await rm(allRows, { force: true });
  const s = stats.getRows()[0] ?? [];
  return {
    rows: Number(s[0] ?? 0),
    nodes: Number(s[1] ?? 0),
    firstDay: (s[2] as string | null) ?? null,
    lastDay: (s[3] as string | null) ?? null,
    incompleteDays: Number(s[4] ?? 0),
    columns,
    featureSet: set,
  };
}

export interface NodeDaysFeaturesOptions extends FeatureInputs {
  readonly nodeId: number;
  /** Target EPT delivery days, YYYY-MM-DD (at least one). */
  readonly days: readonly string[];
  /** The first day of the data: a day whose lags reach before it is left out (no rows), as `buildFeatures` leaves it out. */
  readonly spanStart: string;
  /** Directory for the files: `<day>.parquet` per day, and a scratch file. */
  readonly outDir: string;
}

/** One day's feature rows, written, or why the day cannot have them. */
export type NodeDayFeatures =
  | {
      readonly ok: true;
      /** Parquet file: the same columns, types and order as `buildFeatures`, this node-day only. */
      readonly path: string;
      /** 24, or 0 when the day is left out. */
      readonly rows: number;
      /** Why no rows: its lags reach before the data, or its target is not known yet. */
      readonly leftOut: 'lags_before_span' | 'target_unknown' | null;
    }
  | { readonly ok: false; readonly error: FeatureInputsMissingError };

/**
 * The feature rows of some days of one node, each day exactly as `buildFeatures` over all
 * history writes it (the same SQL, asked for those target days, their lags marked against
 * `spanStart`): what the `pjm/features[node|day]` partitions hold. One query computes every
 * day (its plan and the scan of the inputs are most of the cost of a day), then each day is
 * copied out of it; a day's file does not depend on which other days were asked for. A day
 * inside the span with a known target but a missing required input gets a
 * FeatureInputsMissingError naming the input, node, day and hours; the other days are written.
 */
export async function buildNodeDaysFeatures(conn: DuckDBConnection, options: NodeDaysFeaturesOptions): Promise<ReadonlyMap<string, NodeDayFeatures>> {
  if (options.pricesParquet.length === 0)
    throw new Error(`buildNodeDaysFeatures: no prices Parquet file given for node ${options.nodeId} ${options.days[0] ?? ''}.`);
  await conn.run(`SET TimeZone='UTC'`);
  const inputs = { ...options, loadParquet: await loadFiles(conn, options.loadParquet, options.outDir) };
  const set = featureSetOf(options);
  const years = options.days.map((d) => Number(d.slice(0, 4)));
  const sql = featureSql(
    sqlOptions(inputs, { kind: 'days', nodeId: options.nodeId, days: options.days, spanStart: options.spanStart }, [
      Math.min(...years) - 1,
      Math.max(...years) + 1,
    ]),
  );
  const columns = [...new Set([...KEY_COLUMNS, TARGET_COLUMN, ...featureColumns(set)])];
  // The rows of every asked day, once, in a temp table of this step's connection: each day is
  // copied out of it (reading them back from a scratch Parquet file per day cost ~90 % of a batch).
  const scratch = 'node_days_features';
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE ${scratch} AS SELECT *, (${COMPLETE_CONDITION} AND target IS NOT NULL) AS _complete, (${COMPLETE_CONDITION}) AS _inputs_complete FROM (${sql})`,
  );
  try {
    return await daysOutOf(conn, scratch, options, set, columns);
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${scratch}`);
  }
}

/** Each day's file (or its error) from the batch's temp table `scratch`. */
async function daysOutOf(
  conn: DuckDBConnection,
  scratch: string,
  options: NodeDaysFeaturesOptions,
  set: FeatureSet,
  columns: readonly string[],
): Promise<ReadonlyMap<string, NodeDayFeatures>> {
  const facts = await conn.runAndReadAll(`SELECT CAST(day AS VARCHAR), count(*) FILTER (WHERE _complete), bool_or(_lags_in_span),
      bool_or(_lags_in_span AND NOT _inputs_complete AND target IS NOT NULL), bool_and(target IS NOT NULL)
    FROM ${scratch} GROUP BY day`);
  const out = new Map<string, NodeDayFeatures>();
  for (const [day, complete, inSpan, gap, known] of facts.getRows()) {
    const d = String(day);
    if (gap === true) {
      const first = (await conn.runAndReadAll(`SELECT * FROM ${scratch} WHERE day = DATE '${d}' ORDER BY hour LIMIT 1`)).getRowObjectsJS()[0];
      const missing = first === undefined ? [] : missingInputsOf(first as Record<string, unknown>, options.nodeId, d, set);
      const error =
        missing.length > 0
          ? new FeatureInputsMissingError(set, 1, [new MissingFeatureInputsError(options.nodeId, options.market, d, missing)])
          : new FeatureInputsMissingError(set, 1, []);
      out.set(d, { ok: false, error });
      continue;
    }
    const path = `${options.outDir}/${d}.parquet`;
    // A day without rows still gets its (empty) file: "no rows" is its materialization.
    await conn.run(`COPY (SELECT ${columns.join(', ')} FROM ${scratch} WHERE day = DATE '${d}' AND _complete ORDER BY node_id, day, hour)
      TO ${sqlString(path)} (FORMAT parquet)`);
    const rows = Number(complete);
    out.set(d, { ok: true, path, rows, leftOut: rows > 0 ? null : inSpan !== true ? 'lags_before_span' : known !== true ? 'target_unknown' : null });
  }
  return out;
}

export interface FeaturesForDayOptions extends FeatureInputs {
  readonly nodeId: number;
  /** Target EPT delivery day, YYYY-MM-DD. */
  readonly day: string;
  /** Directory for a scratch file when there is no load file. */
  readonly tempDir?: string;
}

/**
 * The 24 feature rows of one node, market and target day, from the same SQL as `buildFeatures`.
 * Returns a typed error listing every missing input (series, day, hours) instead of rows when
 * any input is missing. `target` is the price of the day if it is already known, else null.
 */
export async function featuresForDay(conn: DuckDBConnection, options: FeaturesForDayOptions): Promise<FeaturesForDayResult> {
  await conn.run(`SET TimeZone='UTC'`);
  const year = Number(options.day.slice(0, 4));
  const inputs = { ...options, loadParquet: await loadFiles(conn, options.loadParquet, options.tempDir ?? '/tmp') };
  const sql = featureSql(sqlOptions(inputs, { kind: 'days', nodeId: options.nodeId, days: [options.day] }, [year - 1, year + 1]));
  const reader = await conn.runAndReadAll(`${sql} ORDER BY hour`);
  const rows = reader.getRowObjectsJS() as Record<string, unknown>[];
  const first = rows[0];
  if (first === undefined) throw new Error(`featuresForDay: the feature query returned no rows for node ${options.nodeId} day ${options.day}.`);
  const set = featureSetOf(options);
  const missing = missingInputsOf(first, options.nodeId, options.day, set);
  if (missing.length > 0) return { ok: false, error: new MissingFeatureInputsError(options.nodeId, options.market, options.day, missing) };
  const names = featureColumns(set);
  return {
    ok: true,
    rows: rows.map((r) => ({
      nodeId: Number(r['node_id']),
      market: options.market,
      day: options.day,
      hour: Number(r['hour']),
      target: r['target'] === null || r['target'] === undefined ? null : Number(r['target']),
      features: Object.fromEntries(names.map((n) => [n, r[n] === null || r[n] === undefined ? null : Number(r[n])])),
    })),
  };
}

/** The inputs a feature row of `featureSql` (or `featuresInMemory`) lacks, from its bookkeeping columns (`_miss_*`, `_has_*`, `_zone`). */
export function missingInputsOf(row: Record<string, unknown>, nodeId: number, day: string, set: FeatureSet): MissingInput[] {
  const missing: MissingInput[] = [];
  const hoursOf = (v: unknown): number[] => (Array.isArray(v) ? v.map(Number) : []);
  for (const lag of PRICE_LAGS) {
    const hours = hoursOf(row[`_miss_lag${lag}`]);
    if (hours.length > 0) missing.push({ input: 'price', nodeId, market: set.market, day: addDays(day, -lag), hours });
  }
  const da = hoursOf(row['_miss_da']);
  if (da.length > 0) missing.push({ input: 'price', nodeId, market: 'da', day, hours: da });
  const area = (input: 'load_forecast' | 'load_metered', name: string, has: unknown, kinds: [string, number][]): void => {
    if (has !== true) return;
    for (const [column, lag] of kinds) {
      const hours = hoursOf(row[column]);
      if (hours.length > 0) missing.push({ input, area: name, day: addDays(day, -lag), hours });
    }
  };
  area('load_forecast', set.loadForecastArea ?? '', row['_has_sys'], [
    ['_miss_sys', 0],
    ['_miss_sys_lag1', 1],
  ]);
  area('load_forecast', String(row['_zone']), row['_has_zone'], [
    ['_miss_zone', 0],
    ['_miss_zone_lag1', 1],
  ]);
  area('load_metered', set.loadMeteredArea ?? '', set.loadMeteredArea !== null, [['_miss_mload_lag1', 1]]);
  return missing;
}
