// Linear quantile regression without an LP solver, by iteratively reweighted least squares:
// |r| is majorized by r² / (2|r₀|) + |r₀| / 2 at the current residual r₀, so each step solves
// a weighted least-squares problem with weights τ/|r₀| (r₀ ≥ 0) or (1-τ)/|r₀| (r₀ < 0);
// residuals are floored at `epsilon` so an exactly fitted point keeps a finite weight. The
// check loss never increases from step to step (an MM algorithm, Hunter & Lange 2000).
// Used for quantile regression averaging (QRA, Nowotarski & Weron 2015): the actual price
// regressed on the ensemble members' point forecasts.
import { checkLevels, QUANTILE_LEVELS, rearrangeQuantiles, type QuantileForecast } from './quantiles.ts';
import { pinball } from './scores.ts';

export interface QuantileRegressionOptions {
  /** Default 200. */
  readonly maxIter?: number;
  /** Stop when the relative drop of the check loss is below this; default 1e-9. */
  readonly tol?: number;
  /** Residual floor of the weights, in the response's unit; default 1e-6 × mean |y|, at least 1e-10. */
  readonly epsilon?: number;
}

/** Coefficients b (intercept first) minimizing Σ ρ_τ(y_i - b₀ - x_i'b). x is row-major n × p. */
export function quantileRegression(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  p: number,
  level: number,
  options: QuantileRegressionOptions = {},
): Float64Array {
  const n = y.length;
  if (x.length !== n * p) throw new Error(`quantileRegression: x has ${x.length} values for ${n} rows × ${p} columns.`);
  if (n < p + 1) throw new Error(`quantileRegression: ${n} rows cannot fit ${p} regressors and an intercept; give at least ${p + 1}.`);
  checkLevels([level], 'quantileRegression');
  const q = p + 1;
  const maxIter = options.maxIter ?? 200;
  const tol = options.tol ?? 1e-9;
  let meanAbs = 0;
  for (let i = 0; i < n; i++) meanAbs += Math.abs(y[i]!);
  const eps = options.epsilon ?? Math.max(1e-10, (1e-6 * meanAbs) / n);
  // The design with its intercept column, row-major n × q: QRA fits thousands of these.
  const design = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    design[i * q] = 1;
    for (let j = 1; j < q; j++) design[i * q + j] = x[i * p + j - 1]!;
  }
  const weights = new Float64Array(n).fill(1);
  // The residuals of the last loss evaluated: the next step's weights come from them.
  const residuals = new Float64Array(n);
  const nextResiduals = new Float64Array(n);
  let b = weightedLeastSquares(design, y, weights, n, q);
  let loss = checkLoss(design, y, b, n, q, level, residuals);
  for (let it = 0; it < maxIter; it++) {
    for (let i = 0; i < n; i++) {
      const r = residuals[i]!;
      weights[i] = (r >= 0 ? level : 1 - level) / Math.max(Math.abs(r), eps);
    }
    const next = weightedLeastSquares(design, y, weights, n, q);
    const nextLoss = checkLoss(design, y, next, n, q, level, nextResiduals);
    if (!(nextLoss <= loss)) break; // numerical floor reached
    const drop = loss - nextLoss;
    b = next;
    loss = nextLoss;
    residuals.set(nextResiduals);
    if (drop <= tol * Math.max(loss, 1e-300)) break;
  }
  return b;
}

/** Σ ρ_τ of the residuals of b, which are left in `residuals`. */
function checkLoss(design: Float64Array, y: ArrayLike<number>, b: Float64Array, n: number, q: number, level: number, residuals: Float64Array): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    let fit = 0;
    for (let j = 0; j < q; j++) fit += design[i * q + j]! * b[j]!;
    residuals[i] = y[i]! - fit;
    s += pinball(y[i]!, fit, level);
  }
  return s;
}

