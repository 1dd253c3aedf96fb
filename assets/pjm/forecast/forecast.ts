// The latest day-ahead forecast per node: for each node, the last day whose inputs (those of
// the model's feature set) are all known, or a given day, built from the same feature code
// `/predict` uses, predicted with a trained model and put back on real UTC hours. A node whose
// inputs are missing gets the typed error naming them, never a forecast from older data.
// With the model's calibration each hour also carries its quantiles (p05..p95), the same ones
// `/predict` answers with.
import type { DuckDBConnection } from '@duckdb/node-api';
import { featuresForDay, MissingFeatureInputsError, type FeatureInputs } from '../features/build.ts';
import type { FeatureSet } from '../features/columns.ts';
import { EPT_ZONE } from '../features/sql.ts';
import { concatFeatureTables, featureTableFromRows, type FeatureTable } from '../model/dataset.ts';
import { predictRows, type TrainedModel } from '../model/train.ts';
import { forecastNodeDay, type ServableModel } from '../model/served.ts';
import { learInputDays } from '../lear/served.ts';
import { quantilesAt, type ConformalCalibration } from '../model/calibration.ts';
import { QUANTILE_LEVELS } from '../../../lib/forecast-eval/index.ts';
import { realHoursOfDay } from './grid-hours.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

/** The forecast table's quantile columns, one per level of QUANTILE_LEVELS: p05, p10, p25, p50, p75, p90, p95. */
export const QUANTILE_COLUMNS: readonly string[] = QUANTILE_LEVELS.map((l) => `p${String(Math.round(l * 100)).padStart(2, '0')}`);

export interface ForecastRow {
  readonly nodeId: number;
  /** Start of the hour in UTC (ISO 8601). */
  readonly tsUtc: string;
  /** The same hour in EPT wall-clock time with offset. */
  readonly tsEpt: string;
  /** EPT delivery day. */
  readonly day: string;
  /** Forecast price, $/MWh. */
  readonly value: number;
  /** Its quantiles at QUANTILE_LEVELS (non-decreasing), $/MWh; absent when the model has no calibration. */
  readonly quantiles?: readonly number[];
}

export interface DayForecast {
  readonly nodeId: number;
  readonly day: string;
  readonly rows: readonly ForecastRow[];
}

export type DayForecastResult = { readonly ok: true; readonly forecast: DayForecast } | { readonly ok: false; readonly error: MissingFeatureInputsError };

export interface ForecastDayOptions extends FeatureInputs {
  readonly model: TrainedModel;
  /** The served model of which `model` is the XGBoost part: with LEAR members, the day's forecast is its family's (model/served.ts). */
  readonly served?: ServableModel;
  readonly nodeId: number;
  /** EPT delivery day to forecast, YYYY-MM-DD. */
  readonly day: string;
  /** The model's calibration (its sidecar's); with it every row carries quantiles. */
  readonly calibration?: ConformalCalibration | null;
  readonly tempDir?: string;
}

/** The calibration's offsets in QUANTILE_LEVELS order, or an error saying which level it lacks. */
function offsetsByLevel(calibration: ConformalCalibration): (hour: number, point: number) => number[] {
  const index = QUANTILE_LEVELS.map((l) => calibration.levels.findIndex((c) => Math.abs(c - l) < 1e-12));
  const missing = QUANTILE_LEVELS.filter((_, k) => index[k]! < 0);
  if (missing.length > 0)
    throw new Error(
      `forecastDay: the model's calibration has no quantile at level(s) ${missing.join(', ')} (it has ${calibration.levels.join(', ')}); rematerialize pjm/backtest and pjm/model.`,
    );
  return (hour, point) => {
    const q = quantilesAt(calibration, hour, point);
    return index.map((i) => q[i]!);
  };
}

