// Which feature set the data supports: the richest one whose inputs exist in the validated
// prices and load (not only in the configuration), with the inputs found and those done
// without, each with the reason, for the run output and the model's metadata.
import type { DuckDBConnection } from '@duckdb/node-api';
import { normaliseFeatureSet, possibleInputs, type FeatureInput, type FeatureSet, type Market } from './columns.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

export interface FeatureSetChoice {
  readonly set: FeatureSet;
  /** Inputs of `set`, with what was found (e.g. "RTO load forecast, 2,184 days"). */
  readonly found: ReadonlyArray<{ readonly input: FeatureInput; readonly detail: string }>;
  /** Inputs the market could use that the data does not have, and why. */
  readonly without: ReadonlyArray<{ readonly input: FeatureInput; readonly reason: string }>;
}

export interface DetectOptions {
  /** Validated prices to read the markets from; or give `markets`. */
  readonly pricesParquet: readonly string[];
  /**
   * The markets the validated prices hold, when known without reading them (the pipeline:
   * every validated node-day holds each configured market, or it is blocked), with a detail
   * for the run output. Given, `pricesParquet` is not read.
   */
  readonly markets?: ReadonlyMap<string, string>;
  readonly loadParquet: readonly string[];
  readonly market: Market;
  /** Preferred area of the load forecast and metered load. Default 'RTO'. */
  readonly systemLoadArea?: string;
  /** Inputs to leave out even when the data has them (e.g. to compare sets). */
  readonly exclude?: readonly FeatureInput[];
}

const files = (paths: readonly string[]): string => `[${paths.map(sqlString).join(', ')}]`;

/** Area preferred if present, else the first alphabetically; null when none. */
function pickArea(areas: ReadonlyMap<string, number>, preferred: string): string | null {
  if (areas.has(preferred)) return preferred;
  return [...areas.keys()].sort()[0] ?? null;
}

/** The richest feature set the validated data supports for `market` (see `FeatureSetChoice`). */
export async function detectFeatureSet(conn: DuckDBConnection, o: DetectOptions): Promise<FeatureSetChoice> {
  const preferred = o.systemLoadArea ?? 'RTO';
  const exclude = new Set(o.exclude ?? []);
  const byMarket = new Map<string, string>();
  if (o.markets) for (const [m, detail] of o.markets) byMarket.set(m, detail);
  else {
    if (o.pricesParquet.length === 0) throw new Error('detectFeatureSet: no prices Parquet file given.');
    const markets = await conn.runAndReadAll(
      `SELECT market, count(DISTINCT node_id) AS nodes, count(DISTINCT CAST(timezone('America/New_York', ts_utc) AS DATE)) AS days
       FROM read_parquet(${files(o.pricesParquet)}) GROUP BY market`,
    );
    for (const r of markets.getRows()) byMarket.set(String(r[0]), `${String(r[0]).toUpperCase()} prices of ${Number(r[1])} node(s), ${Number(r[2])} days`);
  }
  const own = byMarket.get(o.market);
  if (own === undefined)
    throw new Error(
      `No ${o.market.toUpperCase()} prices in the validated data: the ${o.market} model has nothing to learn from. Add ${o.market}_hrl_lmps data or set PJM_MARKETS.`,
    );
  const forecastAreas = new Map<string, number>();
  const meteredAreas = new Map<string, number>();
  if (o.loadParquet.length > 0) {
    const load = await conn.runAndReadAll(
      `SELECT kind, area, count(DISTINCT CAST(timezone('America/New_York', ts_utc) AS DATE)) AS days
       FROM read_parquet(${files(o.loadParquet)}) GROUP BY kind, area`,
    );
    for (const [kind, area, days] of load.getRows()) (kind === 'forecast' ? forecastAreas : meteredAreas).set(String(area), Number(days));
  }
  const forecastArea = pickArea(forecastAreas, preferred);
  const meteredArea = pickArea(meteredAreas, preferred);
  const found: Array<{ input: FeatureInput; detail: string }> = [{ input: 'price_lags', detail: own }];
  const without: Array<{ input: FeatureInput; reason: string }> = [];
  const consider = (input: FeatureInput, present: boolean, detail: string, absent: string): void => {
    if (!possibleInputs(o.market).includes(input)) return;
    if (!present) without.push({ input, reason: absent });
    else if (exclude.has(input)) without.push({ input, reason: `left out by request (${detail} available)` });
    else found.push({ input, detail });
  };
  const da = byMarket.get('da');
  consider('da_price', da !== undefined, da ?? '', 'no DA prices in the validated data');
  consider(
    'load_forecast',
    forecastArea !== null,
    `${forecastArea} load forecast, ${forecastAreas.get(forecastArea ?? '') ?? 0} days`,
    'no load forecast in the validated data',
  );
  consider(
    'load_metered',
    meteredArea !== null,
    `${meteredArea} metered load, ${meteredAreas.get(meteredArea ?? '') ?? 0} days`,
    'no metered load in the validated data',
  );
  const inputs = found.map((f) => f.input);
  const set = normaliseFeatureSet({
    market: o.market,
    inputs,
    loadForecastArea: inputs.includes('load_forecast') ? forecastArea : null,
    loadMeteredArea: inputs.includes('load_metered') ? meteredArea : null,
  });
  return { set, found, without };
}

/** One line for the run output: `inputs: ... ; without: ...`. */
export function describeChoice(choice: FeatureSetChoice): string {
  const w = choice.without.map((x) => `${x.input} (${x.reason})`).join(', ');
  return `inputs found: ${choice.found.map((f) => `${f.input} (${f.detail})`).join(', ')}; without: ${w === '' ? 'none' : w}`;
}
