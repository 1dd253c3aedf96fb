// The blocking checks of canonical prices (the `validated` asset): schema and types, non-null keys,
// one row per (node, market, hour), hourly completeness per node and market with the missing
// hours listed, lmp = energy + congestion + loss within a tolerance, prices within a plausible
// range (negative prices are valid), and in live mode the freshness of the latest hour.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PjmMarket } from '../config.ts';
import type { PriceConflict, PriceRevisionReport } from '../processed/prices.ts';
import { PRICES_SCHEMA } from '../processed/schema.ts';

import { makeReport, type CheckResult, type ValidationReport } from './report.ts';
import { expectedHoursRangeSql, isoUtc, missingHours, parquetSource, prepare, query, schemaCheck, type Row } from './sql.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

export interface ExpectedCoverage {
  /** EPT days that must be complete, inclusive. */
  readonly start: string;
  readonly end: string;
  /** Every (node, market) pair of these must have every hour; default: the pairs present in the data. */
  readonly nodeIds?: readonly number[];
  readonly markets?: readonly PjmMarket[];
}

export interface PriceValidationOptions {
  /** What must be present; default: every hour of the EPT days the data spans, for each (node, market) present. */
  readonly expected?: ExpectedCoverage;
  /** |lmp - (energy + congestion + loss)| allowed, $/MWh. Default 0.01. */
  readonly componentTolerance?: number;
  /** Plausible LMP range, $/MWh. Default [-1000, 10000]. */
  readonly priceRange?: readonly [number, number];
  /** Live mode: the latest hour of each market must be at most maxAgeHours before `now`. */
  readonly freshness?: { readonly now: Date; readonly maxAgeHours: number };
  /** At most this many offending rows listed per check (the count is always complete). Default 100. */
  readonly maxListed?: number;
  /**
   * What the processed step's revision rule did with the raw rows (priceRevisionReport): keys it
   * could not decide fail `unique_node_market_hour`; exact duplicates and superseded revisions are
   * counted in its report.
   */
  readonly revisions?: PriceRevisionReport;
}

