// Canonical load: one row per (area, kind, UTC hour) from raw-load relation(s), Parquet out.
//
// Which forecast is kept (load_frcstd_7_day publishes a new 7-day forecast several times a day):
// for an hour of EPT day D, the latest forecast issued strictly before 00:00 EPT of D, i.e. what
// was known the evening before delivery, when day-ahead forecasts are made. Forecasts issued on D
// itself are dropped: they would leak same-day information into day-ahead features. Rows with an
// unknown issue time (the epftoolbox day-ahead forecasts) are taken as day-ahead and kept.
// Metered rows: one per (area, hour), a verified row preferred over an unverified one.
import type { DuckDBConnection } from '@duckdb/node-api';
import { EPT_ZONE, sqlIdent, useUtc } from '../sources/raw.ts';
import { eptDayCondition, eptRangeCondition } from './day.ts';
import type { WriteResult } from './prices.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

export interface LoadSelection {
  readonly day?: string;
  readonly range?: { readonly start: string; readonly end: string };
  readonly areas?: readonly string[];
  readonly kinds?: readonly ('forecast' | 'metered')[];
}

export function canonicalLoadSql(rawRelations: readonly string[], selection: LoadSelection = {}): string {
  if (rawRelations.length === 0) throw new Error('canonicalLoadSql: give at least one raw load relation');
  const union = rawRelations.map((r) => `SELECT ts_utc, area, kind, mw, issued_utc, is_verified FROM ${sqlIdent(r)}`).join(' UNION ALL ');
  const c: string[] = [];
  if (selection.day !== undefined) c.push(eptDayCondition('ts_utc', selection.day));
  else if (selection.range !== undefined) c.push(eptRangeCondition('ts_utc', selection.range.start, selection.range.end));
  if (selection.areas !== undefined) c.push(selection.areas.length === 0 ? 'false' : `area IN (${selection.areas.map(sqlString).join(', ')})`);
  if (selection.kinds !== undefined) c.push(selection.kinds.length === 0 ? 'false' : `kind IN (${selection.kinds.map(sqlString).join(', ')})`);
  // A forecast is usable for hour h when issued before local midnight starting h's EPT day.
  c.push(
    `(kind <> 'forecast' OR issued_utc IS NULL OR issued_utc < timezone('${EPT_ZONE}', CAST(CAST(timezone('${EPT_ZONE}', ts_utc) AS DATE) AS TIMESTAMP)))`,
  );
  // Casts pin the canonical types whatever the source relation declared.
  return `
    SELECT CAST(ts_utc AS TIMESTAMPTZ) AS ts_utc, CAST(area AS VARCHAR) AS area, CAST(kind AS VARCHAR) AS kind, CAST(mw AS DOUBLE) AS mw
    FROM (${union}) WHERE ${c.join(' AND ')}
    QUALIFY row_number() OVER (
      PARTITION BY area, kind, ts_utc
      ORDER BY issued_utc DESC NULLS LAST, coalesce(is_verified, false) DESC, mw) = 1
    ORDER BY area, kind, ts_utc`;
}

/** Writes canonical load to `outPath` (Parquet). */
export async function writeCanonicalLoad(
  conn: DuckDBConnection,
  rawRelations: readonly string[],
  outPath: string,
  selection: LoadSelection = {},
): Promise<WriteResult> {
  await useUtc(conn);
  const r = await conn.runAndReadAll(`COPY (${canonicalLoadSql(rawRelations, selection)}) TO ${sqlString(outPath)} (FORMAT parquet)`);
  return { path: outPath, rows: Number(r.getRowObjects()[0]?.['Count'] ?? r.rowsChanged ?? 0) };
}
