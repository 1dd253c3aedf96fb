// The feature rows of one node and target day computed in TypeScript from canonical rows
// already in memory, for /predict: the same rows, columns and arithmetic as `featureSql` with
// `{ kind: 'days', days: [day] }` over the files those rows came from, without a DuckDB query
// (whose plan and execution cost ~70-200 ms for one day, nearly all of it fixed cost). The
// result is columns, as the model reads them: building 24 row objects of ~130 named fields
// and turning them into columns again cost ~5 ms a day in the code's first runs.
// Each step below names the CTE of sql.ts it mirrors; test/serving/features-in-memory.test.ts
// compares the two for every node-day of the test store, value for value.
import { dayNumberOf, dayOfNumber } from '../../../lib/days.ts';
import { MissingFeatureInputsError, missingInputsOf } from './build.ts';
import { featureColumns, PRICE_LAGS, profileColumn, type FeatureSet } from './columns.ts';
import { nercHolidaysBetween } from './holidays.ts';
import { eptOffsetMs } from './ept-offset.ts';

/** A canonical price row (`pjm/validated/prices`), `ts` in epoch milliseconds. */
export interface PriceRow {
  readonly ts: number;
  readonly zone: string | null;
  readonly market: string;
  readonly lmp: number | null;
}

/** A canonical load row (`pjm/validated/load`), `ts` in epoch milliseconds. */
export interface LoadRow {
  readonly ts: number;
  readonly area: string;
  readonly kind: string;
  readonly mw: number | null;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MAX_LAG = Math.max(...PRICE_LAGS);
const range24 = Array.from({ length: 24 }, (_, h) => h);

/** Hours in EPT day `d` (23 on spring-forward, 25 on fall-back): the `cal` CTE's `n_hours`. */
function hoursInDay(d: number): number {
  // 05:00 UTC is 00:00 or 01:00 EPT, before the 02:00 change: the offset of the day's midnight.
  return 24 + (eptOffsetMs(d * DAY_MS + 5 * HOUR_MS) - eptOffsetMs((d + 1) * DAY_MS + 5 * HOUR_MS)) / HOUR_MS;
}

/** A series' day on the 24-hour grid (`*_day`): profile, count, mean, min, max, missing hours. */
interface GridDay {
  readonly prof: (number | null)[];
  readonly n: number;
  readonly mean: number | null;
  readonly mn: number | null;
  readonly mx: number | null;
  readonly missing: number[];
}

/**
 * `*_hourly` then `*_grid` then `*_day` for one series over the calendar days `lo..hi`:
 * values averaged per EPT (day, hour), the spring-forward day's 02:00 the mean of 01:00 and
 * 03:00, each day summarised in hour order.
 */
function gridDays(points: Iterable<{ ts: number; v: number | null }>, lo: number, hi: number): Map<number, GridDay> {
  const sums = new Map<number, { sum: number; count: number }>();
  for (const { ts, v } of points) {
    const local = ts + eptOffsetMs(ts);
    const d = Math.floor(local / DAY_MS);
    if (d < lo || d > hi) continue;
    const key = d * 24 + Math.floor((local - d * DAY_MS) / HOUR_MS);
    let s = sums.get(key);
    if (!s) sums.set(key, (s = { sum: 0, count: 0 }));
    if (v !== null) {
      s.sum += v;
      s.count++;
    }
  }
  const out = new Map<number, GridDay>();
  for (let d = lo; d <= hi; d++) {
    const raw = range24.map((h) => {
      const s = sums.get(d * 24 + h);
      return s === undefined || s.count === 0 ? null : s.sum / s.count;
    });
    const short = hoursInDay(d) === 23;
    const prof = raw.map((v, h) => (v === null && short && h === 2 ? (raw[1] === null || raw[3] === null ? null : (raw[1]! + raw[3]!) / 2) : v));
    let sum = 0;
    let n = 0;
    let mn: number | null = null;
    let mx: number | null = null;
    const missing: number[] = [];
    for (let h = 0; h < 24; h++) {
      const v = prof[h]!;
      if (v === null) {
        missing.push(h);
        continue;
      }
      sum += v;
      n++;
      if (mn === null || v < mn) mn = v;
      if (mx === null || v > mx) mx = v;
    }
    out.set(d, { prof, n, mean: n === 0 ? null : sum / n, mn, mx, missing });
  }
  return out;
}

const NO_DAY: GridDay = { prof: range24.map(() => null), n: 0, mean: null, mn: null, mx: null, missing: [...range24] };

export interface OneDayInputs {
  readonly nodeId: number;
  /** Target EPT day, YYYY-MM-DD. */
  readonly day: string;
  readonly set: FeatureSet;
  /** The node's rows of the price files the SQL would read (any order). */
  readonly prices: readonly PriceRow[];
  /** Every row of the load files the SQL would read (any order). */
  readonly load: readonly LoadRow[];
}

/** The day's 24 rows (hours 0-23) as columns, NaN where the SQL gives NULL, or the inputs it lacks. */
export type OneDayFeatures =
  | { readonly ok: true; readonly target: Float64Array; readonly features: Readonly<Record<string, Float64Array>> }
  | { readonly ok: false; readonly error: MissingFeatureInputsError };

const LAG_SAME = new Map(PRICE_LAGS.map((lag) => [lag, `price_lag${lag}_h`]));
const LAG_PROFILE = new Map(PRICE_LAGS.map((lag) => [lag, Array.from({ length: 24 }, (_, h) => profileColumn(lag, h))]));
const hourly = (prof: readonly (number | null)[]): Float64Array => Float64Array.from(prof, (v) => v ?? Number.NaN);
const constant = (v: number | null): Float64Array => new Float64Array(24).fill(v ?? Number.NaN);

/**
 * What `featuresForDay` gives for (node, day) from the rows of the files it would read: the
 * target and every feature column of the set, or a MissingFeatureInputsError naming every
 * missing input (from the same bookkeeping as the SQL's `_miss_*` and `_has_*` columns).
 */
export function featuresInMemory(o: OneDayInputs): OneDayFeatures {
  const set = o.set;
  const D = dayNumberOf(o.day);
  const lo = D - MAX_LAG;
  // The SQL's time filter on both inputs: UTC instants from D-9 to D+2.
  const from = (D - 9) * DAY_MS;
  const to = (D + 2) * DAY_MS;
  const inSpan = (ts: number): boolean => ts >= from && ts < to;
  const withDa = set.inputs.includes('da_price');
  const forecastArea = set.inputs.includes('load_forecast') ? set.loadForecastArea : null;
  const meteredArea = set.inputs.includes('load_metered') ? set.loadMeteredArea : null;

  // nodes: the node's zone (any non-null value of its rows).
  const prices = o.prices.filter((r) => inSpan(r.ts));
  const zone = prices.find((r) => r.zone !== null)?.zone ?? null;
  // px_day per market.
  const px = (market: string): Map<number, GridDay> =>
    gridDays(
      prices.filter((r) => r.market === market).map((r) => ({ ts: r.ts, v: r.lmp })),
      lo,
      D,
    );
  const own = px(set.market);
  const da = withDa ? px('da') : undefined;

  // load_areas, ld_day, lm_day.
  const load = o.load.filter((r) => inSpan(r.ts) && ((forecastArea !== null && r.kind === 'forecast') || (meteredArea !== null && r.kind === 'metered')));
  const areas = new Set<string>();
  if (forecastArea !== null) {
    for (const r of load) if (r.kind === 'forecast' && (r.area === forecastArea || r.area === zone)) areas.add(r.area);
    areas.add(forecastArea);
  }
  const series = (kind: string, area: string): Map<number, GridDay> =>
    gridDays(
      load.filter((r) => r.kind === kind && r.area === area).map((r) => ({ ts: r.ts, v: r.mw })),
      lo,
      D,
    );
  const sys = forecastArea !== null ? series('forecast', forecastArea) : undefined;
  const hasZone = zone !== null && areas.has(zone);
  const zoneLoad = hasZone ? series('forecast', zone) : undefined;
  const metered = meteredArea !== null ? series('metered', meteredArea) : undefined;
  const at = (m: Map<number, GridDay> | undefined, d: number): GridDay => m?.get(d) ?? NO_DAY;

  const lags = PRICE_LAGS.map((lag) => [lag, at(own, D - lag)] as const);
  const dad = at(da, D);
  const ls = at(sys, D);
  const lz = at(zoneLoad, D);
  const lm1 = at(metered, D - 1);
  // The bookkeeping of the SQL's first row (the same on every row of the day).
  const book: Record<string, unknown> = {
    _miss_da: withDa ? dad.missing : [],
    _has_sys: forecastArea !== null,
    _miss_sys: ls.missing,
    _miss_sys_lag1: at(sys, D - 1).missing,
    _has_zone: hasZone,
    _zone: zone,
    _miss_zone: lz.missing,
    _miss_zone_lag1: at(zoneLoad, D - 1).missing,
    _miss_mload_lag1: meteredArea !== null ? lm1.missing : [],
  };
  for (const [lag, g] of lags) book[`_miss_lag${lag}`] = g.missing;
  const missing = missingInputsOf(book, o.nodeId, o.day, set);
  if (missing.length > 0) return { ok: false, error: new MissingFeatureInputsError(o.nodeId, set.market, o.day, missing) };

  const year = Number(o.day.slice(0, 4));
  const holidays = new Set(nercHolidaysBetween(year - 1, year + 1));
  const change = (a: GridDay, b: GridDay): Float64Array =>
    Float64Array.from(range24, (h) => (a.prof[h] === null || b.prof[h] === null ? Number.NaN : a.prof[h]! - b.prof[h]!));
  const all: Record<string, Float64Array> = {
    hour: Float64Array.from(range24),
    day_of_week: constant(((new Date(D * DAY_MS).getUTCDay() + 6) % 7) + 1),
    is_holiday: constant(holidays.has(o.day) ? 1 : 0),
    is_holiday_lag1: constant(holidays.has(dayOfNumber(D - 1)) ? 1 : 0),
    price_lag1_mean: constant(lags[0]![1].mean),
    price_lag1_min: constant(lags[0]![1].mn),
    price_lag1_max: constant(lags[0]![1].mx),
    load_sys_h: hourly(ls.prof),
    load_sys_chg_lag1: change(ls, at(sys, D - 1)),
    load_sys_day_mean: constant(ls.mean),
    load_sys_day_max: constant(ls.mx),
    load_zone_h: hourly(lz.prof),
    load_zone_chg_lag1: change(lz, at(zoneLoad, D - 1)),
    load_zone_day_mean: constant(lz.mean),
    load_zone_day_max: constant(lz.mx),
    da_price_h: hourly(dad.prof),
    da_price_day_mean: constant(dad.mean),
    mload_lag1_h: hourly(lm1.prof),
    mload_lag1_mean: constant(lm1.mean),
    mload_lag1_max: constant(lm1.mx),
  };
  for (const [lag, g] of lags) {
    all[LAG_SAME.get(lag)!] = hourly(g.prof);
    for (const [h, name] of LAG_PROFILE.get(lag)!.entries()) all[name] = constant(g.prof[h] ?? null);
  }
  const features: Record<string, Float64Array> = {};
  for (const name of featureColumns(set)) features[name] = all[name]!;
  return { ok: true, target: hourly(at(own, D).prof), features };
}