/** Validates canonical prices Parquet files. Never throws on bad data: the report says what is wrong. */
export async function validatePrices(conn: DuckDBConnection, parquetPaths: readonly string[], options: PriceValidationOptions = {}): Promise<ValidationReport> {
  await prepare(conn);
  const src = parquetSource(parquetPaths);
  const limit = Math.max(1, Math.trunc(options.maxListed ?? 100));
  const schema = await schemaCheck(conn, src, PRICES_SCHEMA, 'prices');
  if (!schema.passed) return makeReport([schema]);
  const checks: CheckResult[] = [schema];

  // Non-null keys and known markets.
  const [nn] = await query(
    conn,
    `SELECT count(*) FILTER (WHERE ts_utc IS NULL OR node_id IS NULL OR market IS NULL OR lmp IS NULL) AS nulls,
      count(*) FILTER (WHERE market NOT IN ('da', 'rt')) AS bad_market, count(*) AS n,
      count(*) FILTER (WHERE ts_utc IS NOT NULL AND date_trunc('hour', ts_utc) <> ts_utc) AS off_hour FROM ${src}`,
  );
  checks.push(
    keysAndValuesResult({
      rows: Number(nn?.['n'] ?? 0),
      nulls: Number(nn?.['nulls'] ?? 0),
      badMarket: Number(nn?.['bad_market'] ?? 0),
      offHour: Number(nn?.['off_hour'] ?? 0),
    }),
  );

  // One row per (node, market, hour).
  const dups = await query(
    conn,
    `SELECT node_id, market, ${isoUtc('ts_utc')} AS ts_utc, count(*) AS copies FROM ${src}
    GROUP BY node_id, market, ts_utc HAVING count(*) > 1 ORDER BY node_id, market, ts_utc`,
  );
  checks.push(uniqueKeysResult(dups, options.revisions, limit));

  // Hourly completeness per (node, market) over the expected EPT days.
  const e = options.expected;
  const range = expectedHoursRangeSql(src, e);
  const pairs =
    e?.nodeIds !== undefined || e?.markets !== undefined
      ? `SELECT n.node_id, m.market FROM (SELECT unnest(${e?.nodeIds !== undefined ? `[${e.nodeIds.map((x) => Math.trunc(x)).join(', ')}]::BIGINT[]` : `(SELECT list(DISTINCT node_id) FROM ${src})`}) AS node_id) n
         CROSS JOIN (SELECT unnest(${e?.markets !== undefined ? `[${e.markets.map(sqlString).join(', ')}]::VARCHAR[]` : `(SELECT list(DISTINCT market) FROM ${src})`}) AS market) m`
      : `SELECT DISTINCT node_id, market FROM ${src}`;
  const { lo: from, hi: to, missing } = await missingHours(conn, src, range, pairs, ['node_id', 'market'], limit);
  checks.push(completenessResult(from, to, missing));

  // lmp = energy + congestion + loss wherever the components exist. PJM rounds each to cents, so a
  // real difference of exactly 0.01 occurs (ALDENE 2026-03-07 14:00 UTC); 1e-9 absorbs float error.
  const tol = options.componentTolerance ?? 0.01;
  const comp = await query(
    conn,
    `SELECT node_id, market, ${isoUtc('ts_utc')} AS ts_utc, lmp, energy + congestion + loss AS sum_components,
      round(lmp - (energy + congestion + loss), 6) AS diff, count(*) OVER () AS total
    FROM ${src} WHERE energy IS NOT NULL AND congestion IS NOT NULL AND loss IS NOT NULL
      AND abs(lmp - (energy + congestion + loss)) > ${tol} + 1e-9
    ORDER BY abs(lmp - (energy + congestion + loss)) DESC, node_id, ts_utc LIMIT ${limit}`,
  );
  const [withComp] = await query(conn, `SELECT count(*) AS n FROM ${src} WHERE energy IS NOT NULL AND congestion IS NOT NULL AND loss IS NOT NULL`);
  checks.push(componentsResult(tol, Number(withComp?.['n'] ?? 0), comp));

  // Plausible range.
  const [lo, hi] = options.priceRange ?? [-1000, 10000];
  const out = await query(
    conn,
    `SELECT node_id, market, ${isoUtc('ts_utc')} AS ts_utc, lmp, count(*) OVER () AS total FROM ${src}
    WHERE lmp < ${lo} OR lmp > ${hi} OR isnan(lmp) OR isinf(lmp) ORDER BY node_id, market, ts_utc LIMIT ${limit}`,
  );
  const [mm] = await query(conn, `SELECT min(lmp) AS mn, max(lmp) AS mx, count(*) FILTER (WHERE lmp < 0) AS negative FROM ${src}`);
  checks.push(
    rangeResult(
      [lo, hi],
      {
        min: (mm?.['mn'] as number | null | undefined) ?? null,
        max: (mm?.['mx'] as number | null | undefined) ?? null,
        negative: Number(mm?.['negative'] ?? 0),
      },
      out,
    ),
  );

  if (options.freshness !== undefined) checks.push(await freshnessCheck(conn, src, options.freshness, 'market'));
  return makeReport(checks);
}

