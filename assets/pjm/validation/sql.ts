// Small query helpers shared by the checks: run SQL over canonical Parquet files and read plain
// JS values back (bigint counts as numbers, timestamps as ISO UTC strings).
import type { DuckDBConnection } from '@duckdb/node-api';
import { EPT_ZONE, sqlFileList, useUtc } from '../sources/raw.ts';
import { assertIsoDay } from '../processed/day.ts';
import type { ColumnSpec } from '../processed/schema.ts';
import type { CheckResult } from './report.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

export type Row = Record<string, unknown>;

export async function query(conn: DuckDBConnection, sql: string): Promise<Row[]> {
  const r = await conn.runAndReadAll(sql);
  return r
    .getRowObjects()
    .map((o) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v === null || typeof v !== 'object' ? v : String(v)])),
    );
}

/** `read_parquet([...])` of the files; every check reads through this. */
export const parquetSource = (paths: readonly string[]): string => `read_parquet(${sqlFileList(paths)})`;

/** ISO UTC text of a TIMESTAMPTZ column, for details and messages. */
export const isoUtc = (col: string): string => `strftime(${col}, '%Y-%m-%dT%H:%M:%SZ')`;

/**
 * SQL of one row (lo, hi): the UTC instants bounding the EPT days whose hours must all be
 * present — the expected days when given, else the days the data itself spans.
 */
export function expectedHoursRangeSql(src: string, expected: { readonly start: string; readonly end: string } | undefined): string {
  if (expected === undefined) {
    return `SELECT timezone('${EPT_ZONE}', CAST(min(CAST(timezone('${EPT_ZONE}', ts_utc) AS DATE)) AS TIMESTAMP)) AS lo,
              timezone('${EPT_ZONE}', CAST(max(CAST(timezone('${EPT_ZONE}', ts_utc) AS DATE)) + 1 AS TIMESTAMP)) AS hi FROM ${src}`;
  }
  assertIsoDay(expected.start, 'expected.start');
  assertIsoDay(expected.end, 'expected.end');
  return `SELECT timezone('${EPT_ZONE}', CAST(DATE ${sqlString(expected.start)} AS TIMESTAMP)) AS lo, timezone('${EPT_ZONE}', CAST(DATE ${sqlString(expected.end)} + 1 AS TIMESTAMP)) AS hi`;
}

export async function prepare(conn: DuckDBConnection): Promise<void> {
  await useUtc(conn);
}

/** Checks the files' columns and types against the canonical schema, in order. */
export async function schemaCheck(conn: DuckDBConnection, source: string, expected: ColumnSpec, table: string): Promise<CheckResult> {
  let actual: [string, string][];
  try {
    actual = (await query(conn, `SELECT column_name AS n, column_type AS t FROM (DESCRIBE SELECT * FROM ${source})`)).map((r) => [
      String(r['n']),
      String(r['t']),
    ]);
  } catch (e) {
    return { name: 'schema', passed: false, severity: 'error', message: `cannot read the ${table} files: ${(e as Error).message.split('\n')[0]}`, details: {} };
  }
  const want = expected.map(([n, t]) => `${n} ${t}`);
  const got = actual.map(([n, t]) => `${n} ${t}`);
  const missing = want.filter((c) => !got.includes(c));
  const unexpected = got.filter((c) => !want.includes(c));
  const passed = missing.length === 0 && unexpected.length === 0 && want.join(',') === got.join(',');
  return {
    name: 'schema',
    passed,
    severity: 'error',
    message: passed
      ? `${table}: ${want.length} columns with the canonical names and types`
      : `${table} columns differ from the canonical schema: missing or mistyped [${missing.join(', ')}], unexpected [${unexpected.join(', ')}]${missing.length + unexpected.length === 0 ? ' (order differs)' : ''}. Rebuild with assets/pjm/processed.`,
    details: { expected: want, actual: got },
  };
}

export interface MissingHours {
  /** Bounds of the expected hours (ISO UTC; null when there is nothing to expect). */
  readonly lo: string | null;
  readonly hi: string | null;
  /** One row per series with gaps: its two key columns, `n` (hours missing) and `hours` (the first `limit`, comma-separated). */
  readonly missing: Row[];
}

/**
 * The hours missing from each series (`pairs`: a relation of the two `keys`) over the range
 * `range` (one row lo, hi). One cheap count comes first: when the distinct on-the-hour rows of
 * those series in the range are as many as series × hours, nothing is missing and the
 * anti-join that lists the gaps (the dearest query of a validation) is skipped.
 */
export async function missingHours(
  conn: DuckDBConnection,
  src: string,
  range: string,
  pairs: string,
  keys: readonly [string, string],
  limit: number,
): Promise<MissingHours> {
  const [k1, k2] = keys;
  const [count] = await query(
    conn,
    `
    WITH r AS (${range}), p AS (${pairs}),
    have AS (SELECT count(*) AS n FROM (
      SELECT DISTINCT s.${k1}, s.${k2}, s.ts_utc FROM ${src} s JOIN p ON s.${k1} = p.${k1} AND s.${k2} = p.${k2} CROSS JOIN r
      WHERE s.ts_utc >= r.lo AND s.ts_utc < r.hi AND s.ts_utc = date_trunc('hour', s.ts_utc)))
    SELECT ${isoUtc('r.lo')} AS lo, ${isoUtc('r.hi')} AS hi,
      (SELECT count(*) FROM p) * coalesce(date_diff('hour', r.lo, r.hi), 0) AS want, (SELECT n FROM have) AS have
    FROM r`,
  );
  const lo = (count?.['lo'] as string | null | undefined) ?? null;
  const hi = (count?.['hi'] as string | null | undefined) ?? null;
  if (count === undefined || Number(count['want']) === Number(count['have'])) return { lo, hi, missing: [] };
  const missing = await query(
    conn,
    `
    WITH r AS (${range}),
    hours AS (SELECT unnest(generate_series(r.lo, r.hi - INTERVAL 1 HOUR, INTERVAL 1 HOUR)) AS ts_utc FROM r WHERE r.lo IS NOT NULL),
    want AS (SELECT p.${k1}, p.${k2}, h.ts_utc FROM (${pairs}) p CROSS JOIN hours h),
    gaps AS (SELECT w.* FROM want w ANTI JOIN ${src} s ON s.${k1} = w.${k1} AND s.${k2} = w.${k2} AND s.ts_utc = w.ts_utc)
    SELECT ${k1}, ${k2}, count(*) AS n, array_to_string(list(${isoUtc('ts_utc')} ORDER BY ts_utc)[1:${limit}], ',') AS hours
    FROM gaps GROUP BY ${k1}, ${k2} ORDER BY ${k1}, ${k2}`,
  );
  return { lo, hi, missing };
}
