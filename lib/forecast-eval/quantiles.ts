// Quantile forecasts: the levels we publish, monotone rearrangement (Chernozhukov,
// Fernández-Val & Galichon 2010: sorting the predicted quantiles of one hour can only lower
// the pinball loss), and the empirical quantile of a sample with the conformal rank.

/** The levels every forecast carries: 5, 10, 25, 50, 75, 90, 95 %. */
export const QUANTILE_LEVELS = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95] as const;

/** Quantile forecasts of many hours: values[i * levels.length + k] is hour i's level-k quantile. */
export interface QuantileForecast {
  readonly levels: readonly number[];
  readonly values: Float64Array;
}

export function checkLevels(levels: readonly number[], what: string): void {
  if (levels.length === 0) throw new Error(`${what}: no quantile levels given.`);
  levels.forEach((t, k) => {
    if (!(t > 0 && t < 1)) throw new Error(`${what}: quantile level ${t} (index ${k}) must be strictly between 0 and 1.`);
    if (k > 0 && !(t > levels[k - 1]!)) throw new Error(`${what}: quantile levels must increase; ${t} follows ${levels[k - 1]}.`);
  });
}

/** Sorts each hour's quantiles in place so they never cross; returns how many hours crossed. */
export function rearrangeQuantiles(forecast: QuantileForecast): number {
  const m = forecast.levels.length;
  let crossed = 0;
  const row = new Float64Array(m);
  for (let off = 0; off < forecast.values.length; off += m) {
    let sorted = true;
    for (let k = 1; k < m; k++) if (forecast.values[off + k]! < forecast.values[off + k - 1]!) sorted = false;
    if (sorted) continue;
    crossed++;
    row.set(forecast.values.subarray(off, off + m));
    row.sort();
    forecast.values.set(row, off);
  }
  return crossed;
}

/**
 * The level-τ quantile of a sample with the split-conformal rank: the ⌈(n+1)τ⌉-th smallest
 * value for τ ≥ ½ and the ⌊(n+1)τ⌋-th for τ < ½, clamped to [1, n], so a new exchangeable
 * value falls below the upper quantile with probability ≥ τ and below the lower one with
 * probability ≤ τ. `sorted` must be ascending.
 */
export function conformalQuantile(sorted: ArrayLike<number>, level: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('conformalQuantile: empty sample; calibrate on at least one residual.');
  const rank = level >= 0.5 ? Math.ceil((n + 1) * level) : Math.floor((n + 1) * level);
  return sorted[Math.min(n, Math.max(1, rank)) - 1]!;
}
