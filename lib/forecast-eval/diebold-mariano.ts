// The Diebold-Mariano test of equal predictive accuracy as epftoolbox computes it (one-sided:
// a small p-value means forecast B is significantly more accurate than A):
//   univariate:   per hour h, d_t = L(e_A,t,h) - L(e_B,t,h) over days t;
//   multivariate: d_t = mean_h L(e_A,t,h) - mean_h L(e_B,t,h), one series for the day
//                 (Ziel & Weron 2018), L = |e| (norm 1) or e² (norm 2);
// statistic = mean(d) / sqrt(var(d) / N) with the population variance (ddof 0), and
// p-value = 1 - Φ(statistic).

export type DmNorm = 1 | 2;

export interface DmResult {
  readonly statistic: number;
  readonly pValue: number;
  /** Days in the loss-differential series. */
  readonly n: number;
}

export interface DmInput {
  /** days × hoursPerDay each, row-major. */
  readonly actual: ArrayLike<number>;
  readonly forecastA: ArrayLike<number>;
  readonly forecastB: ArrayLike<number>;
  readonly hoursPerDay?: number;
  /** Default 1. */
  readonly norm?: DmNorm;
}

function lossDifferentials(input: DmInput): { H: number; days: number; d: (t: number, h: number) => number } {
  const H = input.hoursPerDay ?? 24;
  const { actual, forecastA, forecastB } = input;
  if (actual.length !== forecastA.length || actual.length !== forecastB.length) {
    throw new Error(`dieboldMariano: ${actual.length} actuals, ${forecastA.length} and ${forecastB.length} forecasts; all three must cover the same hours.`);
  }
  if (actual.length % H !== 0 || actual.length < 2 * H) throw new Error(`dieboldMariano: ${actual.length} hours is not at least two whole ${H}-hour days.`);
  const loss = (input.norm ?? 1) === 1 ? Math.abs : (e: number) => e * e;
  return {
    H,
    days: actual.length / H,
    d: (t, h) => loss(actual[t * H + h]! - forecastA[t * H + h]!) - loss(actual[t * H + h]! - forecastB[t * H + h]!),
  };
}

function dmOf(series: Float64Array): DmResult {
  const n = series.length;
  let mean = 0;
  for (const v of series) mean += v;
  mean /= n;
  let variance = 0;
  for (const v of series) variance += (v - mean) ** 2;
  variance /= n;
  const statistic = mean / Math.sqrt(variance / n);
  return { statistic, pValue: 1 - normalCdf(statistic), n };
}

/** The multivariate DM test over whole days (epftoolbox `DM(..., version='multivariate')`). */
export function dieboldMarianoMultivariate(input: DmInput): DmResult {
  const { H, days, d } = lossDifferentials(input);
  const series = new Float64Array(days);
  for (let t = 0; t < days; t++) {
    let s = 0;
    for (let h = 0; h < H; h++) s += d(t, h);
    series[t] = s / H;
  }
  return dmOf(series);
}

/** One DM test per hour of the day (epftoolbox `DM(..., version='univariate')`). */
export function dieboldMarianoUnivariate(input: DmInput): DmResult[] {
  const { H, days, d } = lossDifferentials(input);
  return Array.from({ length: H }, (_, h) => dmOf(Float64Array.from({ length: days }, (_, t) => d(t, h))));
}

/**
 * Φ(x), the standard normal CDF, via erfc: a Taylor series of erf for |z| < 2 and a continued
 * fraction of erfc beyond (relative error below 1e-14 in both tails).
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const z = Math.abs(x) / Math.SQRT2;
  const tail = 0.5 * erfc(z); // P(X > |x|)
  return x >= 0 ? 1 - tail : tail;
}

function erfc(z: number): number {
  if (z < 2) {
    // erf(z) = 2/√π Σ (-1)^k z^(2k+1) / (k! (2k+1))
    let term = z;
    let sum = z;
    for (let k = 1; k < 100; k++) {
      term *= (-z * z) / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(z) = exp(-z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + …))))), evaluated backwards.
  let f = z;
  for (let k = 80; k >= 1; k--) f = z + k / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}