/** Solves (Xᵀ W X) b = Xᵀ W y by Cholesky, with a tiny ridge if the members are collinear. */
function weightedLeastSquares(design: Float64Array, y: ArrayLike<number>, w: Float64Array, n: number, q: number): Float64Array {
  const a = new Float64Array(q * q);
  const r = new Float64Array(q);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < q; j++) {
      const xj = design[i * q + j]! * w[i]!;
      r[j]! += xj * y[i]!;
      for (let k = 0; k <= j; k++) a[j * q + k]! += xj * design[i * q + k]!;
    }
  }
  let trace = 0;
  for (let j = 0; j < q; j++) trace += a[j * q + j]!;
  const L = new Float64Array(q * q);
  for (let ridge = 0; ; ridge = ridge === 0 ? 1e-12 * trace : ridge * 100) {
    let ok = true;
    for (let i = 0; i < q && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s = a[i * q + j]! + (i === j ? ridge : 0);
        for (let m = 0; m < j; m++) s -= L[i * q + m]! * L[j * q + m]!;
        if (i === j) {
          if (!(s > 0)) {
            ok = false;
            break;
          }
          L[i * q + i] = Math.sqrt(s);
        } else L[i * q + j] = s / L[j * q + j]!;
      }
    }
    if (ok) break;
    if (ridge > trace) throw new Error('quantileRegression: the weighted normal equations are singular; check the members for constant or identical columns.');
  }
  const b = new Float64Array(q);
  for (let i = 0; i < q; i++) {
    let s = r[i]!;
    for (let m = 0; m < i; m++) s -= L[i * q + m]! * b[m]!;
    b[i] = s / L[i * q + i]!;
  }
  for (let i = q - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let m = i + 1; m < q; m++) s -= L[m * q + i]! * b[m]!;
    b[i] = s / L[i * q + i]!;
  }
  return b;
}

export interface QraInput {
  /** Members' point forecasts, each days × hoursPerDay row-major. */
  readonly members: readonly ArrayLike<number>[];
  readonly actual: ArrayLike<number>;
  readonly hoursPerDay?: number;
  /** Training days before each forecast day (fewer early on: the window expands up to this); default 182. */
  readonly window?: number;
  readonly levels?: readonly number[];
  /** First day to forecast; default window. Needs at least `minTraining` days before it. */
  readonly firstDay?: number;
  /** Fewest training days; default 30. */
  readonly minTraining?: number;
  /** Refit every this many days; default 1. */
  readonly every?: number;
  readonly options?: QuantileRegressionOptions;
}

/**
 * QRA per hour of the day: for each forecast day, one quantile regression per hour and level
 * of the actual on the members, on the `window` days before; then rearranged to be monotone.
 */
export function qraQuantiles(input: QraInput): QuantileForecast & { firstDay: number } {
  const H = input.hoursPerDay ?? 24;
  const window = input.window ?? 182;
  const levels = input.levels ?? QUANTILE_LEVELS;
  const every = input.every ?? 1;
  checkLevels(levels, 'qraQuantiles');
  const K = input.members.length;
  if (K === 0) throw new Error('qraQuantiles: no members given.');
  input.members.forEach((mem, k) => {
    if (mem.length !== input.actual.length) throw new Error(`qraQuantiles: member ${k} has ${mem.length} values but there are ${input.actual.length} actuals.`);
  });
  const days = input.actual.length / H;
  const firstDay = input.firstDay ?? window;
  const minTraining = input.minTraining ?? 30;
  if (firstDay < Math.max(minTraining, K + 2))
    throw new Error(`qraQuantiles: firstDay ${firstDay} leaves fewer than ${Math.max(minTraining, K + 2)} training days; start later.`);
  const m = levels.length;
  const values = new Float64Array((days - firstDay) * H * m);
  const x = new Float64Array(window * K);
  const y = new Float64Array(window);
  const coefs: Float64Array[][] = Array.from({ length: H }, () => []);
  for (let t = firstDay; t < days; t++) {
    for (let h = 0; h < H; h++) {
      if ((t - firstDay) % every === 0) {
        const from = Math.max(0, t - window);
        const rows = t - from;
        for (let d = 0; d < rows; d++) {
          const day = from + d;
          y[d] = input.actual[day * H + h]!;
          for (let k = 0; k < K; k++) x[d * K + k] = input.members[k]![day * H + h]!;
        }
        const xs = x.subarray(0, rows * K);
        const ys = y.subarray(0, rows);
        coefs[h] = levels.map((level) => quantileRegression(xs, ys, K, level, input.options));
      }
      const off = ((t - firstDay) * H + h) * m;
      for (let l = 0; l < m; l++) {
        const b = coefs[h]![l]!;
        let v = b[0]!;
        for (let k = 0; k < K; k++) v += b[k + 1]! * input.members[k]![t * H + h]!;
        values[off + l] = v;
      }
    }
  }
  const out = { levels: [...levels], values, firstDay };
  rearrangeQuantiles(out);
  return out;
}
