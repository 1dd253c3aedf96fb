// Canonical prices: one row per (node, market, UTC hour) from any raw-LMP relation(s), keeping the
// current revision (row_is_current first, then the highest version_nbr), written as Parquet with
// a fixed row order so identical input gives byte-identical files.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PjmMarket } from '../config.ts';
import { EPT_ZONE, sqlIdent, useUtc } from '../sources/raw.ts';
import { EptMismatchError, findEptMismatches } from '../sources/ept-check.ts';
import { eptDayCondition, eptRangeCondition } from './day.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

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

const RAW_COLUMNS = 'ts_utc, pnode_id, pnode_name, type, zone, market, lmp, energy, congestion, loss, row_is_current, version_nbr';

/**
 * The revision order within one (node, market, hour): row_is_current true first, then the highest
 * version_nbr; the remaining fields only break exact ties so that the winner never depends on
 * row order (and both SQL forms below pick the same row).
 */
const REVISION_RANK = `(coalesce(row_is_current, false), coalesce(version_nbr, -1), coalesce(lmp, -1e308), coalesce(energy, -1e308),
  coalesce(congestion, -1e308), coalesce(loss, -1e308), coalesce(pnode_name, ''), coalesce(type, ''), coalesce(zone, ''))`;

/** The canonical columns, cast to their canonical types whatever the source declared. */
const CANONICAL_SELECT = `CAST(ts_utc AS TIMESTAMPTZ) AS ts_utc, CAST(pnode_id AS BIGINT) AS node_id, CAST(pnode_name AS VARCHAR) AS node_name,
  CAST(type AS VARCHAR) AS node_type, CAST(zone AS VARCHAR) AS zone, CAST(market AS VARCHAR) AS market,
  CAST(lmp AS DOUBLE) AS lmp, CAST(energy AS DOUBLE) AS energy, CAST(congestion AS DOUBLE) AS congestion, CAST(loss AS DOUBLE) AS loss`;

/**
 * SQL selecting canonical price rows (sorted by market, node_id, ts_utc) from base tables with
 * raw-LMP columns (REVISION_RANK decides between revisions). The winner of each key is found as
 * (table, rowid) with a narrow GROUP BY and joined back: in the ETL benchmark this ran several
 * times faster than a row_number() window when most keys are distinct, and it copies nothing.
 */
export function canonicalPricesSql(tables: readonly string[], selection: PricesSelection = {}): string {
  if (tables.length === 0) throw new Error('canonicalPricesSql: give at least one raw LMP table');
  const where = filters(selection);
  const keyed = tables.map((t, i) => `SELECT ${i} AS src, rowid AS rid, ${RAW_COLUMNS} FROM ${sqlIdent(t)} ${where}`).join(' UNION ALL ');
  const pick = tables
    .map(
      (t, i) =>
        `SELECT ${CANONICAL_SELECT} FROM ${sqlIdent(t)} SEMI JOIN (SELECT w.rid AS rid FROM winners WHERE w.src = ${i}) x ON ${sqlIdent(t)}.rowid = x.rid`,
    )
    .join(' UNION ALL ');
  return `
    WITH winners AS (SELECT arg_max({'src': src, 'rid': rid}, ${REVISION_RANK}) AS w FROM (${keyed}) GROUP BY pnode_id, market, ts_utc)
    SELECT * FROM (${pick})
    ORDER BY market, node_id, ts_utc`;
}

/**
 * The same result from any relations (views over CSV or NDJSON, which have no rowid), as a table
 * `winners` built in one GROUP BY pass that keeps the winning row's fields and the range of EPT
 * labels seen for the key (so every raw row's EPT label can be checked without a second pass).
 */
export function winnersFromRelationsSql(relations: readonly string[], selection: PricesSelection = {}): string {
  if (relations.length === 0) throw new Error('winnersFromRelationsSql: give at least one raw LMP relation');
  const union = relations.map((r) => `SELECT ts_ept, ${RAW_COLUMNS} FROM ${sqlIdent(r)}`).join(' UNION ALL ');
  return `
    SELECT ts_utc, pnode_id, market, min(ts_ept) AS ept_lo, max(ts_ept) AS ept_hi, count(ts_ept) = count(*) AS ept_complete,
           arg_max({'pnode_name': pnode_name, 'type': type, 'zone': zone, 'lmp': lmp, 'energy': energy, 'congestion': congestion, 'loss': loss}, ${REVISION_RANK}) AS w
    FROM (${union}) ${filters(selection)}
    GROUP BY pnode_id, market, ts_utc`;
}

/** Canonical rows from a `winners` table, sorted. */
export function canonicalFromWinnersSql(winners: string): string {
  const w = sqlIdent(winners);
  return `
    SELECT ${CANONICAL_SELECT} FROM (
      SELECT ts_utc, pnode_id, market, w.pnode_name AS pnode_name, w.type AS type, w.zone AS zone, w.lmp AS lmp,
             w.energy AS energy, w.congestion AS congestion, w.loss AS loss FROM ${w})
    ORDER BY market, node_id, ts_utc`;
}

