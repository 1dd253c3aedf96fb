// The published epftoolbox forecasts for PJM (LEAR and DNN ensembles), scored on the same
// grid hours as our backtest so the figures stand side by side. The file's timestamps are
// EPT wall-clock on the 24-hour grid, like our feature rows.
import type { DuckDBConnection } from '@duckdb/node-api';

import { scores, type Scores } from '../metrics.ts';
import type { ForecastHour } from './walk-forward.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

/** Forecast columns of Forecasts_PJM_DNN_LEAR_ensembles.csv that the comparison table shows. */
export const PUBLISHED_COLUMNS = ['LEAR Ensemble', 'DNN Ensemble'] as const;

export interface PublishedScores {
  readonly name: string;
  readonly scores: Scores;
}

/**
 * Scores each published forecast on the hours of `hours` (matched by day and grid hour),
 * with the naive forecast of those hours as the rMAE reference. Throws if an hour of
 * `hours` has no published forecast, so a partial match never passes for the full period.
 */
export async function scorePublishedForecasts(conn: DuckDBConnection, csvPath: string, hours: readonly ForecastHour[]): Promise<PublishedScores[]> {
  const reader = await conn.runAndReadAll(
    // The timestamp column has an empty name, which DuckDB calls column0 or column00.
    `SELECT strftime(CAST(COLUMNS('^column0+$') AS TIMESTAMP), '%Y-%m-%d %H') AS key, ${PUBLISHED_COLUMNS.map((c) => `CAST("${c}" AS DOUBLE)`).join(', ')}
     FROM read_csv(${sqlString(csvPath)}, header = true)`,
  );
  const byKey = new Map<string, number[]>();
  for (const row of reader.getRows()) byKey.set(String(row[0]), row.slice(1).map(Number));
  const actual: number[] = [];
  const naive: number[] = [];
  const forecasts: number[][] = PUBLISHED_COLUMNS.map(() => []);
  for (const h of hours) {
    const key = `${h.day} ${String(h.hour).padStart(2, '0')}`;
    const values = byKey.get(key);
    if (values === undefined) {
      throw new Error(
        `The published forecasts in ${csvPath} have no row for ${key}:00 EPT; compare only over 2016-12-27..2018-12-24 (the epftoolbox test period).`,
      );
    }
    actual.push(h.actual);
    naive.push(h.naive);
    values.forEach((v, i) => {
      forecasts[i]!.push(v);
    });
  }
  return PUBLISHED_COLUMNS.map((name, i) => ({ name, scores: scores(actual, forecasts[i]!, naive) }));
}
