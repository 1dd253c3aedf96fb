// Conformal quantiles on walk-forward residuals, per hour of the day: the quantile of hour h on
// day t is the point forecast plus the conformal quantile of the signed residuals
// (actual - forecast) of hour h over the `window` days before t (online split conformal: the
// calibration set slides with the forecasts, so only past errors are used). Signed residuals
// keep the asymmetry of price errors (spikes are upward).
import { conformalQuantile, checkLevels, QUANTILE_LEVELS, rearrangeQuantiles, type QuantileForecast } from './quantiles.ts';

export interface ConformalInput {
  /** days × hoursPerDay point forecasts, row-major. */
  readonly forecast: ArrayLike<number>;
  /** days × hoursPerDay actuals (NaN where not known yet: such days are not calibrated on). */
  readonly actual: ArrayLike<number>;
  readonly hoursPerDay?: number;
  /** Calibration days before each forecast day; default 182. */
  readonly window?: number;
  readonly levels?: readonly number[];
  /** First day to produce quantiles for (needs `minCalibration` past days); default window. */
  readonly firstDay?: number;
  /** Fewest residuals to calibrate on; default 30. */
  readonly minCalibration?: number;
  /**
   * Adaptive conformal inference (Gibbs & Candès 2021, "Adaptive conformal inference under
   * distribution shift"): each hour's quantile of level τ is taken at a level a that, after each
   * day whose actual is known, moves by γ(τ - 1{actual ≤ quantile}), so over time each quantile
   * is exceeded at its nominal rate even when the errors' spread drifts (price spikes come in
   * spells, and the residuals of the window before a spell understate it). Default: none (a = τ).
   */
  readonly adaptive?: { readonly gamma: number };
}

/**
 * Quantiles for days firstDay..end from the residuals of the days before each. Returns the
 * quantiles of those days (row-major days × hours × levels), rearranged to be monotone, and the
 * levels (hours × levels) the day after the last would be taken at: the nominal ones unless
 * `adaptive`.
 */
export function conformalQuantiles(input: ConformalInput): QuantileForecast & { firstDay: number; nextLevels: Float64Array } {
  const H = input.hoursPerDay ?? 24;
  const window = input.window ?? 182;
  const levels = input.levels ?? QUANTILE_LEVELS;
  checkLevels(levels, 'conformalQuantiles');
  if (input.forecast.length !== input.actual.length || input.forecast.length % H !== 0) {
    throw new Error(
      `conformalQuantiles: ${input.forecast.length} forecasts and ${input.actual.length} actuals must be equal and a whole number of ${H}-hour days.`,
    );
  }
  const days = input.forecast.length / H;
  const firstDay = input.firstDay ?? window;
  const minCal = input.minCalibration ?? 30;
  const m = levels.length;
  const values = new Float64Array((days - firstDay) * H * m);
  const residuals = new Float64Array(window);
  const gamma = input.adaptive?.gamma ?? 0;
  if (!(gamma >= 0 && gamma < 1)) throw new Error(`conformalQuantiles: adaptive gamma ${gamma} must be in [0, 1) (Gibbs & Candès use 0.005).`);
  // The level each hour's quantile k is taken at next: hours × levels.
  const at = new Float64Array(H * m);
  for (let h = 0; h < H; h++) for (let k = 0; k < m; k++) at[h * m + k] = levels[k]!;
  for (let t = firstDay; t < days; t++) {
    for (let h = 0; h < H; h++) {
      let count = 0;
      for (let d = Math.max(0, t - window); d < t; d++) {
        const r = input.actual[d * H + h]! - input.forecast[d * H + h]!;
        if (Number.isFinite(r)) residuals[count++] = r;
      }
      if (count < minCal)
        throw new Error(
          `conformalQuantiles: day ${t} hour ${h} has ${count} past residuals, fewer than ${minCal}; start later (firstDay) or lower minCalibration.`,
        );
      const sorted = residuals.slice(0, count).sort();
      const point = input.forecast[t * H + h]!;
      const off = ((t - firstDay) * H + h) * m;
      for (let k = 0; k < m; k++) values[off + k] = point + conformalQuantile(sorted, at[h * m + k]!);
      const y = input.actual[t * H + h]!;
      if (gamma > 0 && Number.isFinite(y)) for (let k = 0; k < m; k++) at[h * m + k]! += gamma * (levels[k]! - (y <= values[off + k]! ? 1 : 0));
    }
  }
  const out = { levels: [...levels], values, firstDay, nextLevels: at };
  rearrangeQuantiles(out);
  return out;
}
