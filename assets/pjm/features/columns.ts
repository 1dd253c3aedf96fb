// The feature sets, by name: which inputs a model uses (its own market's price lags, the DA
// price of D for an RT target, load forecasts, metered load), which columns each input gives a
// feature row, which of them are prices (in $/MWh, transformed alongside the target by the
// model). Target day D is an EPT delivery day; "lagK" means delivery day D-K, all known at the
// end of D-1. Nothing here reads data.

export type Market = 'da' | 'rt';

/**
 * An input a feature set may use:
 * - `price_lags`: the target market's own prices of D-1, D-2, D-3, D-7 (per node, always used);
 * - `da_price`: the node's DA price of D, for an RT target (DA clears on D-1);
 * - `load_forecast`: the load forecast of D and D-1 of the system area (and the node's zone when it has one);
 * - `load_metered`: metered load of D-1 (the latest day complete at the end of D-1).
 */
export type FeatureInput = 'price_lags' | 'da_price' | 'load_forecast' | 'load_metered';
export const FEATURE_INPUTS: readonly FeatureInput[] = ['price_lags', 'da_price', 'load_forecast', 'load_metered'];

/** What a model's feature rows are made of; recorded in the model's sidecar, so /predict builds the same rows. */
export interface FeatureSet {
  readonly market: Market;
  /** In `FEATURE_INPUTS` order; always includes `price_lags`. */
  readonly inputs: readonly FeatureInput[];
  /** Area whose load forecast is a feature (with the node's zone when it has one); null without `load_forecast`. */
  readonly loadForecastArea: string | null;
  /** Area whose metered load is a feature; null without `load_metered`. */
  readonly loadMeteredArea: string | null;
}

/** The inputs a target market can use at all (an RT target may also read DA; a DA target never reads RT). */
export function possibleInputs(market: Market): FeatureInput[] {
  return FEATURE_INPUTS.filter((i) => market === 'rt' || i !== 'da_price');
}

/**
 * The set every model used before sets were recorded: own price lags, the DA price for RT,
 * and the RTO load forecast. Used for sidecars that carry no `featureSet`.
 */
export function legacyFeatureSet(market: Market, loadArea = 'RTO'): FeatureSet {
  return {
    market,
    inputs: market === 'rt' ? ['price_lags', 'da_price', 'load_forecast'] : ['price_lags', 'load_forecast'],
    loadForecastArea: loadArea,
    loadMeteredArea: null,
  };
}

/** Checks a set is well formed (names the problem), and returns it with its inputs in canonical order. */
export function normaliseFeatureSet(set: FeatureSet): FeatureSet {
  const unknown = set.inputs.filter((i) => !FEATURE_INPUTS.includes(i));
  if (unknown.length > 0) throw new Error(`Feature set: unknown input(s) ${unknown.join(', ')}; expected some of ${FEATURE_INPUTS.join(', ')}.`);
  if (!set.inputs.includes('price_lags'))
    throw new Error(`Feature set for ${set.market}: price_lags is required (every model reads its own market's recent prices).`);
  if (set.market === 'da' && set.inputs.includes('da_price'))
    throw new Error('Feature set for da: da_price is the target itself for a DA model; it is an input of RT models only.');
  if (set.inputs.includes('load_forecast') && !set.loadForecastArea) throw new Error('Feature set: load_forecast needs loadForecastArea.');
  if (set.inputs.includes('load_metered') && !set.loadMeteredArea) throw new Error('Feature set: load_metered needs loadMeteredArea.');
  return {
    market: set.market,
    inputs: FEATURE_INPUTS.filter((i) => set.inputs.includes(i)),
    loadForecastArea: set.inputs.includes('load_forecast') ? set.loadForecastArea : null,
    loadMeteredArea: set.inputs.includes('load_metered') ? set.loadMeteredArea : null,
  };
}

/** A short readable name: `rt[price_lags, da_price, load_forecast(RTO)]`. */
export function describeFeatureSet(set: FeatureSet): string {
  const part = (i: FeatureInput): string =>
    i === 'load_forecast' ? `load_forecast(${set.loadForecastArea})` : i === 'load_metered' ? `load_metered(${set.loadMeteredArea})` : i;
  return `${set.market}[${set.inputs.map(part).join(', ')}]`;
}

const asSet = (s: Market | FeatureSet): FeatureSet => (typeof s === 'string' ? legacyFeatureSet(s) : s);

/** Day lags whose price profile is a feature (the d, d-1, d-2, d-6 for forecast day d = D-1). */
export const PRICE_LAGS = [1, 2, 3, 7] as const;
export type PriceLag = (typeof PRICE_LAGS)[number];

const hh = (h: number): string => String(h).padStart(2, '0');

/** Key columns of a feature row (`hour`, 0-23 on the EPT 24-hour grid, is also a feature). */
export const KEY_COLUMNS = ['node_id', 'market', 'day', 'hour'] as const;
/** The target column: the price of (D, h) in the row's market. Never a model input. */
export const TARGET_COLUMN = 'target';

/** Price features of one market: same-hour lags, 24-hour profiles, the mean/min/max of D-1. */
function priceColumns(): string[] {
  const out: string[] = [];
  for (const lag of PRICE_LAGS) out.push(`price_lag${lag}_h`);
  for (const lag of PRICE_LAGS) for (let h = 0; h < 24; h++) out.push(`price_lag${lag}_h${hh(h)}`);
  out.push('price_lag1_mean', 'price_lag1_min', 'price_lag1_max');
  return out;
}

/** Extra price features of a real-time target: the day-ahead price of D, published on D-1. */
const RT_DA_COLUMNS = ['da_price_h', 'da_price_day_mean'] as const;

/** Metered-load features: the area's load of D-1 at the target hour, and D-1's mean and peak. */
export const METERED_LOAD_COLUMNS = ['mload_lag1_h', 'mload_lag1_mean', 'mload_lag1_max'] as const;

/** Load-forecast features: system area and the node's zone, target hour, change vs D-1, day shape of D. */
export const LOAD_COLUMNS = [
  'load_sys_h',
  'load_sys_chg_lag1',
  'load_sys_day_mean',
  'load_sys_day_max',
  'load_zone_h',
  'load_zone_chg_lag1',
  'load_zone_day_mean',
  'load_zone_day_max',
] as const;

/** Calendar features. `day_of_week` is ISO (1 = Monday … 7 = Sunday). */
export const CALENDAR_COLUMNS = ['hour', 'day_of_week', 'is_holiday', 'is_holiday_lag1'] as const;

/** Columns holding prices in $/MWh (the model may transform these with the target). */
export function priceFeatureColumns(set: Market | FeatureSet): string[] {
  const s = asSet(set);
  return s.inputs.includes('da_price') ? [...priceColumns(), ...RT_DA_COLUMNS] : priceColumns();
}

/**
 * Every model-input column of a feature set (a market alone means its legacy set), in a fixed
 * order (the order the model sees).
 */
export function featureColumns(set: Market | FeatureSet): string[] {
  const s = asSet(set);
  return [
    ...CALENDAR_COLUMNS,
    ...priceFeatureColumns(s),
    ...(s.inputs.includes('load_forecast') ? LOAD_COLUMNS : []),
    ...(s.inputs.includes('load_metered') ? METERED_LOAD_COLUMNS : []),
  ];
}

/** Column names of one hour of a lag's profile, for SQL generation. */
export const profileColumn = (lag: PriceLag, hour: number): string => `price_lag${lag}_h${hh(hour)}`;
