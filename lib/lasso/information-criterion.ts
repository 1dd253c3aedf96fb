// Choosing the LASSO penalty by an information criterion over the LARS path, as
// scikit-learn's `LassoLarsIC`: the knot with the smallest AIC (or BIC) wins.
// Two definitions of the criterion, because scikit-learn changed it in 1.1:
//   'gaussian' (scikit-learn ≥ 1.1): n log(2π σ²) + RSS/σ² + K df, with σ² from the OLS fit on
//              every feature (so it needs n > p + intercept), or a given noise variance;
//   'zou2007'  (scikit-learn ≤ 1.0, what epftoolbox's published LEAR forecasts ran on):
//              RSS / var(y) + K df (Zou, Hastie & Tibshirani 2007, eqs. 2.15-16).
// K is 2 for AIC and log n for BIC; df is the number of non-zero coefficients.
import type { Design, Target } from './design.ts';
import { larsLassoPath, type LarsOptions, type LarsPath } from './lars.ts';

export type InformationCriterion = 'aic' | 'bic';
export type CriterionDefinition = 'gaussian' | 'zou2007';

export interface SelectionOptions extends LarsOptions {
  /** Default 'aic'. */
  readonly criterion?: InformationCriterion;
  /** Default 'gaussian' (scikit-learn 1.2's `LassoLarsIC`). */
  readonly definition?: CriterionDefinition;
  /** Known noise variance for 'gaussian' (scikit-learn's `noise_variance`); default estimated by OLS. */
  readonly noiseVariance?: number;
}

export interface Selection {
  /** The chosen alpha (a knot of the LARS path). */
  readonly alpha: number;
  readonly index: number;
  /** Coefficients at the chosen knot, in the design's (centered, scaled) space. */
  readonly coef: Float64Array;
  /** The criterion at every knot. */
  readonly criterion: Float64Array;
  readonly path: LarsPath;
}

/** The criterion at each knot of `path`. */
export function criterionAlongPath(design: Design, target: Target, path: LarsPath, options: SelectionOptions = {}): Float64Array {
  const { n } = design;
  const factor = (options.criterion ?? 'aic') === 'aic' ? 2 : Math.log(n);
  const definition = options.definition ?? 'gaussian';
  const out = new Float64Array(path.coefs.length);
  let sigma2 = 0;
  if (definition === 'gaussian') sigma2 = options.noiseVariance ?? olsNoiseVariance(design, target);
  const varY = target.yty / n;
  for (let k = 0; k < path.coefs.length; k++) {
    const w = path.coefs[k]!;
    let df = 0;
    for (const v of w) if (Math.abs(v) > 2.220446049250313e-16) df++;
    const rss = path.rss[k]!;
    out[k] = definition === 'gaussian' ? n * Math.log(2 * Math.PI * sigma2) + rss / sigma2 + factor * df : rss / (varY + 2.220446049250313e-16) + factor * df;
  }
  return out;
}

/** LassoLarsIC: the LARS path, the criterion at each knot, and the minimizing knot. */
export function selectByInformationCriterion(design: Design, target: Target, options: SelectionOptions = {}): Selection {
  const path = larsLassoPath(design, target, options);
  const criterion = criterionAlongPath(design, target, path, options);
  let index = 0;
  for (let k = 1; k < criterion.length; k++) if (criterion[k]! < criterion[index]!) index = k;
  return { alpha: path.alphas[index]!, index, coef: path.coefs[index]!, criterion, path };
}

/** σ² = RSS_OLS / (n - p - intercept), the OLS residual variance on every feature. */
export function olsNoiseVariance(design: Design, target: Target): number {
  const { n, p, gram } = design;
  const dof = n - p - (design.fitIntercept ? 1 : 0);
  if (dof <= 0) {
    throw new Error(
      `olsNoiseVariance: ${n} rows for ${p} features${design.fitIntercept ? ' and an intercept' : ''} leave no degrees of freedom to estimate the noise variance; use definition 'zou2007' or pass noiseVariance.`,
    );
  }
  // Cholesky of G that skips columns dependent on earlier ones (pivot below 1e-10 of their
  // own norm): the projection of y on X's column space, hence the RSS, is the same as the
  // minimum-norm least squares scikit-learn's LinearRegression computes. Weekday dummies
  // next to an intercept are such a case.
  const L = new Float64Array(p * p);
  const kept = new Uint8Array(p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      if (!kept[j] && j < i) continue;
      let s = gram[i * p + j]!;
      for (let m = 0; m < j; m++) if (kept[m]) s -= L[i * p + m]! * L[j * p + m]!;
      if (i === j) {
        if (s > 1e-10 * gram[i * p + i]! && s > 0) {
          L[i * p + i] = Math.sqrt(s);
          kept[i] = 1;
        }
      } else L[i * p + j] = s / L[j * p + j]!;
    }
  }
  const w = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    if (!kept[i]) continue;
    let s = target.xty[i]!;
    for (let m = 0; m < i; m++) if (kept[m]) s -= L[i * p + m]! * w[m]!;
    w[i] = s / L[i * p + i]!;
  }
  for (let i = p - 1; i >= 0; i--) {
    if (!kept[i]) continue;
    let s = w[i]!;
    for (let m = i + 1; m < p; m++) if (kept[m]) s -= L[m * p + i]! * w[m]!;
    w[i] = s / L[i * p + i]!;
  }
  // RSS = y'y - w'X'y at the OLS optimum.
  let wq = 0;
  for (let i = 0; i < p; i++) wq += w[i]! * target.xty[i]!;
  return Math.max(target.yty - wq, 0) / dof;
}
