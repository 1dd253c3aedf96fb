// The checks of canonical load: schema and types, one row per (area, kind, hour), hourly
// completeness per (area, kind), load >= 0 (error) with 0 MW hours flagged as suspicious (warn:
// a metered zero is almost always a data fault, e.g. AECO at 2026-03-08 01:00 EPT), and in live
// mode the freshness of the latest hour of each kind.
import type { DuckDBConnection } from '@duckdb/node-api';
import { LOAD_SCHEMA } from '../processed/schema.ts';
import { makeReport, type CheckResult, type ValidationReport } from './report.ts';
import { expectedHoursRangeSql, isoUtc, missingHours, parquetSource, prepare, query, schemaCheck } from './sql.ts';
import { freshnessCheck } from './prices.ts';

export interface LoadValidationOptions {
  /** EPT days that must be complete for every (area, kind) present; default the days the data spans. */
  readonly expected?: { readonly start: string; readonly end: string };
  /** Missing load hours are 'warn' by default (features report missing inputs themselves). */
  readonly completenessSeverity?: 'error' | 'warn';
  readonly freshness?: { readonly now: Date; readonly maxAgeHours: number };
  readonly maxListed?: number;
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

  const e = options.expected;
  const range = expectedHoursRangeSql(src, e);
  const { missing } = await missingHours(conn, src, range, `SELECT DISTINCT area, kind FROM ${src}`, ['area', 'kind'], limit);
  const totalMissing = missing.reduce((s, r) => s + Number(r['n']), 0);
  checks.push({
    name: 'hourly_completeness',
    passed: totalMissing === 0,
    severity: options.completenessSeverity ?? 'warn',
    message: totalMissing === 0 ? 'every hour present for each (area, kind)' : `${totalMissing} load hours missing: ${missing.map((r) => `${r['area']} ${r['kind']} ${r['n']} h`).join('; ')}`,
    details: { missingHours: totalMissing, missing: missing.map((r) => ({ area: r['area'], kind: r['kind'], count: r['n'], hours: String(r['hours'] ?? '').split(',').filter((x) => x !== '') })) },
  });

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

  if (options.freshness !== undefined) checks.push(await freshnessCheck(conn, src, options.freshness, 'kind'));
  return makeReport(checks);
}
