// Canonical prices: one row per (node, market, UTC hour) from any raw-LMP relation(s), keeping the
// current revision (row_is_current first, then the highest version_nbr), written as Parquet with
// a fixed row order so identical input gives byte-identical files.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PjmMarket } from '../config.ts';
import { sqlIdent, sqlString, useUtc } from '../sources/raw.ts';
import { eptDayCondition, eptRangeCondition } from './day.ts';

export interface PricesSelection {
  /** One EPT day (a daily partition). */
  readonly day?: string;
  /** Or an EPT day range, inclusive. Ignored when `day` is given. */
  readonly range?: { readonly start: string; readonly end: string };
  /** Keep only these pnode ids (default all). */
  readonly nodeIds?: readonly number[];
  /** Keep only these markets (default all). */
  readonly markets?: readonly PjmMarket[];
}

function filters(s: PricesSelection): string {
  const c: string[] = [];
  if (s.day !== undefined) c.push(eptDayCondition('ts_utc', s.day));
  else if (s.range !== undefined) c.push(eptRangeCondition('ts_utc', s.range.start, s.range.end));
  if (s.nodeIds !== undefined) c.push(s.nodeIds.length === 0 ? 'false' : `pnode_id IN (${s.nodeIds.map((n) => Math.trunc(n)).join(', ')})`);
  if (s.markets !== undefined) c.push(s.markets.length === 0 ? 'false' : `market IN (${s.markets.map(sqlString).join(', ')})`);
  return c.length > 0 ? `WHERE ${c.join(' AND ')}` : '';
}

/** SQL selecting canonical price rows (sorted by market, node_id, ts_utc) from raw-LMP relations. */
export function canonicalPricesSql(rawRelations: readonly string[], selection: PricesSelection = {}): string {
  if (rawRelations.length === 0) throw new Error('canonicalPricesSql: give at least one raw LMP relation');
  const union = rawRelations.map((r) => `SELECT ts_utc, pnode_id, pnode_name, type, zone, market, lmp, energy, congestion, loss, row_is_current, version_nbr FROM ${sqlIdent(r)}`).join(' UNION ALL ');
  // Casts pin the canonical types whatever the source relation declared.
  return `
    SELECT CAST(ts_utc AS TIMESTAMPTZ) AS ts_utc, CAST(pnode_id AS BIGINT) AS node_id, CAST(pnode_name AS VARCHAR) AS node_name,
           CAST(type AS VARCHAR) AS node_type, CAST(zone AS VARCHAR) AS zone, CAST(market AS VARCHAR) AS market,
           CAST(lmp AS DOUBLE) AS lmp, CAST(energy AS DOUBLE) AS energy, CAST(congestion AS DOUBLE) AS congestion, CAST(loss AS DOUBLE) AS loss
    FROM (${union}) ${filters(selection)}
    QUALIFY row_number() OVER (
      PARTITION BY pnode_id, market, ts_utc
      ORDER BY coalesce(row_is_current, false) DESC, version_nbr DESC NULLS LAST, lmp) = 1
    ORDER BY market, node_id, ts_utc`;
}

export interface WriteResult {
  readonly path: string;
  readonly rows: number;
}

/** Writes canonical prices to `outPath` (Parquet). The connection's TimeZone is set to UTC. */
export async function writeCanonicalPrices(conn: DuckDBConnection, rawRelations: readonly string[], outPath: string, selection: PricesSelection = {}): Promise<WriteResult> {
  await useUtc(conn);
  const r = await conn.runAndReadAll(`COPY (${canonicalPricesSql(rawRelations, selection)}) TO ${sqlString(outPath)} (FORMAT parquet, COMPRESSION zstd)`);
  return { path: outPath, rows: Number(r.getRowObjects()[0]?.['Count'] ?? r.rowsChanged ?? 0) };
}