/** Forecasts one node and day from the latest data (the `/predict` path). */
export async function forecastDay(conn: DuckDBConnection, options: ForecastDayOptions): Promise<DayForecastResult> {
  if (options.model.market !== options.market) {
    throw new Error(`forecastDay: the model was trained for market ${options.model.market}, not ${options.market}; load the ${options.market} model.`);
  }
  // The rows are built from the set the model was trained with, whatever the caller's defaults.
  const features = await featuresForDay(conn, { ...options, featureSet: options.model.featureSet });
  if (!features.ok) return features;
  const table = featureTableFromRows(features.rows, options.model.featureSet);
  const lear = options.served?.lear ?? null;
  const byGridHour =
    lear === null
      ? predictRows(options.model, table, 0, table.rows)
      : forecastNodeDay(options.served!, table, options.nodeId, options.day, await learRows(conn, options, table, lear)).values;
  const quantiles = options.calibration ? offsetsByLevel(options.calibration) : null;
  const rows = realHoursOfDay(options.day).map((h) => {
    const value = byGridHour[table.hour.indexOf(h.gridHour)]!;
    return {
      nodeId: options.nodeId,
      tsUtc: h.tsUtc,
      tsEpt: h.tsEpt,
      day: options.day,
      value,
      ...(quantiles ? { quantiles: quantiles(h.gridHour, value) } : {}),
    };
  });
  return { ok: true, forecast: { nodeId: options.nodeId, day: options.day, rows } };
}

/**
 * The node's feature rows of the days LEAR reads (D, and D-1 and D-7 when it reads exogenous
 * series), built as D's are; a day whose inputs are missing is left out, and LEAR then has no
 * forecast (the served family falls back to XGBoost there, as in the backtest).
 */
async function learRows(
  conn: DuckDBConnection,
  options: ForecastDayOptions,
  dayTable: FeatureTable,
  lear: NonNullable<ServableModel['lear']>,
): Promise<FeatureTable> {
  const tables: FeatureTable[] = [];
  for (const d of learInputDays(lear, options.nodeId, options.day)) {
    if (d === options.day) {
      tables.push(dayTable);
      continue;
    }
    const f = await featuresForDay(conn, { ...options, day: d, featureSet: options.model.featureSet });
    if (f.ok) tables.push(featureTableFromRows(f.rows, options.model.featureSet));
  }
  return concatFeatureTables(tables);
}

export interface LatestForecastOptions extends FeatureInputs {
  readonly model: TrainedModel;
  /** As `ForecastDayOptions.served`. */
  readonly served?: ServableModel;
  /** Nodes to forecast; default every node with prices in the market. */
  readonly nodeIds?: readonly number[];
  /**
   * Day to forecast; default, per node, the last day whose inputs are known: the day after its
   * last price, held back to the last DA price of D, the last load forecast and the day after
   * the last metered load when the model's set reads them (see `lastKnownDays`).
   */
  readonly day?: string;
  /** The model's calibration: with it the rows (and the Parquet file) carry quantiles. */
  readonly calibration?: ConformalCalibration | null;
  /** When given, the forecast rows are written there as Parquet (see `writeForecastParquet`). */
  readonly outPath?: string;
  readonly tempDir?: string;
}

export interface LatestForecastResult {
  readonly forecasts: readonly DayForecast[];
  /** Nodes that could not be forecast, with the inputs they miss. */
  readonly failures: readonly MissingFeatureInputsError[];
}

/** The latest day-ahead forecast of every node (see `LatestForecastOptions.day`). */
export async function latestForecast(conn: DuckDBConnection, options: LatestForecastOptions): Promise<LatestForecastResult> {
  await conn.run(`SET TimeZone='UTC'`);
  const nextDay = await lastKnownDays(conn, options.pricesParquet, options.loadParquet, options.model.featureSet);
  const nodeIds = options.nodeIds ?? [...nextDay.keys()];
  const forecasts: DayForecast[] = [];
  const failures: MissingFeatureInputsError[] = [];
  for (const nodeId of nodeIds) {
    const day = options.day ?? nextDay.get(nodeId);
    if (day === undefined) {
      failures.push(
        new MissingFeatureInputsError(nodeId, options.market, 'unknown', [
          { input: 'price', nodeId, market: options.market, day: 'any', hours: Array.from({ length: 24 }, (_, h) => h) },
        ]),
      );
      continue;
    }
    const result = await forecastDay(conn, { ...options, nodeId, day });
    if (result.ok) forecasts.push(result.forecast);
    else failures.push(result.error);
  }
  if (options.outPath !== undefined)
    await writeForecastParquet(
      conn,
      forecasts.flatMap((f) => f.rows),
      options.outPath,
    );
  return { forecasts, failures };
}

