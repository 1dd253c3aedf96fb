// The checks of canonical load: schema and types, one row per (area, kind, hour), hourly
// completeness per (area, kind), load >= 0 (error) with 0 MW hours flagged as suspicious (warn:
// a metered zero is almost always a data fault, e.g. AECO at 2026-03-08 01:00 EPT), and in live
// mode the freshness of the latest hour of each kind.
import type { DuckDBConnection } from '@duckdb/node-api';
import { LOAD_SCHEMA } from '../processed/schema.ts';
import { makeReport, type CheckResult, type ValidationReport } from './report.ts';
import { expectedHoursRangeSql, isoUtc, missingHours, parquetSource, prepare, query, schemaCheck, type Row } from './sql.ts';
import { freshnessCheck } from './prices.ts';
import type { LoadFeed } from '../sources/raw.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

/** One configured load series: an area's forecast or metered load. */
export type LoadSeries = Extract<LoadFeed, { status: 'present' }>['series'][number];

export interface LoadValidationOptions {
  /** EPT days that must be complete for every (area, kind) present; default the days the data spans. */
  readonly expected?: { readonly start: string; readonly end: string };
  /** Missing load hours are 'warn' by default (features report missing inputs themselves). */
  readonly completenessSeverity?: 'error' | 'warn';
  readonly freshness?: { readonly now: Date; readonly maxAgeHours: number };
  readonly maxListed?: number;
  /**
   * What the source delivers (raw-source's loadFeed). Absent: a failed warning `load_feed` and
   * completeness "not evaluated", never "passed". Present: `expected_series` fails (an error) when
   * a configured (area, kind) has no row at all in the expected days, and completeness counts its hours.
   */
  readonly feed?: LoadFeed;
}

export async function validateLoad(conn: DuckDBConnection, parquetPaths: readonly string[], options: LoadValidationOptions = {}): Promise<ValidationReport> {
  await prepare(conn);
  const src = parquetSource(parquetPaths);
  const limit = Math.max(1, Math.trunc(options.maxListed ?? 100));
  const schema = await schemaCheck(conn, src, LOAD_SCHEMA, 'load');
  if (!schema.passed) return makeReport([schema]);
  const checks: CheckResult[] = [schema];

  const [nn] = await query(
    conn,
    `SELECT count(*) AS n, count(*) FILTER (WHERE ts_utc IS NULL OR area IS NULL OR kind IS NULL OR mw IS NULL) AS nulls,
      count(*) FILTER (WHERE kind NOT IN ('forecast', 'metered')) AS bad_kind FROM ${src}`,
  );
  checks.push(loadKeysResult({ rows: Number(nn?.['n'] ?? 0), nulls: Number(nn?.['nulls'] ?? 0), badKind: Number(nn?.['bad_kind'] ?? 0) }));

  const dups = await query(
    conn,
    `SELECT area, kind, ${isoUtc('ts_utc')} AS ts_utc, count(*) AS copies FROM ${src}
    GROUP BY area, kind, ts_utc HAVING count(*) > 1 ORDER BY area, kind, ts_utc`,
  );
  checks.push(loadUniqueResult(dups, limit));

  checks.push(...(await coverageChecks(conn, src, options.expected, options.feed, limit, Number(nn?.['n'] ?? 0), options.completenessSeverity ?? 'warn')));

  const neg = await query(
    conn,
    `SELECT area, kind, ${isoUtc('ts_utc')} AS ts_utc, mw, count(*) OVER () AS total FROM ${src}
    WHERE mw < 0 OR isnan(mw) OR isinf(mw) ORDER BY area, kind, ts_utc LIMIT ${limit}`,
  );
  checks.push(nonNegativeResult(neg));

  const zero = await query(
    conn,
    `SELECT area, kind, ${isoUtc('ts_utc')} AS ts_utc, count(*) OVER () AS total FROM ${src}
    WHERE mw = 0 ORDER BY area, kind, ts_utc LIMIT ${limit}`,
  );
  checks.push(zeroHoursResult(zero));

  // Without a load feed there is nothing to be fresh: load_feed already says so.
  if (options.freshness !== undefined && options.feed?.status !== 'absent') checks.push(await freshnessCheck(conn, src, options.freshness, 'kind'));
  return makeReport(checks);
}

/**
 * Whether the load covers what the source promises: with no load feed, a failed warning and
 * completeness "not evaluated" (never "passed"); with one, every configured series present (an
 * error otherwise) and every hour of each (`severity`; features report missing inputs themselves).
 */
async function coverageChecks(
  conn: DuckDBConnection,
  src: string,
  e: LoadValidationOptions['expected'],
  feed: LoadFeed | undefined,
  limit: number,
  rows: number,
  severity: 'error' | 'warn',
): Promise<CheckResult[]> {
  const days = describeDays(e);
  if (feed?.status === 'absent') return absentFeedResults(feed, days, rows);
  const checks: CheckResult[] = [];
  const range = expectedHoursRangeSql(src, e);
  const series = feed?.status === 'present' && feed.series.length > 0 ? feed.series : undefined;
  const pairs = series
    ? `SELECT * FROM (VALUES ${series.map((x) => `(${sqlString(x.area)}, ${sqlString(x.kind)})`).join(', ')}) t(area, kind)`
    : `SELECT DISTINCT area, kind FROM ${src}`;
  if (series) {
    const present = await query(
      conn,
      `WITH r AS (${range}) SELECT DISTINCT s.area, s.kind FROM ${src} s CROSS JOIN r WHERE s.ts_utc >= r.lo AND s.ts_utc < r.hi`,
    );
    const have = new Set(present.map((p) => `${p['area']} ${p['kind']}`));
    const absent = series.filter((x) => !have.has(`${x.area} ${x.kind}`));
    checks.push(expectedSeriesResult(series, absent, feed?.status === 'present' ? feed.feeds : [], days));
  }
  const { missing } = await missingHours(conn, src, range, pairs, ['area', 'kind'], limit);
  checks.push(loadCompletenessResult(missing, severity));
  return checks;
}

