// The one SQL text that computes feature rows, used both for every day (the `features` asset)
// and for one node and day (`/predict`). Pure: builds a string, runs nothing.
//
// Prices and load are put on a 24-hour grid per EPT delivery day (the epftoolbox convention):
// the spring-forward day's missing 02:00 is the mean of 01:00 and 03:00, the fall-back day's
// repeated 01:00 is the mean of its two UTC hours. Every lag is a whole EPT day before the
// target day D, so a feature row for D reads prices of D-1 and earlier only, and, as its
// feature set says, the load forecast of D and D-1, metered load of D-1 and (for RT targets)
// the DA price of D, which clears on D-1.
import { nercHolidaysBetween } from './holidays.ts';
import { PRICE_LAGS, profileColumn, type FeatureSet } from './columns.ts';
import { sqlString, sqlStringList } from '../../../lib/duckdb/sql.ts';

export const EPT_ZONE = 'America/New_York';
const MAX_LAG = Math.max(...PRICE_LAGS);

/** Which target rows to compute: every node and day of the data, or some days of one node. */
export type FeatureTargets =
  | { readonly kind: 'all' }
  | {
      readonly kind: 'days';
      readonly nodeId: number;
      /** Target EPT days, YYYY-MM-DD (at least one). */
      readonly days: readonly string[];
      /**
       * The first day of the data, for `_lags_in_span` (node-day partitions of the features
       * asset are built a few at a time, but must say what the whole-history run would:
       * whether their lags reach before the data). Default: the lags are in the span.
       */
      readonly spanStart?: string;
    };

export interface FeatureSqlOptions {
  readonly pricesParquet: readonly string[];
  readonly loadParquet: readonly string[];
  /** The inputs the rows are made of (market, DA price, load areas). */
  readonly set: FeatureSet;
  readonly targets: FeatureTargets;
  /** Years to compute NERC holidays for (inclusive). */
  readonly holidayYears: readonly [number, number];
}

const fileList = sqlStringList;
const isoDate = /^\d{4}-\d{2}-\d{2}$/;

/** Puts an hourly (key, ts_utc, value) relation on the EPT 24-hour grid of the calendar `cal`. */
function gridCtes(name: string, keys: string, keysRelation: string, source: string): string {
  return `
  ${name}_hourly AS (
    SELECT ${keys}, CAST(lt AS DATE) AS d, hour(lt) AS h, avg(v) AS v
    FROM (SELECT ${keys}, ts_utc AT TIME ZONE '${EPT_ZONE}' AS lt, v FROM ${source})
    GROUP BY ALL),
  ${name}_grid AS (
    SELECT ${keys}, d, h,
      CASE WHEN v IS NULL AND n_hours = 23 AND h = 2 THEN (lag(v) OVER w + lead(v) OVER w) / 2 ELSE v END AS v
    FROM (SELECT k.*, cal.d, cal.n_hours, hr.h, x.v
          FROM ${keysRelation} k CROSS JOIN cal CROSS JOIN range(24) hr(h)
          LEFT JOIN ${name}_hourly x ON ${keys
            .split(',')
            .map((c) => c.trim())
            .map((c) => `x.${c} = k.${c}`)
            .join(' AND ')} AND x.d = cal.d AND x.h = hr.h)
    WINDOW w AS (PARTITION BY ${keys}, d ORDER BY h)),
  -- The daily mean sums the ordered profile: a parallel avg() may add in any order, and the
  -- last bits of a feature must not depend on scheduling (the look-ahead test compares exactly).
  ${name}_day AS (
    SELECT ${keys}, d, list(v ORDER BY h) AS prof, count(v) AS n, list_avg(list(v ORDER BY h)) AS mean, min(v) AS mn, max(v) AS mx,
           coalesce(list(h ORDER BY h) FILTER (WHERE v IS NULL), []) AS missing_hours
    FROM ${name}_grid GROUP BY ALL)`;
}