/**
 * Per node, the last EPT day whose inputs in `set` are all there: the day after its last
 * own-market price, but no later than its last DA price (an RT model reads the DA price of D),
 * the last day of the load forecast, or the day after the last metered load. On live data
 * that is tomorrow; on a historical export, a day inside the files.
 */
export async function lastKnownDays(
  conn: DuckDBConnection,
  pricesParquet: readonly string[],
  loadParquet: readonly string[],
  set: FeatureSet,
): Promise<Map<number, string>> {
  const day = `CAST(ts_utc AT TIME ZONE '${EPT_ZONE}' AS DATE)`;
  const prices = await conn.runAndReadAll(
    `SELECT node_id, CAST(max(${day}) FILTER (WHERE market = ${sqlString(set.market)}) + 1 AS VARCHAR) AS own, CAST(max(${day}) FILTER (WHERE market = 'da') AS VARCHAR) AS da
     FROM read_parquet(${fileList(pricesParquet)}) GROUP BY node_id HAVING own IS NOT NULL ORDER BY node_id`,
  );
  let loadLimit: string | null = null;
  const areas = [
    set.loadForecastArea === null ? null : `(kind = 'forecast' AND area = ${sqlString(set.loadForecastArea)})`,
    set.loadMeteredArea === null ? null : `(kind = 'metered' AND area = ${sqlString(set.loadMeteredArea)})`,
  ].filter((a) => a !== null);
  if (areas.length > 0 && loadParquet.length > 0) {
    const load = await conn.runAndReadAll(
      `SELECT CAST(min(last) AS VARCHAR) FROM (SELECT kind, max(${day}) + CASE kind WHEN 'metered' THEN 1 ELSE 0 END AS last
       FROM read_parquet(${fileList(loadParquet)}) WHERE ${areas.join(' OR ')} GROUP BY kind)`,
    );
    loadLimit = (load.getRows()[0]?.[0] as string | null) ?? null;
  }
  const out = new Map<number, string>();
  for (const [nodeId, own, da] of prices.getRows()) {
    let d = String(own);
    if (set.inputs.includes('da_price') && da !== null && String(da) < d) d = String(da);
    if (loadLimit !== null && loadLimit < d) d = loadLimit;
    out.set(Number(nodeId), d);
  }
  return out;
}

const fileList = (paths: readonly string[]): string => `[${paths.map(sqlString).join(', ')}]`;

/**
 * Writes forecast rows as Parquet: node_id BIGINT, ts_utc TIMESTAMPTZ, ts_ept VARCHAR, day DATE,
 * value DOUBLE, then p05, p10, p25, p50, p75, p90, p95 DOUBLE (the quantiles; NULL for a row
 * without them, so the table's columns do not depend on whether the model was calibrated).
 */
export async function writeForecastParquet(conn: DuckDBConnection, rows: readonly ForecastRow[], outPath: string): Promise<void> {
  const num = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? String(v) : 'NULL');
  const values = rows
    .map(
      (r) =>
        `(${Math.trunc(r.nodeId)}, TIMESTAMPTZ ${sqlString(r.tsUtc)}, ${sqlString(r.tsEpt)}, DATE ${sqlString(r.day)}, ${num(r.value)}, ${QUANTILE_COLUMNS.map((_, k) => num(r.quantiles?.[k])).join(', ')})`,
    )
    .join(',\n');
  const quantiles = QUANTILE_COLUMNS.map((c) => `CAST(${c} AS DOUBLE) AS ${c}`).join(', ');
  const body =
    rows.length > 0
      ? `SELECT CAST(node_id AS BIGINT) AS node_id, ts_utc, ts_ept, day, CAST(value AS DOUBLE) AS value, ${quantiles} FROM (VALUES ${values}) v(node_id, ts_utc, ts_ept, day, value, ${QUANTILE_COLUMNS.join(', ')})`
      : `SELECT CAST(NULL AS BIGINT) AS node_id, CAST(NULL AS TIMESTAMPTZ) AS ts_utc, CAST(NULL AS VARCHAR) AS ts_ept, CAST(NULL AS DATE) AS day, CAST(NULL AS DOUBLE) AS value, ${QUANTILE_COLUMNS.map((c) => `CAST(NULL AS DOUBLE) AS ${c}`).join(', ')} WHERE false`;
  await conn.run(`COPY (${body} ORDER BY node_id, ts_utc) TO ${sqlString(outPath)} (FORMAT parquet)`);
}