// The results of the load checks, from what their queries found: validateLoad and the batch
// screen (batch.ts) both build them here, so a day reads the same whichever path judged it.

export const describeDays = (e: LoadValidationOptions['expected']): string =>
  e === undefined ? 'the days present' : e.start === e.end ? e.start : `${e.start}..${e.end}`;

export function loadKeysResult(f: { rows: number; nulls: number; badKind: number }): CheckResult {
  const bad = f.nulls + f.badKind;
  return {
    name: 'keys_and_values',
    passed: bad === 0,
    severity: 'error',
    message:
      bad === 0
        ? `${f.rows} rows with ts_utc, area, kind and mw set, kind in (forecast, metered)`
        : `${f.nulls} rows with a NULL ts_utc, area, kind or mw; ${f.badKind} with a kind other than forecast/metered`,
    details: { rows: f.rows, nullKeys: f.nulls, badKind: f.badKind },
  };
}

/** `dups`: the keys appearing more than once (area, kind, ts_utc, copies). */
export function loadUniqueResult(dups: readonly Row[], limit: number): CheckResult {
  return {
    name: 'unique_area_kind_hour',
    passed: dups.length === 0,
    severity: 'error',
    message:
      dups.length === 0
        ? 'one row per (area, kind, hour)'
        : `${dups.length} (area, kind, hour) keys appear more than once, e.g. ${dups[0]?.['area']} ${dups[0]?.['kind']} ${dups[0]?.['ts_utc']}`,
    details: { count: dups.length, duplicates: dups.slice(0, limit) },
  };
}

export function absentFeedResults(feed: Extract<LoadFeed, { status: 'absent' }>, days: string, rows: number): CheckResult[] {
  return [
    {
      name: 'load_feed',
      passed: false,
      severity: 'warn',
      message: `no load feed: ${feed.reason}. The load table for ${days} is empty by design; nothing downstream gets load from this source`,
      details: { status: 'absent', reason: feed.reason, rows },
    },
    { name: 'hourly_completeness', passed: false, severity: 'warn', message: 'not evaluated: the source has no load feed', details: { status: 'absent' } },
  ];
}

export function expectedSeriesResult(series: readonly LoadSeries[], absent: readonly LoadSeries[], feeds: readonly string[], days: string): CheckResult {
  return {
    name: 'expected_series',
    passed: absent.length === 0,
    severity: 'error',
    message:
      absent.length === 0
        ? `load rows for every configured series (${series.map((x) => `${x.area} ${x.kind}`).join(', ')}) on ${days}`
        : `no load at all on ${days} for ${absent.map((x) => `${x.area} ${x.kind}`).join(', ')} (feed: ${feeds.join(', ')}). Export or fetch that day's rows, or take the area out of PJM_LOAD_AREAS`,
    details: { days, feeds, missingSeries: absent },
  };
}

/** `missing`: one row per (area, kind) with gaps, as missingHours lists them. */
export function loadCompletenessResult(missing: readonly Row[], severity: 'error' | 'warn'): CheckResult {
  const totalMissing = missing.reduce((s, r) => s + Number(r['n']), 0);
  return {
    name: 'hourly_completeness',
    passed: totalMissing === 0,
    severity,
    message:
      totalMissing === 0
        ? 'every hour present for each (area, kind)'
        : `${totalMissing} load hours missing: ${missing.map((r) => `${r['area']} ${r['kind']} ${r['n']} h`).join('; ')}`,
    details: {
      missingHours: totalMissing,
      missing: missing.map((r) => ({
        area: r['area'],
        kind: r['kind'],
        count: r['n'],
        hours: String(r['hours'] ?? '')
          .split(',')
          .filter((x) => x !== ''),
      })),
    },
  };
}

/** `offending`: negative or non-finite rows (each with `total`, the full count). */
export function nonNegativeResult(offending: readonly Row[]): CheckResult {
  const n = Number(offending[0]?.['total'] ?? 0);
  const first = offending[0];
  return {
    name: 'load_non_negative',
    passed: n === 0,
    severity: 'error',
    message:
      n === 0
        ? 'no negative load'
        : `${n} rows with negative (or non-finite) load, e.g. ${first?.['area']} ${first?.['kind']} ${first?.['ts_utc']} ${first?.['mw']} MW`,
    details: { count: n, rows: offending.map(({ total: _t, ...r }) => r) },
  };
}

/** `offending`: the 0 MW rows (each with `total`, the full count). */
export function zeroHoursResult(offending: readonly Row[]): CheckResult {
  const n = Number(offending[0]?.['total'] ?? 0);
  return {
    name: 'zero_load_hours',
    passed: n === 0,
    severity: 'warn',
    message:
      n === 0
        ? 'no 0 MW hours'
        : `${n} hours at exactly 0 MW (suspicious, likely a metering gap): ${offending
            .slice(0, 5)
            .map((r) => `${r['area']} ${r['kind']} ${r['ts_utc']}`)
            .join(', ')}`,
    details: { count: n, rows: offending.map(({ total: _t, ...r }) => r) },
  };
}