export interface WriteResult {
  readonly path: string;
  readonly rows: number;
}

async function isBaseTable(conn: DuckDBConnection, name: string): Promise<boolean> {
  const r = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = ${sqlString(name)}`);
  return Number(r.getRowObjects()[0]?.['n'] ?? 0) > 0;
}

/**
 * Writes canonical prices to `outPath` (Parquet, DuckDB's default snappy compression: zstd cost a
 * third more time in the ETL benchmark). When every relation is a base table the rowid form is
 * used (tables come from sources that derive or already checked ts_ept). Otherwise one GROUP BY
 * pass parses the rows, picks the winners and collects EPT labels, which are checked against
 * the UTC hours before anything is written (EptMismatchError). Both forms apply the same
 * revision rule and give byte-identical files. The connection's TimeZone is set to UTC.
 */
export async function writeCanonicalPrices(
  conn: DuckDBConnection,
  rawRelations: readonly string[],
  outPath: string,
  selection: PricesSelection = {},
): Promise<WriteResult> {
  await useUtc(conn);
  let allTables = rawRelations.length > 0;
  for (const r of rawRelations) allTables = allTables && (await isBaseTable(conn, r));
  if (allTables) {
    const r = await conn.runAndReadAll(`COPY (${canonicalPricesSql(rawRelations, selection)}) TO ${sqlString(outPath)} (FORMAT parquet)`);
    return { path: outPath, rows: Number(r.getRowObjects()[0]?.['Count'] ?? r.rowsChanged ?? 0) };
  }
  const winners = '__pjm_price_winners';
  const pairs = '__pjm_price_ept_pairs';
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(winners)} AS ${winnersFromRelationsSql(rawRelations, selection)}`);
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(pairs)} AS
      SELECT ts_utc, ts_ept, count(*) AS n FROM (
        SELECT ts_utc, ept_lo AS ts_ept FROM ${sqlIdent(winners)}
        UNION ALL SELECT ts_utc, ept_hi FROM ${sqlIdent(winners)} WHERE ept_hi IS DISTINCT FROM ept_lo
        UNION ALL SELECT ts_utc, NULL FROM ${sqlIdent(winners)} WHERE NOT ept_complete)
      GROUP BY ALL`);
    const bad = await findEptMismatches(conn, pairs, 10, 'n');
    if (bad.count > 0) throw new EptMismatchError(rawRelations, bad.count, bad.examples);
    const r = await conn.runAndReadAll(`COPY (${canonicalFromWinnersSql(winners)}) TO ${sqlString(outPath)} (FORMAT parquet)`);
    return { path: outPath, rows: Number(r.getRowObjects()[0]?.['Count'] ?? r.rowsChanged ?? 0) };
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${sqlIdent(winners)}; DROP TABLE IF EXISTS ${sqlIdent(pairs)};`);
  }
}

/** One raw row of a conflict, as named in the check report. */
export interface ConflictingRow {
  readonly lmp: number | null;
  readonly energy: number | null;
  readonly congestion: number | null;
  readonly loss: number | null;
  readonly versionNbr: number | null;
  readonly rowIsCurrent: boolean | null;
  /** The export file or API feed the row came from. */
  readonly origin: string | null;
}

/** A (node, market, hour) whose current revision has rows with different values. */
export interface PriceConflict {
  readonly nodeId: number;
  readonly market: string;
  /** Start of the hour, ISO UTC, and the same instant on the EPT wall clock (with its UTC offset). */
  readonly tsUtc: string;
  readonly tsEpt: string;
  /** Every distinct set of values among the current rows, each with the first row carrying it. */
  readonly rows: readonly ConflictingRow[];
}

/**
 * What the revision rule did to one day's raw rows: the rows dropped as exact copies of another,
 * the rows replaced by a later revision, and the keys it could not decide (two current rows with
 * different values and the same revision rank). Stored in the processed asset's metadata and
 * judged by validation (`unique_node_market_hour`): a conflict blocks the day.
 */
/**
 * `priceRevisionReport` of each of `days` (EPT) of `raw`, for a batch of day partitions: one
 * grouped count finds the days whose every (node, market, hour) has one row (nearly all, and
 * their report says so at once); only the others get the full report of their own day.
 */
export async function priceRevisionReportsByDay(
  conn: DuckDBConnection,
  raw: string,
  days: readonly string[],
  limit = 20,
): Promise<Map<string, PriceRevisionReport>> {
  await useUtc(conn);
  const counts =
    await conn.runAndReadAll(`SELECT CAST(CAST(timezone('${EPT_ZONE}', ts_utc) AS DATE) AS VARCHAR) AS day, count(*)::BIGINT, count(DISTINCT (pnode_id, market, ts_utc))::BIGINT
    FROM ${sqlIdent(raw)} GROUP BY 1`);
  const byDay = new Map(counts.getRows().map(([day, rows, keys]) => [String(day), { rows: Number(rows), keys: Number(keys) }]));
  const out = new Map<string, PriceRevisionReport>();
  for (const day of days) {
    const c = byDay.get(day);
    if (c === undefined || c.rows === c.keys) out.set(day, { rawRows: c?.rows ?? 0, exactDuplicates: 0, superseded: 0, conflicts: 0, examples: [] });
    else out.set(day, await priceRevisionReport(conn, raw, { day }, limit));
  }
  return out;
}

