// The served-forecast log: every forecast the product issued for a day whose prices were not
// known yet (the pjm/forecast asset's, and /predict's answers for a future day), kept once per
// model version x node x market x day as asset records of the lineage store (namespace
// `pjm/served_forecasts`, partition the delivery day, the forecast as payload), so that
// pjm/forecast_score can score it once the day's validated prices arrive and a user can read
// what was said, and when. In the lineage store, not under DATA_DIR: a worker with a scratch
// DATA_DIR (the EKS overlay) keeps and scores the same forecasts as the server. Earlier
// versions kept it in DATA_DIR/forecasts/served.sqlite; ./legacy-log.ts imports that file once.
import type { AssetRecord, AssetRecords, JsonValue, NewAssetRecord } from '../../../runtime/index.ts';
import type { Market } from '../features/columns.ts';

/** Who issued a forecast: the pjm/forecast asset, or the server answering POST /predict (or /predict/batch). */
export type ForecastOrigin = 'forecast_asset' | 'predict';
export const FORECAST_ORIGINS: readonly ForecastOrigin[] = ['forecast_asset', 'predict'];
const MARKETS: readonly Market[] = ['da', 'rt'];

/** The asset records' namespace of the log, shared by pjm/forecast, pjm/forecast_score and the server. */
export const SERVED_FORECASTS = 'pjm/served_forecasts';

/** One hour of a kept forecast, on the 24-hour EPT grid the features and the backtest use. */
export interface ServedHour {
  /** Grid hour 0-23 (a fall-back day's two 01:00 hours are one grid hour). */
  readonly hour: number;
  readonly value: number;
  /** The forecast's quantiles at the forecast's `levels`, non-decreasing; null without them. */
  readonly quantiles: readonly number[] | null;
}

export interface ServedForecast {
  readonly origin: ForecastOrigin;
  /** The data version of the pjm/model version that made it. */
  readonly modelVersion: string;
  readonly nodeId: number;
  readonly market: Market;
  /** EPT delivery day, YYYY-MM-DD. */
  readonly day: string;
  /** When it was issued (epoch ms). */
  readonly issuedAt: number;
  /** The quantile levels of every hour's `quantiles`; null when the model had no calibration. */
  readonly levels: readonly number[] | null;
  readonly hours: readonly ServedHour[];
}

/** The key a forecast is kept under: one per model version, node, market and day. */
export const servedForecastKey = (f: Pick<ServedForecast, 'modelVersion' | 'nodeId' | 'market' | 'day'>): string =>
  `${f.modelVersion}|${f.nodeId}|${f.market}|${f.day}`;

/** A forecast as the record it is kept as; refuses (naming the forecast) what the log could not score. */
export function servedForecastRecord(f: ServedForecast): NewAssetRecord {
  const key = servedForecastKey(f);
  if (!FORECAST_ORIGINS.includes(f.origin))
    throw new RangeError(`Served forecast ${key}: origin ${JSON.stringify(f.origin)} is not one of ${FORECAST_ORIGINS.join(', ')}.`);
  if (!MARKETS.includes(f.market)) throw new RangeError(`Served forecast ${key}: market ${JSON.stringify(f.market)} is not one of ${MARKETS.join(', ')}.`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(f.day)) throw new RangeError(`Served forecast ${key}: day ${JSON.stringify(f.day)} is not YYYY-MM-DD.`);
  const payload: ServedForecast = {
    origin: f.origin,
    modelVersion: f.modelVersion,
    nodeId: f.nodeId,
    market: f.market,
    day: f.day,
    issuedAt: f.issuedAt,
    levels: f.levels,
    hours: f.hours,
  };
  return { namespace: SERVED_FORECASTS, key, partition: f.day, recordedAt: f.issuedAt, payload: payload as unknown as JsonValue };
}

/** A kept record as the forecast it holds; a record that is not one names its key. */
export function servedForecastFromRecord(r: AssetRecord): ServedForecast {
  const f = r.payload as unknown as ServedForecast;
  if (f === null || typeof f !== 'object' || !Array.isArray(f.hours) || !FORECAST_ORIGINS.includes(f.origin) || !MARKETS.includes(f.market))
    throw new Error(
      `The asset record ${r.key} of ${SERVED_FORECASTS} is not a served forecast (origin, market and hours expected); it was written by something else.`,
    );
  return f;
}

/** The log over a store's asset records (a step's ctx.records, or the server's instance.store). */
export class ServedForecastLog {
  constructor(private readonly records: AssetRecords) {}

  /** Keeps each forecast not kept before (same model version, node, market and day), in one transaction; returns how many were new. */
  append(forecasts: readonly ServedForecast[]): Promise<number> {
    return forecasts.length === 0 ? Promise.resolve(0) : this.records.addAssetRecords(forecasts.map(servedForecastRecord));
  }

  /** Every forecast kept for the days `from`..`to` (inclusive), by day and issue time. */
  async forDays(from: string, to: string): Promise<ServedForecast[]> {
    return (await this.records.assetRecords({ namespace: SERVED_FORECASTS, partitions: { from, to } })).map(servedForecastFromRecord);
  }

  /** The latest `limit` forecasts kept, newest first. */
  async recent(limit: number): Promise<ServedForecast[]> {
    return (await this.records.assetRecords({ namespace: SERVED_FORECASTS, order: 'newest', limit })).map(servedForecastFromRecord);
  }

  /** How many forecasts are kept. */
  count(): Promise<number> {
    return this.records.countAssetRecords({ namespace: SERVED_FORECASTS });
  }
}