/** Live mode: the latest hour of each group must be recent enough. */
export async function freshnessCheck(conn: DuckDBConnection, src: string, f: { now: Date; maxAgeHours: number }, groupBy: string): Promise<CheckResult> {
  const nowIso = f.now.toISOString();
  const latest = await query(
    conn,
    `SELECT ${groupBy} AS grp, ${isoUtc('max(ts_utc)')} AS latest,
      round(epoch(TIMESTAMPTZ ${sqlString(nowIso)} - max(ts_utc)) / 3600, 2) AS age_hours
    FROM ${src} GROUP BY ${groupBy} ORDER BY ${groupBy}`,
  );
  const stale = latest.filter((r) => Number(r['age_hours']) > f.maxAgeHours);
  const passed = latest.length > 0 && stale.length === 0;
  return {
    name: 'freshness',
    passed,
    severity: 'error',
    message:
      latest.length === 0
        ? 'no rows: nothing is fresh'
        : passed
          ? `latest hour within ${f.maxAgeHours} h of ${nowIso} for every ${groupBy} (${latest.map((r) => `${r['grp']} ${r['latest']}`).join(', ')})`
          : `stale: ${stale.map((r) => `${groupBy} ${r['grp']} latest ${r['latest']} is ${r['age_hours']} h old`).join('; ')} (allowed ${f.maxAgeHours} h before ${nowIso}). Check the live fetch.`,
    details: { now: nowIso, maxAgeHours: f.maxAgeHours, latest },
  };
}

/** `node 51217 rt 2025-05-01T04:00:00Z (2025-05-01T00:00 EPT (UTC-4)): lmp 25.1 (a.csv, version 1) vs lmp 30 (b.csv, version 1)` */
function describeConflict(c: PriceConflict): string {
  // Rows may agree on the LMP and differ in a component: then the components are what to show.
  const sameLmp = new Set(c.rows.map((r) => r.lmp)).size === 1;
  const row = (r: PriceConflict['rows'][number]) =>
    `lmp ${r.lmp}${sameLmp ? ` = energy ${r.energy} + congestion ${r.congestion} + loss ${r.loss}` : ''} (${r.origin ?? 'unknown source'}, version_nbr ${r.versionNbr ?? 'none'}${r.rowIsCurrent ? ', row_is_current' : ''})`;
  return `node ${c.nodeId} ${c.market} ${c.tsUtc} (${c.tsEpt}): ${c.rows.map(row).join(' vs ')}`;
}

function parseList(v: unknown): string[] {
  const s = String(v ?? '');
  return s === '' ? [] : s.split(',');
}

// The results of the price checks, from what their queries found. validatePrices and the batch
// screen (batch.ts) both build them here, so a day reads the same whichever path judged it.

export function keysAndValuesResult(f: { rows: number; nulls: number; badMarket: number; offHour: number }): CheckResult {
  const { rows, nulls, badMarket, offHour } = f;
  const bad = nulls + badMarket + offHour;
  return {
    name: 'keys_and_values',
    passed: bad === 0,
    severity: 'error',
    message:
      bad === 0
        ? `${rows} rows with ts_utc, node_id, market and lmp set, market in (da, rt), ts_utc on the hour`
        : `${nulls} rows with a NULL ts_utc, node_id, market or lmp; ${badMarket} with a market other than da/rt; ${offHour} with ts_utc not on the hour`,
    details: { nullKeys: nulls, badMarket, offHour, rows },
  };
}

/** `dups`: the keys appearing more than once (node_id, market, ts_utc, copies). */
export function uniqueKeysResult(dups: readonly Row[], rev: PriceRevisionReport | undefined, limit: number): CheckResult {
  const conflicts = rev?.conflicts ?? 0;
  const dropped =
    rev === undefined
      ? ''
      : `; from ${rev.rawRows} source rows, ${rev.exactDuplicates} exact duplicate${rev.exactDuplicates === 1 ? '' : 's'} dropped and ${rev.superseded} superseded revision${rev.superseded === 1 ? '' : 's'} replaced`;
  const problems = [
    ...(dups.length > 0
      ? [
          `${dups.length} (node, market, hour) keys appear more than once, e.g. node ${dups[0]?.['node_id']} ${dups[0]?.['market']} ${dups[0]?.['ts_utc']} ×${dups[0]?.['copies']}`,
        ]
      : []),
    ...(conflicts > 0
      ? [
          `${conflicts} (node, market, hour) key${conflicts === 1 ? ' has' : 's have'} current source rows with different values that the revision rule (row_is_current, then the highest version_nbr) cannot decide between: ${(rev?.examples ?? []).slice(0, 3).map(describeConflict).join('; ')}${conflicts > 3 ? '; …' : ''}. Fix or remove the wrong export (or fetch the day again), then rerun`,
        ]
      : []),
  ];
  return {
    name: 'unique_node_market_hour',
    passed: problems.length === 0,
    severity: 'error',
    message: (problems.length === 0 ? 'one row per (node, market, hour)' : problems.join('; ')) + dropped,
    details: {
      count: dups.length,
      duplicates: dups.slice(0, limit),
      ...(rev !== undefined
        ? {
            sourceRows: rev.rawRows,
            exactDuplicatesDropped: rev.exactDuplicates,
            supersededRevisions: rev.superseded,
            conflicts,
            conflictExamples: rev.examples.slice(0, limit),
          }
        : {}),
    },
  };
}

