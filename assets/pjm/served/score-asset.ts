// pjm/forecast_score: one partition per EPT day, the kept forecasts of that day (the served-
// forecast log, ./log.ts, in the lineage store's asset records) scored against the day's
// validated prices once they are in. It reads the day's pjm/features partitions of every
// node: their target is the validated price of (D, hour) in the model's market and their D-1
// and D-7 lags give the backtest's naive forecast, on the same 24-hour grid, so live figures
// and the backtest's compare. Eager: a new
// day's features score that day, and a revised validated day (which changes its features)
// scores it again; a day whose prices are not in has no features yet, so it waits, saying so.
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  defineAsset,
  type AssetDefinition,
  type BatchOutput,
  type Metadata,
  type PartitionKey,
  type PartitionMapping,
  type PartitionsDefinition,
} from '../../../runtime/index.ts';
import { readParquetSql } from '../../../lib/duckdb/sql.ts';
import type { Market } from '../features/columns.ts';
import { ASSET_KEYS } from '../asset-keys.ts';
import { importLegacyServedLog } from './legacy-log.ts';
import { SERVED_FORECASTS, ServedForecastLog } from './log.ts';
import { scoreDay, type ActualHour, type DayScore } from './score.ts';

export const FORECAST_SCORE_ASSET = ASSET_KEYS.forecastScore;
/** Days one step scores at most (a backfill over years of days reads the log and the features once per batch). */
const SCORE_BATCH_DAYS = 366;

export interface ForecastScoreOptions {
  /** The day partitions (those of the validated load). */
  readonly days: PartitionsDefinition;
  /** The features asset and how a day maps onto its partitions (node x day: every node's partition of the day). */
  readonly features: { readonly asset: string; readonly mapping?: PartitionMapping };
  /** The model's market: the features' target and the forecasts scored. */
  readonly market: Market;
  /** DATA_DIR, where an earlier version's served-forecast file may wait to be imported (./legacy-log.ts); none: not looked for. */
  readonly legacyDataDir?: string;
}

/**
 * The figures of a day's score as metadata: what the UI charts and /metrics pools, without
 * reading the file. The summary (printed at the end of a CLI run) only for a day with something
 * kept: a backfill of years of days with nothing to score would print a line for each.
 */
export function scoreMetadata(s: DayScore): Metadata {
  return {
    ...(s.forecasts.length + s.unscored.length > 0 ? { summary: s.summary } : {}),
    market: s.market,
    forecasts: s.forecasts.length,
    unscored: s.unscored.length,
    hours: s.hours,
    absError: s.absError,
    naiveAbsError: s.naiveAbsError,
    quantileHours: s.quantileHours,
    inside50: s.inside50,
    inside90: s.inside90,
    mae: s.mae,
    naiveMae: s.naiveMae,
    rmae: s.rmae,
    coverage50: s.coverage50,
    coverage90: s.coverage90,
  };
}

/** Every complete feature row of the files, by day, node and grid hour. */
async function actualsByDay(conn: DuckDBConnection, paths: readonly string[]): Promise<Map<string, Map<number, Map<number, ActualHour>>>> {
  const out = new Map<string, Map<number, Map<number, ActualHour>>>();
  if (paths.length === 0) return out;
  const r = await conn.runAndReadAll(
    `SELECT CAST(day AS VARCHAR) AS day, CAST(node_id AS BIGINT) AS node_id, CAST(hour AS INTEGER) AS hour, CAST(target AS DOUBLE) AS target,
            CAST(day_of_week AS INTEGER) AS dow, CAST(price_lag1_h AS DOUBLE) AS lag1, CAST(price_lag7_h AS DOUBLE) AS lag7
     FROM ${readParquetSql(paths)} WHERE target IS NOT NULL`,
  );
  for (const [day, node, hour, target, dow, lag1, lag7] of r.getRows()) {
    const d = String(day);
    const n = Number(node);
    let nodes = out.get(d);
    if (!nodes) out.set(d, (nodes = new Map()));
    let hours = nodes.get(n);
    if (!hours) nodes.set(n, (hours = new Map()));
    hours.set(Number(hour), { nodeId: n, hour: Number(hour), actual: Number(target), dayOfWeek: Number(dow), lag1: Number(lag1), lag7: Number(lag7) });
  }
  return out;
}

export function forecastScoreAsset(options: ForecastScoreOptions): AssetDefinition<unknown> {
  return defineAsset({
    key: FORECAST_SCORE_ASSET,
    deps: [{ asset: options.features.asset, as: 'features', ...(options.features.mapping ? { mapping: options.features.mapping } : {}) }],
    group: 'pjm',
    partitions: options.days,
    description: `The forecasts kept of each EPT day (pjm/forecast's and /predict's for a day whose prices were not known yet, in the lineage store's asset records ${SERVED_FORECASTS}) scored against the day's validated ${options.market.toUpperCase()} prices: MAE, rMAE against the backtest's naive forecast, 50 % and 90 % interval coverage where the forecast had quantiles. A day whose prices are not validated yet is not scored (its features are missing).`,
    io: 'json',
    codeVersion: '1',
    // A new day's features (its validated prices arrived) or a revised day scores it.
    automation: { kind: 'eager' },
    batch: {
      maxPartitions: SCORE_BATCH_DAYS,
      async materialize(ctx) {
        const days = ctx.members.map((m) => m.partition).sort();
        if (options.legacyDataDir !== undefined) await importLegacyServedLog(options.legacyDataDir, ctx.records);
        // Read once per batch: a backfill over years of days reads the log once per 366 days.
        const kept = await new ServedForecastLog(ctx.records).forDays(days[0]!, days[days.length - 1]!);
        // Most days have nothing kept (a backfill of history; all but one of the default run's
        // 2,184): their scores need no actuals, so the features are read only when something waits.
        const actuals =
          kept.length === 0
            ? new Map<string, Map<number, Map<number, ActualHour>>>()
            : await actualsByDay(await ctx.duckdb(), await ctx.input('features').paths());
        return new Map<PartitionKey, BatchOutput>(
          ctx.members.map((m): [PartitionKey, BatchOutput] => {
            const score = scoreDay(m.partition, options.market, kept, actuals.get(m.partition) ?? new Map());
            return [m.partition, { value: score as never, metadata: scoreMetadata(score) }];
          }),
        );
      },
    },
  }) as AssetDefinition<unknown>;
}
