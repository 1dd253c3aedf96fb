// The model's stored calibration: split-conformal quantiles of its walk-forward residuals
// (actual - forecast, signed: price errors are skewed upward) per hour of the day, taken from
// the last backtest days. A forecast's quantile at level τ is the point forecast plus the
// hour's residual quantile; the offsets are sorted by level, so the quantiles never cross.
import { conformalQuantile, checkLevels, QUANTILE_LEVELS } from '../../../lib/forecast-eval/index.ts';

/**
 * Calibration days: each hour's quantiles come from its residuals of the last 91 days (the
 * backtest's online quantiles and the model's stored ones alike). Chosen on the year before
 * the epftoolbox test period (bench/lear-cadence.ts, 2016): the lowest pinball loss among 56,
 * 91, 182 and 365 days, with 50 % / 90 % coverage 50.2 / 90.6 % for the default ensemble (182
 * days: 52.0 / 89.6 %; the price errors' spread comes in spells, which a shorter window follows).
 */
export const CALIBRATION_DAYS = 91;

export interface ConformalCalibration {
  readonly method: 'conformal-per-hour';
  readonly levels: readonly number[];
  /** offsets[h][k]: the level-k residual quantile of grid hour h, $/MWh. */
  readonly offsets: readonly (readonly number[])[];
  /** Residuals per hour it was computed from, and the days they cover. */
  readonly residualsPerHour: number;
  readonly firstDay: string;
  readonly lastDay: string;
}

export interface HourResidual {
  readonly day: string;
  readonly hour: number;
  readonly actual: number;
  readonly forecast: number;
}

/**
 * The calibration, or null when a test period is too short to give every hour `minPerHour`
 * residuals (a short backtest on a user's few weeks of data): the model is then served without
 * quantiles, and the backtest says so, rather than failing.
 */
export function conformalCalibrationIfEnough(
  hours: readonly HourResidual[],
  options: { days?: number; levels?: readonly number[]; minPerHour?: number } = {},
): ConformalCalibration | null {
  const kept = new Set([...new Set(hours.map((h) => h.day))].sort().slice(-(options.days ?? CALIBRATION_DAYS)));
  const perHour = new Array<number>(24).fill(0);
  for (const h of hours) if (kept.has(h.day) && Number.isFinite(h.actual - h.forecast) && h.hour >= 0 && h.hour < 24) perHour[h.hour]!++;
  return Math.min(...perHour) < (options.minPerHour ?? 7) ? null : conformalCalibration(hours, options);
}

/** Calibration from the residuals of the last `days` days of `hours` (default CALIBRATION_DAYS). */
export function conformalCalibration(
  hours: readonly HourResidual[],
  options: { days?: number; levels?: readonly number[]; minPerHour?: number } = {},
): ConformalCalibration {
  const levels = options.levels ?? QUANTILE_LEVELS;
  checkLevels(levels, 'conformalCalibration');
  const allDays = [...new Set(hours.map((h) => h.day))].sort();
  const kept = new Set(allDays.slice(-(options.days ?? CALIBRATION_DAYS)));
  const byHour: number[][] = Array.from({ length: 24 }, () => []);
  for (const h of hours) {
    const r = h.actual - h.forecast;
    if (kept.has(h.day) && Number.isFinite(r) && h.hour >= 0 && h.hour < 24) byHour[h.hour]!.push(r);
  }
  const minPerHour = options.minPerHour ?? 7;
  const offsets = byHour.map((rs, h) => {
    if (rs.length < minPerHour)
      throw new Error(
        `conformalCalibration: hour ${h} has ${rs.length} residuals, fewer than ${minPerHour}; give the backtest a longer test period (PJM_BACKTEST_DAYS).`,
      );
    const sorted = Float64Array.from(rs).sort();
    return levels.map((t) => conformalQuantile(sorted, t));
  });
  const days = [...kept].sort();
  return {
    method: 'conformal-per-hour',
    levels: [...levels],
    offsets,
    residualsPerHour: Math.min(...byHour.map((r) => r.length)),
    firstDay: days[0]!,
    lastDay: days[days.length - 1]!,
  };
}

/** The quantiles of one forecast of grid hour `hour`, in level order. */
export function quantilesAt(calibration: ConformalCalibration, hour: number, point: number): number[] {
  const o = calibration.offsets[hour];
  if (o === undefined) throw new Error(`quantilesAt: the calibration has no grid hour ${hour}.`);
  return o.map((v) => point + v);
}