export interface PriceRevisionReport {
  readonly rawRows: number;
  readonly exactDuplicates: number;
  readonly superseded: number;
  readonly conflicts: number;
  /** The first conflicts (by market, node, hour), at most `limit`. */
  readonly examples: readonly PriceConflict[];
}

/** The (row_is_current, version_nbr) part of REVISION_RANK: rows equal on it are the same revision. */
const REVISION_KEY = `(coalesce(row_is_current, false), coalesce(version_nbr, -1))`;

/**
 * The revision report of raw-LMP relation `raw` (with an `origin` column) over `selection`.
 * Exact duplicates are rows equal in every column but `origin` (the same row in two exports).
 */
export async function priceRevisionReport(conn: DuckDBConnection, raw: string, selection: PricesSelection = {}, limit = 20): Promise<PriceRevisionReport> {
  await useUtc(conn);
  // Most node-days have one row per (node, market, hour): nothing is a duplicate, a superseded
  // revision or a conflict, and one count says so. The full report below cost five times the
  // canonical query itself, paid by every partition of a backfill (measured, in-process).
  const keys = await conn.runAndReadAll(
    `SELECT count(*)::BIGINT, count(DISTINCT (pnode_id, market, ts_utc))::BIGINT FROM ${sqlIdent(raw)} ${filters(selection)}`,
  );
  const [rawRows, distinctKeys] = keys.getRows()[0] ?? [0, 0];
  if (Number(rawRows) === Number(distinctKeys)) return { rawRows: Number(rawRows), exactDuplicates: 0, superseded: 0, conflicts: 0, examples: [] };
  const cols = 'ts_utc, pnode_id, pnode_name, type, zone, market, lmp, energy, congestion, loss, row_is_current, version_nbr';
  const r = await conn.runAndReadAll(`
    WITH r AS (SELECT ${cols}, origin FROM ${sqlIdent(raw)} ${filters(selection)}),
    d AS (SELECT ${cols}, min(origin) AS origin, ${REVISION_KEY} AS rev FROM r GROUP BY ALL),
    top AS (SELECT * FROM d QUALIFY rev = max(rev) OVER (PARTITION BY pnode_id, market, ts_utc)),
    vals AS (
      SELECT pnode_id, market, ts_utc, lmp, energy, congestion, loss,
             arg_min({'versionNbr': version_nbr, 'rowIsCurrent': row_is_current, 'origin': origin}, origin) AS w
      FROM top GROUP BY pnode_id, market, ts_utc, lmp, energy, congestion, loss),
    conflicts AS (
      SELECT pnode_id, market, ts_utc,
             list({'lmp': lmp, 'energy': energy, 'congestion': congestion, 'loss': loss,
                   'versionNbr': w.versionNbr, 'rowIsCurrent': w.rowIsCurrent, 'origin': w.origin} ORDER BY w.origin, lmp) AS rows
      FROM vals GROUP BY pnode_id, market, ts_utc HAVING count(*) > 1)
    SELECT (SELECT count(*) FROM r)::BIGINT AS raw_rows,
           (SELECT count(*) FROM r)::BIGINT - (SELECT count(*) FROM d)::BIGINT AS exact_duplicates,
           (SELECT count(*) FROM d)::BIGINT - (SELECT count(*) FROM top)::BIGINT AS superseded,
           (SELECT count(*) FROM conflicts)::BIGINT AS conflicts,
           (SELECT to_json(coalesce(list({'nodeId': pnode_id, 'market': market,
                      'tsUtc': strftime(ts_utc, '%Y-%m-%dT%H:%M:%SZ'),
                      'tsEpt': strftime(timezone('${EPT_ZONE}', ts_utc), '%Y-%m-%dT%H:%M') || ' EPT (UTC' ||
                               CAST(CAST(epoch(timezone('${EPT_ZONE}', ts_utc)) - epoch(CAST(ts_utc AS TIMESTAMP)) AS INTEGER) // 3600 AS VARCHAR) || ')',
                      'rows': rows} ORDER BY market, pnode_id, ts_utc)[1:${Math.max(1, Math.trunc(limit))}], []))
            FROM conflicts) AS examples`);
  const row = r.getRowObjects()[0] ?? {};
  return {
    rawRows: Number(row['raw_rows'] ?? 0),
    exactDuplicates: Number(row['exact_duplicates'] ?? 0),
    superseded: Number(row['superseded'] ?? 0),
    conflicts: Number(row['conflicts'] ?? 0),
    examples: JSON.parse(String(row['examples'] ?? '[]')) as PriceConflict[],
  };
}
