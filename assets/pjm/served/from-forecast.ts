// From what the product answers to what the log keeps: the pjm/forecast asset's rows (real UTC
// hours, quantiles at QUANTILE_LEVELS) and /predict's hours (grid hour, quantiles as
// { level, value }) both become one forecast on the 24-hour grid (a fall-back day's two 01:00
// hours carry the same grid-hour forecast, so they are kept once).
import { QUANTILE_LEVELS } from '../../../lib/forecast-eval/index.ts';
import type { Market } from '../features/columns.ts';
import type { DayForecast } from '../forecast/forecast.ts';
import { realHoursOfDay } from '../forecast/grid-hours.ts';
import type { ForecastOrigin, ServedForecast, ServedHour } from './log.ts';

export interface ServedBy {
  readonly origin: ForecastOrigin;
  readonly modelVersion: string;
  readonly market: Market;
  readonly issuedAt: number;
}

/** A pjm/forecast node-day as the log keeps it. */
export function servedFromDayForecast(f: DayForecast, by: ServedBy): ServedForecast {
  const grid = new Map(realHoursOfDay(f.day).map((h) => [h.tsUtc, h.gridHour]));
  const hours = new Map<number, ServedHour>();
  for (const r of f.rows) {
    const hour = grid.get(r.tsUtc);
    if (hour === undefined || hours.has(hour)) continue;
    hours.set(hour, { hour, value: r.value, quantiles: r.quantiles ? [...r.quantiles] : null });
  }
  const withQuantiles = f.rows.length > 0 && f.rows.every((r) => r.quantiles !== undefined);
  return {
    ...by,
    nodeId: f.nodeId,
    day: f.day,
    levels: withQuantiles ? [...QUANTILE_LEVELS] : null,
    hours: [...hours.values()].sort((a, b) => a.hour - b.hour),
  };
}

/** One hour of a /predict answer (serving/predict/forecast.ts HourForecast, structurally). */
export interface AnsweredHour {
  readonly hour: number;
  readonly value: number;
  readonly quantiles?: readonly { readonly level: number; readonly value: number }[];
}

/** A /predict answer of one node-day as the log keeps it. */
export function servedFromAnswer(nodeId: number, day: string, answered: readonly AnsweredHour[], by: ServedBy): ServedForecast {
  const hours = new Map<number, ServedHour>();
  for (const h of answered)
    if (!hours.has(h.hour)) hours.set(h.hour, { hour: h.hour, value: h.value, quantiles: h.quantiles ? h.quantiles.map((q) => q.value) : null });
  const first = answered[0]?.quantiles;
  const levels = first && answered.every((h) => h.quantiles?.length === first.length) ? first.map((q) => q.level) : null;
  return { ...by, nodeId, day, levels, hours: [...hours.values()].sort((a, b) => a.hour - b.hour) };
}