/**
 * SQL selecting feature rows with key columns, `target`, every feature column, and bookkeeping
 * columns prefixed `_` (completeness per input, missing hours) that callers drop.
 */
export function featureSql(o: FeatureSqlOptions): string {
  const set = o.set;
  const M = sqlString(set.market);
  const withDa = set.inputs.includes('da_price');
  const forecastArea = set.inputs.includes('load_forecast') ? set.loadForecastArea : null;
  const meteredArea = set.inputs.includes('load_metered') ? set.loadMeteredArea : null;
  const markets = withDa ? `(${M}), ('da')` : `(${M})`;
  const t = o.targets;
  const some = t.kind === 'days' ? t : undefined;
  if (some !== undefined) {
    if (some.days.length === 0) throw new Error('featureSql: no target day given (days is empty).');
    for (const d of some.days) if (!isoDate.test(d)) throw new Error(`featureSql: days must be YYYY-MM-DD, got ${JSON.stringify(d)}`);
    if (some.spanStart !== undefined && !isoDate.test(some.spanStart))
      throw new Error(`featureSql: spanStart must be YYYY-MM-DD, got ${JSON.stringify(some.spanStart)}`);
  }
  const sortedDays = some ? [...some.days].sort() : undefined;
  const firstDay = sortedDays?.[0];
  const lastDay = sortedDays?.at(-1);
  const spanStart = some?.spanStart !== undefined ? `DATE '${some.spanStart}'` : '(SELECT lo FROM cal_range)';
  const nodeFilter = some ? `AND node_id = ${Math.trunc(some.nodeId)}` : '';
  // For some days only the windows D-7..D matter; UTC bounds a day wider on each side cover EPT.
  const timeFilter = some ? `AND ts_utc >= CAST(DATE '${firstDay}' - 9 AS TIMESTAMPTZ) AND ts_utc < CAST(DATE '${lastDay}' + 2 AS TIMESTAMPTZ)` : '';
  // Each input is scanned once (a materialized CTE) and read from memory by the CTEs below:
  // scanning the file lists once per use took two thirds of the features asset's time.
  const prices = 'px_file';
  const load = 'ld_file';
  const holidays = nercHolidaysBetween(o.holidayYears[0], o.holidayYears[1])
    .map((d) => `(DATE '${d}')`)
    .join(', ');
  const calRange = some
    ? `SELECT DATE '${firstDay}' - 7 AS lo, DATE '${lastDay}' AS hi`
    : `SELECT min(CAST(ts_utc AT TIME ZONE '${EPT_ZONE}' AS DATE)) AS lo, max(CAST(ts_utc AT TIME ZONE '${EPT_ZONE}' AS DATE)) AS hi
         FROM ${prices} WHERE market = ${M}`;
  const nodes = some
    ? `SELECT CAST(${Math.trunc(some.nodeId)} AS BIGINT) AS node_id,
                (SELECT any_value(zone) FROM ${prices} WHERE node_id = ${Math.trunc(some.nodeId)}) AS zone`
    : `SELECT node_id, any_value(zone) AS zone FROM ${prices} WHERE market = ${M} GROUP BY node_id`;
  const targetDays = some ? `WHERE cal.d IN (${some.days.map((d) => `DATE '${d}'`).join(', ')})` : '';

  const lagJoins = PRICE_LAGS.map(
    (lag) => `LEFT JOIN px_day l${lag} ON l${lag}.node_id = tg.node_id AND l${lag}.market = ${M} AND l${lag}.d = tg.d - ${lag}`,
  ).join('\n    ');
  const lagSame = PRICE_LAGS.map((lag) => `l${lag}.prof[hr.h + 1] AS price_lag${lag}_h`).join(',\n      ');
  const lagProfiles = PRICE_LAGS.flatMap((lag) => Array.from({ length: 24 }, (_, h) => `l${lag}.prof[${h + 1}] AS ${profileColumn(lag, h)}`)).join(', ');
  const lagBook = PRICE_LAGS.map((lag) => `coalesce(l${lag}.n, 0) AS _n_lag${lag}, coalesce(l${lag}.missing_hours, range(24)) AS _miss_lag${lag}`).join(', ');
  const rtColumns = withDa
    ? `da.prof[hr.h + 1] AS da_price_h, da.mean AS da_price_day_mean, coalesce(da.n, 0) AS _n_da, coalesce(da.missing_hours, range(24)) AS _miss_da,`
    : `24 AS _n_da, [] AS _miss_da,`;
  const rtJoin = withDa ? `LEFT JOIN px_day da ON da.node_id = tg.node_id AND da.market = 'da' AND da.d = tg.d` : '';
  // Areas not in the set read no rows (an empty relation keeps the SQL one shape).
  const sysArea = sqlString(forecastArea ?? '');
  const forecastAreas = forecastArea === null ? 'false' : `(area = ${sysArea} OR area IN (SELECT zone FROM nodes))`;
  const meteredColumns =
    meteredArea === null
      ? `24 AS _n_mload_lag1, [] AS _miss_mload_lag1,`
      : `lm1.prof[hr.h + 1] AS mload_lag1_h, lm1.mean AS mload_lag1_mean, lm1.mx AS mload_lag1_max,
  coalesce(lm1.n, 0) AS _n_mload_lag1, coalesce(lm1.missing_hours, range(24)) AS _miss_mload_lag1,`;
  const meteredJoin = meteredArea === null ? '' : `LEFT JOIN lm_day lm1 ON lm1.area = ${sqlString(meteredArea)} AND lm1.d = tg.d - 1`;
  const loadKinds = [forecastArea === null ? null : `'forecast'`, meteredArea === null ? null : `'metered'`].filter((k) => k !== null);

  return `
WITH
  px_file AS MATERIALIZED (SELECT node_id, zone, market, ts_utc, lmp FROM read_parquet(${fileList(o.pricesParquet)}) WHERE true ${nodeFilter} ${timeFilter}),
  ld_file AS MATERIALIZED (SELECT area, kind, ts_utc, mw FROM read_parquet(${fileList(o.loadParquet)})
                          WHERE kind IN (${loadKinds.length > 0 ? loadKinds.join(', ') : 'NULL'}) ${timeFilter}),
  cal_range AS (${calRange}),
  cal AS (
    SELECT CAST(ts AS DATE) AS d,
           date_diff('hour', ts AT TIME ZONE '${EPT_ZONE}', (ts + INTERVAL 1 DAY) AT TIME ZONE '${EPT_ZONE}') AS n_hours
    FROM cal_range, LATERAL (SELECT unnest(generate_series(CAST(lo AS TIMESTAMP), CAST(hi AS TIMESTAMP), INTERVAL 1 DAY)) AS ts)),
  hol(d) AS (VALUES ${holidays}),
  nodes AS (${nodes}),
  px_keys AS (SELECT node_id, market FROM nodes CROSS JOIN (VALUES ${markets}) mk(market)),
  px_src AS (SELECT node_id, market, ts_utc, lmp AS v FROM ${prices}
             WHERE market IN (SELECT market FROM px_keys) AND node_id IN (SELECT node_id FROM nodes)),
  ${gridCtes('px', 'node_id, market', 'px_keys', 'px_src').trim()},
  load_areas AS (
    SELECT DISTINCT area FROM ${load} WHERE kind = 'forecast' AND ${forecastAreas}
    UNION SELECT ${sysArea} WHERE ${forecastArea === null ? 'false' : 'true'}),
  ld_src AS (SELECT area, ts_utc, mw AS v FROM ${load}
             WHERE kind = 'forecast' AND area IN (SELECT area FROM load_areas)),
  ${gridCtes('ld', 'area', 'load_areas', 'ld_src').trim()},
  metered_areas AS (SELECT ${sqlString(meteredArea ?? '')} AS area WHERE ${meteredArea === null ? 'false' : 'true'}),
  lm_src AS (SELECT area, ts_utc, mw AS v FROM ${load} WHERE kind = 'metered' AND area IN (SELECT area FROM metered_areas)),
  ${gridCtes('lm', 'area', 'metered_areas', 'lm_src').trim()},
  tg AS (SELECT nodes.node_id, nodes.zone, cal.d FROM nodes CROSS JOIN cal
         ${targetDays})
SELECT
  tg.node_id, ${M} AS market, tg.d AS day, CAST(hr.h AS INTEGER) AS hour,
  tgt.v AS target,
  tg.d - ${MAX_LAG} >= ${spanStart} AS _lags_in_span,
  CAST(isodow(tg.d) AS INTEGER) AS day_of_week,
  CAST(tg.d IN (SELECT d FROM hol) AS INTEGER) AS is_holiday,
  CAST((tg.d - 1) IN (SELECT d FROM hol) AS INTEGER) AS is_holiday_lag1,
  ${lagSame},
  ${lagProfiles},
  l1.mean AS price_lag1_mean, l1.mn AS price_lag1_min, l1.mx AS price_lag1_max,
  ls.prof[hr.h + 1] AS load_sys_h, ls.prof[hr.h + 1] - ls1.prof[hr.h + 1] AS load_sys_chg_lag1,
  ls.mean AS load_sys_day_mean, ls.mx AS load_sys_day_max,
  lz.prof[hr.h + 1] AS load_zone_h, lz.prof[hr.h + 1] - lz1.prof[hr.h + 1] AS load_zone_chg_lag1,
  lz.mean AS load_zone_day_mean, lz.mx AS load_zone_day_max,
  ${rtColumns}
  ${meteredColumns}
  ${lagBook},
  ${forecastArea === null ? 'false' : 'true'} AS _has_sys,
  tg.zone IS NOT NULL AND tg.zone IN (SELECT area FROM load_areas) AS _has_zone,
  tg.zone AS _zone,
  coalesce(ls.n, 0) AS _n_sys, coalesce(ls1.n, 0) AS _n_sys_lag1, coalesce(lz.n, 0) AS _n_zone, coalesce(lz1.n, 0) AS _n_zone_lag1,
  coalesce(ls.missing_hours, range(24)) AS _miss_sys, coalesce(ls1.missing_hours, range(24)) AS _miss_sys_lag1,
  coalesce(lz.missing_hours, range(24)) AS _miss_zone, coalesce(lz1.missing_hours, range(24)) AS _miss_zone_lag1
FROM tg CROSS JOIN range(24) hr(h)
  LEFT JOIN px_grid tgt ON tgt.node_id = tg.node_id AND tgt.market = ${M} AND tgt.d = tg.d AND tgt.h = hr.h
  ${lagJoins}
  ${rtJoin}
  ${meteredJoin}
  LEFT JOIN ld_day ls ON ls.area = ${sysArea} AND ls.d = tg.d
  LEFT JOIN ld_day ls1 ON ls1.area = ${sysArea} AND ls1.d = tg.d - 1
  LEFT JOIN ld_day lz ON lz.area = tg.zone AND lz.d = tg.d
  LEFT JOIN ld_day lz1 ON lz1.area = tg.zone AND lz1.d = tg.d - 1`;
}

/**
 * SQL condition over `featureSql` columns: every input the row's set needs is there. The
 * system-area load forecast and metered load are required when in the set (the SQL marks
 * them absent otherwise); the node's zonal forecast only when the data has that zone.
 */
export const COMPLETE_CONDITION = [
  ...PRICE_LAGS.map((lag) => `_n_lag${lag} = 24`),
  '_n_da = 24',
  '_n_mload_lag1 = 24',
  '(NOT _has_sys OR (_n_sys = 24 AND _n_sys_lag1 = 24))',
  '(NOT _has_zone OR (_n_zone = 24 AND _n_zone_lag1 = 24))',
].join(' AND ');
