// The checks of canonical load: schema and types, one row per (area, kind, hour), hourly
// completeness per (area, kind), load >= 0 (error) with 0 MW hours flagged as suspicious (warn:
// a metered zero is almost always a data fault, e.g. AECO at 2026-03-08 01:00 EPT), and in live
// mode the freshness of the latest hour of each kind.
import type { DuckDBConnection } from '@duckdb/node-api';
import { LOAD_SCHEMA } from '../processed/schema.ts';
import { makeReport, type CheckResult, type ValidationReport } from './report.ts';
import { expectedHoursRangeSql, isoUtc, missingHours, parquetSource, prepare, query, schemaCheck } from './sql.ts';
import { freshnessCheck } from './prices.ts';
import { sqlString, type LoadFeed } from '../sources/raw.ts';

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

  const [nn] = await query(conn, `SELECT count(*) AS n, count(*) FILTER (WHERE ts_utc IS NULL OR area IS NULL OR kind IS NULL OR mw IS NULL) AS nulls,
      count(*) FILTER (WHERE kind NOT IN ('forecast', 'metered')) AS bad_kind FROM ${src}`);
  const bad = Number(nn?.['nulls'] ?? 0) + Number(nn?.['bad_kind'] ?? 0);
  checks.push({
    name: 'keys_and_values',
    passed: bad === 0,
    severity: 'error',
    message: bad === 0 ? `${nn?.['n']} rows with ts_utc, area, kind and mw set, kind in (forecast, metered)` : `${nn?.['nulls']} rows with a NULL ts_utc, area, kind or mw; ${nn?.['bad_kind']} with a kind other than forecast/metered`,
    details: { rows: nn?.['n'], nullKeys: nn?.['nulls'], badKind: nn?.['bad_kind'] },
  });

  const dups = await query(conn, `SELECT area, kind, ${isoUtc('ts_utc')} AS ts_utc, count(*) AS copies FROM ${src}
    GROUP BY area, kind, ts_utc HAVING count(*) > 1 ORDER BY area, kind, ts_utc`);
  checks.push({
    name: 'unique_area_kind_hour',
    passed: dups.length === 0,
    severity: 'error',
    message: dups.length === 0 ? 'one row per (area, kind, hour)' : `${dups.length} (area, kind, hour) keys appear more than once, e.g. ${dups[0]?.['area']} ${dups[0]?.['kind']} ${dups[0]?.['ts_utc']}`,
    details: { count: dups.length, duplicates: dups.slice(0, limit) },
  });

  checks.push(...(await coverageChecks(conn, src, options.expected, options.feed, limit, Number(nn?.['n'] ?? 0), options.completenessSeverity ?? 'warn')));

  const neg = await query(conn, `SELECT area, kind, ${isoUtc('ts_utc')} AS ts_utc, mw, count(*) OVER () AS total FROM ${src}
    WHERE mw < 0 OR isnan(mw) OR isinf(mw) ORDER BY area, kind, ts_utc LIMIT ${limit}`);
  const nNeg = Number(neg[0]?.['total'] ?? 0);
  checks.push({
    name: 'load_non_negative',
    passed: nNeg === 0,
    severity: 'error',
    message: nNeg === 0 ? 'no negative load' : `${nNeg} rows with negative (or non-finite) load, e.g. ${neg[0]?.['area']} ${neg[0]?.['kind']} ${neg[0]?.['ts_utc']} ${neg[0]?.['mw']} MW`,
    details: { count: nNeg, rows: neg.map(({ total: _t, ...r }) => r) },
  });

  const zero = await query(conn, `SELECT area, kind, ${isoUtc('ts_utc')} AS ts_utc, count(*) OVER () AS total FROM ${src}
    WHERE mw = 0 ORDER BY area, kind, ts_utc LIMIT ${limit}`);
  const nZero = Number(zero[0]?.['total'] ?? 0);
  checks.push({
    name: 'zero_load_hours',
    passed: nZero === 0,
    severity: 'warn',
    message: nZero === 0 ? 'no 0 MW hours' : `${nZero} hours at exactly 0 MW (suspicious, likely a metering gap): ${zero.slice(0, 5).map((r) => `${r['area']} ${r['kind']} ${r['ts_utc']}`).join(', ')}`,
    details: { count: nZero, rows: zero.map(({ total: _t, ...r }) => r) },
  });

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
  const days = e === undefined ? 'the days present' : e.start === e.end ? e.start : `${e.start}..${e.end}`;
  if (feed?.status === 'absent') {
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
  const checks: CheckResult[] = [];
  const range = expectedHoursRangeSql(src, e);
  const series = feed?.status === 'present' && feed.series.length > 0 ? feed.series : undefined;
  const pairs = series
    ? `SELECT * FROM (VALUES ${series.map((x) => `(${sqlString(x.area)}, ${sqlString(x.kind)})`).join(', ')}) t(area, kind)`
    : `SELECT DISTINCT area, kind FROM ${src}`;
  if (series) {
    const present = await query(conn, `WITH r AS (${range}) SELECT DISTINCT s.area, s.kind FROM ${src} s CROSS JOIN r WHERE s.ts_utc >= r.lo AND s.ts_utc < r.hi`);
    const have = new Set(present.map((p) => `${p['area']} ${p['kind']}`));
    const absent = series.filter((x) => !have.has(`${x.area} ${x.kind}`));
    const feeds = feed?.status === 'present' ? feed.feeds : [];
    checks.push({
      name: 'expected_series',
      passed: absent.length === 0,
      severity: 'error',
      message:
        absent.length === 0
          ? `load rows for every configured series (${series.map((x) => `${x.area} ${x.kind}`).join(', ')}) on ${days}`
          : `no load at all on ${days} for ${absent.map((x) => `${x.area} ${x.kind}`).join(', ')} (feed: ${feeds.join(', ')}). Export or fetch that day's rows, or take the area out of PJM_LOAD_AREAS`,
      details: { days, feeds, missingSeries: absent },
    });
  }
  const { missing } = await missingHours(conn, src, range, pairs, ['area', 'kind'], limit);
  const totalMissing = missing.reduce((s, r) => s + Number(r['n']), 0);
  checks.push({
    name: 'hourly_completeness',
    passed: totalMissing === 0,
    severity,
    message: totalMissing === 0 ? 'every hour present for each (area, kind)' : `${totalMissing} load hours missing: ${missing.map((r) => `${r['area']} ${r['kind']} ${r['n']} h`).join('; ')}`,
    details: { missingHours: totalMissing, missing: missing.map((r) => ({ area: r['area'], kind: r['kind'], count: r['n'], hours: String(r['hours'] ?? '').split(',').filter((x) => x !== '') })) },
  });
  return checks;
}
