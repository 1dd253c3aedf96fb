// The feature set, by name: which columns a feature row has for each market, which of them
// are prices (in $/MWh, transformed alongside the target by the model) and which inputs each
// row needs. Target day D is an EPT delivery day; "lagK" means delivery day D-K, all known at
// the end of D-1. Nothing here reads data.

export type Market = 'da' | 'rt';

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
export function priceFeatureColumns(market: Market): string[] {
  return market === 'rt' ? [...priceColumns(), ...RT_DA_COLUMNS] : priceColumns();
}

/** Every model-input column for a market, in a fixed order (the order the model sees). */
export function featureColumns(market: Market): string[] {
  return [...CALENDAR_COLUMNS, ...priceFeatureColumns(market), ...LOAD_COLUMNS];
}

/** Column names of one hour of a lag's profile, for SQL generation. */
export const profileColumn = (lag: PriceLag, hour: number): string => `price_lag${lag}_h${hh(hour)}`;