/** `missing`: one row per (node, market) with gaps, as missingHours lists them. */
export function completenessResult(from: string | null, to: string | null, missing: readonly Row[]): CheckResult {
  const totalMissing = missing.reduce((s, r) => s + Number(r['n']), 0);
  return {
    name: 'hourly_completeness',
    passed: totalMissing === 0,
    severity: 'error',
    message:
      totalMissing === 0
        ? `every hour from ${from} to ${to} present for each (node, market)`
        : `${totalMissing} hours missing: ${missing
            .slice(0, 5)
            .map((r) => `node ${r['node_id']} ${r['market']} ${r['n']} h from ${String(r['hours']).slice(0, 20)}`)
            .join('; ')}`,
    details: {
      from,
      to,
      missingHours: totalMissing,
      missing: missing.map((r) => ({ nodeId: r['node_id'], market: r['market'], count: r['n'], hours: parseList(r['hours']) })),
    },
  };
}

/** `offending`: the worst rows whose components do not add up (each with `total`, the full count). */
export function componentsResult(tolerance: number, rowsWithComponents: number, offending: readonly Row[]): CheckResult {
  const bad = Number(offending[0]?.['total'] ?? 0);
  const worst = offending[0];
  return {
    name: 'lmp_equals_components',
    passed: bad === 0,
    severity: 'error',
    message:
      bad === 0
        ? `lmp = energy + congestion + loss within ${tolerance} on all ${rowsWithComponents} rows that have components`
        : `${bad} rows where lmp differs from energy + congestion + loss by more than ${tolerance}, worst: node ${worst?.['node_id']} ${worst?.['market']} ${worst?.['ts_utc']} lmp ${worst?.['lmp']} vs ${worst?.['sum_components']}`,
    details: { tolerance, rowsWithComponents, count: bad, rows: offending.map(({ total: _t, ...r }) => r) },
  };
}

/** `offending`: the rows outside the range (each with `total`, the full count). */
export function rangeResult(
  range: readonly [number, number],
  seen: { min: number | null; max: number | null; negative: number },
  offending: readonly Row[],
): CheckResult {
  const [lo, hi] = range;
  const n = Number(offending[0]?.['total'] ?? 0);
  const first = offending[0];
  return {
    name: 'price_range',
    passed: n === 0,
    severity: 'error',
    message:
      n === 0
        ? `all lmp within [${lo}, ${hi}] $/MWh (min ${seen.min}, max ${seen.max}; ${seen.negative} negative, which is valid)`
        : `${n} rows with lmp outside [${lo}, ${hi}] $/MWh, e.g. node ${first?.['node_id']} ${first?.['market']} ${first?.['ts_utc']} lmp ${first?.['lmp']}`,
    details: { range: [lo, hi], min: seen.min, max: seen.max, negativeRows: seen.negative, count: n, rows: offending.map(({ total: _t, ...r }) => r) },
  };
}
