// The latest day-ahead forecast per node: for each node, the day after its last day with a
// price (or a given day), built from the same feature code `/predict` uses, predicted with a
// trained model and put back on real UTC hours. A node whose inputs are missing gets the
// typed error naming them, never a forecast from older data.
import type { DuckDBConnection } from '@duckdb/node-api';
import { featuresForDay, MissingFeatureInputsError, type FeatureInputs } from '../features/build.ts';
import { EPT_ZONE, sqlString } from '../features/sql.ts';
import { featureTableFromRows } from '../model/dataset.ts';
import { predictRows, type TrainedModel } from '../model/train.ts';
import { realHoursOfDay } from './grid-hours.ts';

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
}

export interface DayForecast {
  readonly nodeId: number;
  readonly day: string;
  readonly rows: readonly ForecastRow[];
}

export type DayForecastResult = { readonly ok: true; readonly forecast: DayForecast } | { readonly ok: false; readonly error: MissingFeatureInputsError };

export interface ForecastDayOptions extends FeatureInputs {
  readonly model: TrainedModel;
  readonly nodeId: number;
  /** EPT delivery day to forecast, YYYY-MM-DD. */
  readonly day: string;
  readonly tempDir?: string;
}

/** Forecasts one node and day from the latest data (the `/predict` path). */
export async function forecastDay(conn: DuckDBConnection, options: ForecastDayOptions): Promise<DayForecastResult> {
  if (options.model.market !== options.market) {
    throw new Error(`forecastDay: the model was trained for market ${options.model.market}, not ${options.market}; load the ${options.market} model.`);
  }
  const features = await featuresForDay(conn, options);
  if (!features.ok) return features;
  const table = featureTableFromRows(features.rows, options.market);
  const byGridHour = predictRows(options.model, table, 0, table.rows);
  const rows = realHoursOfDay(options.day).map((h) => ({
    nodeId: options.nodeId,
    tsUtc: h.tsUtc,
    tsEpt: h.tsEpt,
    day: options.day,
    value: byGridHour[table.hour.indexOf(h.gridHour)]!,
  }));
  return { ok: true, forecast: { nodeId: options.nodeId, day: options.day, rows } };
}

export interface LatestForecastOptions extends FeatureInputs {
  readonly model: TrainedModel;
  /** Nodes to forecast; default every node with prices in the market. */
  readonly nodeIds?: readonly number[];
  /** Day to forecast; default, per node, the day after its last day with a price. */
  readonly day?: string;
  /** When given, the forecast rows are written there as Parquet (node_id, ts_utc, ts_ept, day, value). */
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
  const files = `[${options.pricesParquet.map(sqlString).join(', ')}]`;
  const last = await conn.runAndReadAll(
    `SELECT node_id, CAST(max(CAST(ts_utc AT TIME ZONE '${EPT_ZONE}' AS DATE)) + 1 AS VARCHAR) AS next_day
     FROM read_parquet(${files}) WHERE market = ${sqlString(options.market)} GROUP BY node_id ORDER BY node_id`,
  );
  const nextDay = new Map(last.getRows().map((r) => [Number(r[0]), String(r[1])]));
  const nodeIds = options.nodeIds ?? [...nextDay.keys()];
  const forecasts: DayForecast[] = [];
  const failures: MissingFeatureInputsError[] = [];
  for (const nodeId of nodeIds) {
    const day = options.day ?? nextDay.get(nodeId);
    if (day === undefined) {
      failures.push(new MissingFeatureInputsError(nodeId, options.market, 'unknown', [{ input: 'price', nodeId, market: options.market, day: 'any', hours: Array.from({ length: 24 }, (_, h) => h) }]));
      continue;
    }
    const result = await forecastDay(conn, { ...options, nodeId, day });
    if (result.ok) forecasts.push(result.forecast);
    else failures.push(result.error);
  }
  if (options.outPath !== undefined) await writeForecastParquet(conn, forecasts.flatMap((f) => f.rows), options.outPath);
  return { forecasts, failures };
}

/** Writes forecast rows as Parquet: node_id BIGINT, ts_utc TIMESTAMPTZ, ts_ept VARCHAR, day DATE, value DOUBLE. */
export async function writeForecastParquet(conn: DuckDBConnection, rows: readonly ForecastRow[], outPath: string): Promise<void> {
  const values = rows
    .map((r) => `(${Math.trunc(r.nodeId)}, TIMESTAMPTZ ${sqlString(r.tsUtc)}, ${sqlString(r.tsEpt)}, DATE ${sqlString(r.day)}, ${Number.isFinite(r.value) ? r.value : 'NULL'})`)
    .join(',\n');
  const body =
    rows.length > 0
      ? `SELECT CAST(node_id AS BIGINT) AS node_id, ts_utc, ts_ept, day, CAST(value AS DOUBLE) AS value FROM (VALUES ${values}) v(node_id, ts_utc, ts_ept, day, value)`
      : `SELECT CAST(NULL AS BIGINT) AS node_id, CAST(NULL AS TIMESTAMPTZ) AS ts_utc, CAST(NULL AS VARCHAR) AS ts_ept, CAST(NULL AS DATE) AS day, CAST(NULL AS DOUBLE) AS value WHERE false`;
  await conn.run(`COPY (${body} ORDER BY node_id, ts_utc) TO ${sqlString(outPath)} (FORMAT parquet)`);
}
