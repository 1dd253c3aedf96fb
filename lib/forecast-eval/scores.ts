// Scores of quantile forecasts: the pinball (quantile) loss averaged over levels and hours,
// and the empirical coverage of central intervals.
import { checkLevels, type QuantileForecast } from './quantiles.ts';

/** ρ_τ(y - q) = τ (y - q) if y ≥ q, else (1 - τ)(q - y). */
export const pinball = (actual: number, quantile: number, level: number): number =>
  actual >= quantile ? level * (actual - quantile) : (1 - level) * (quantile - actual);

/** Mean pinball loss over every hour and level (same unit as the prices). */
export function pinballLoss(actual: ArrayLike<number>, forecast: QuantileForecast): number {
  const m = forecast.levels.length;
  checkLevels(forecast.levels, 'pinballLoss');
  if (forecast.values.length !== actual.length * m) {
    throw new Error(`pinballLoss: ${forecast.values.length} quantiles for ${actual.length} hours × ${m} levels; give one quantile per hour and level.`);
  }
  if (actual.length === 0) throw new Error('pinballLoss: no hours to score.');
  let sum = 0;
  for (let i = 0; i < actual.length; i++) for (let k = 0; k < m; k++) sum += pinball(actual[i]!, forecast.values[i * m + k]!, forecast.levels[k]!);
  return sum / (actual.length * m);
}

/**
 * Share of hours whose actual lies in [q_lo, q_hi] for the central interval of the given
 * coverage (0.5 → levels 0.25 and 0.75; 0.9 → 0.05 and 0.95); both levels must be present.
 */
export function intervalCoverage(actual: ArrayLike<number>, forecast: QuantileForecast, nominal: number): number {
  const m = forecast.levels.length;
  const lo = levelIndex(forecast.levels, (1 - nominal) / 2, nominal);
  const hi = levelIndex(forecast.levels, (1 + nominal) / 2, nominal);
  if (actual.length === 0) throw new Error('intervalCoverage: no hours to score.');
  let inside = 0;
  for (let i = 0; i < actual.length; i++) {
    const y = actual[i]!;
    if (y >= forecast.values[i * m + lo]! && y <= forecast.values[i * m + hi]!) inside++;
  }
  return inside / actual.length;
}

function levelIndex(levels: readonly number[], level: number, nominal: number): number {
  const k = levels.findIndex((t) => Math.abs(t - level) < 1e-9);
  if (k < 0)
    throw new Error(
      `intervalCoverage: a ${+(nominal * 100).toFixed(6)} % central interval needs level ${+level.toFixed(6)}, which is not among ${levels.join(', ')}.`,
    );
  return k;
}
