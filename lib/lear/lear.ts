// LEAR, the LASSO-estimated autoregressive model of Lago, De Ridder, Vrancx & De Schutter
// (2021, "Forecasting day-ahead electricity prices: a review of state-of-the-art algorithms,
// best practices and an open-access benchmark"), over a daily panel of 24 prices and K
// exogenous series (e.g. load forecasts). For target day D and each hour h a separate LASSO
// regresses the price of (D, h) on
//   the 24 prices of D-1, D-2, D-3 and D-7,
//   the 24 values of each exogenous series on D, D-1 and D-7,
//   7 weekday dummies (Monday first),
// after the 'Invariant' transform (invariant.ts) of the prices and every non-dummy input,
// fitted on the calibration window. The penalty of each hour is chosen by AIC over the LARS
// path (lib/lasso's LassoLarsIC), then the LASSO is fitted at that penalty; forecasts are
// transformed back. A calibration window of W days ends on the last day before D and, as in
// epftoolbox, its first week only feeds the lags: W - 7 training rows.
import {
  type CriterionDefinition,
  type InformationCriterion,
  larsLassoPath,
  lassoCoordinateDescent,
  prepareDesign,
  prepareTarget,
  selectByInformationCriterion,
  toOriginalScale,
  withNormalization,
} from '../lasso/index.ts';
import { applyInvariant, fitInvariant, type InvariantScaler } from './invariant.ts';

/** Consecutive delivery days, each with 24 prices and 24 values of every exogenous series. */
export interface DailyPanel {
  /** YYYY-MM-DD, consecutive calendar days. */
  readonly days: readonly string[];
  /** days × 24, row-major. */
  readonly prices: Float64Array;
  /** Each days × 24, row-major (e.g. system and zonal load forecasts). */
  readonly exogenous: readonly Float64Array[];
}

export const PRICE_LAGS = [1, 2, 3, 7] as const;
export const EXOGENOUS_LAGS = [0, 1, 7] as const;
const DUMMIES = 7;

export interface LearSelection {
  /** Default 'aic'. */
  readonly criterion?: InformationCriterion;
  /**
   * Default 'zou2007': scikit-learn < 1.1's AIC, which epftoolbox's published LEAR forecasts
   * used and which works for windows shorter than the feature count (56 and 84 days).
   * 'gaussian' is scikit-learn ≥ 1.1's (needs W - 7 > features + 1 rows).
   */
  readonly definition?: CriterionDefinition;
  /**
   * Choose the penalty on unit-norm columns (scikit-learn < 1.2's LassoLarsIC default
   * `normalize=True`), then fit the LASSO at that alpha on the raw transformed columns, as
   * epftoolbox did. Default true. With false, selection and fit share one design.
   */
  readonly normalize?: boolean;
}

export interface LearOptions {
  readonly selection?: LearSelection;
  /** LARS and coordinate-descent iteration caps; default 2500 (epftoolbox). */
  readonly maxIter?: number;
  /** Coordinate-descent tolerance; default 1e-4 (scikit-learn's Lasso). */
  readonly tol?: number;
}

export interface LearModel {
  readonly window: number;
  /** Index in the panel of the last training day. */
  readonly lastTrainDay: number;
  readonly featureCount: number;
  /** Chosen alpha per hour. */
  readonly alphas: Float64Array;
  /** Per hour: coefficients on the transformed inputs (original, unnormalized columns). */
  readonly coef: readonly Float64Array[];
  readonly intercept: Float64Array;
  /** Per hour: the fit in its design's space, to warm-start the next recalibration. */
  readonly warmStart: readonly Float64Array[];
  readonly scalerX: InvariantScaler;
  readonly scalerY: InvariantScaler;
}

export const learFeatureCount = (exogenousSeries: number): number => 24 * PRICE_LAGS.length + 24 * EXOGENOUS_LAGS.length * exogenousSeries + DUMMIES;

/** Feature names in the model's column order, e.g. price_d1_h00, exog0_d7_h23, dow_mon. */
export function learFeatureNames(exogenousSeries: number): string[] {
  const hh = (h: number) => String(h).padStart(2, '0');
  const names: string[] = [];
  for (const lag of PRICE_LAGS) for (let h = 0; h < 24; h++) names.push(`price_d${lag}_h${hh(h)}`);
  for (let k = 0; k < exogenousSeries; k++) for (const lag of EXOGENOUS_LAGS) for (let h = 0; h < 24; h++) names.push(`exog${k}_d${lag}_h${hh(h)}`);
  names.push('dow_mon', 'dow_tue', 'dow_wed', 'dow_thu', 'dow_fri', 'dow_sat', 'dow_sun');
  return names;
}

/** Checks a panel's shape and that its days are consecutive; throws naming the first problem. */
export function checkPanel(panel: DailyPanel): void {
  const n = panel.days.length;
  if (panel.prices.length !== n * 24) throw new Error(`LEAR panel: ${panel.prices.length} prices for ${n} days; give 24 per day, row-major.`);
  panel.exogenous.forEach((e, k) => {
    if (e.length !== n * 24) throw new Error(`LEAR panel: exogenous series ${k} has ${e.length} values for ${n} days; give 24 per day.`);
  });
  for (let d = 1; d < n; d++) {
    if (dayNumber(panel.days[d]!) !== dayNumber(panel.days[d - 1]!) + 1) {
      throw new Error(`LEAR panel: day ${panel.days[d]} follows ${panel.days[d - 1]}; days must be consecutive (fill the gap first).`);
    }
  }
}

const dayNumber = (day: string): number => {
  const t = Date.parse(`${day}T00:00:00Z`);
  if (!Number.isFinite(t)) throw new Error(`LEAR panel: day "${day}" is not a YYYY-MM-DD date.`);
  return Math.round(t / 86_400_000);
};

/** Monday = 0 … Sunday = 6. */
const weekdayOf = (day: string): number => (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;

/**
 * The raw (untransformed) feature row of target day d into out[offset…]. Day d's own prices
 * are never read; its exogenous values are (they are forecasts known the day before).
 */
export function learFeatureRow(panel: DailyPanel, d: number, out: Float64Array, offset = 0): void {
  if (d < 7 || d >= panel.days.length)
    throw new Error(`LEAR: day index ${d} has no D-7 in the panel (or is past its end); the first usable target day is index 7.`);
  let c = offset;
  for (const lag of PRICE_LAGS) for (let h = 0; h < 24; h++) out[c++] = panel.prices[(d - lag) * 24 + h]!;
  for (const series of panel.exogenous) for (const lag of EXOGENOUS_LAGS) for (let h = 0; h < 24; h++) out[c++] = series[(d - lag) * 24 + h]!;
  const w = weekdayOf(panel.days[d]!);
  for (let k = 0; k < DUMMIES; k++) out[c++] = k === w ? 1 : 0;
  for (let i = offset; i < c; i++) {
    if (!Number.isFinite(out[i]!)) {
      throw new Error(
        `LEAR: input ${learFeatureNames(panel.exogenous.length)[i - offset]} of day ${panel.days[d]} is ${out[i]}; fill missing prices and exogenous values before fitting.`,
      );
    }
  }
}

/** Every day's raw feature row (rows 0-6 are NaN: no D-7), built once and sliced per window. */
export function learFeatureMatrix(panel: DailyPanel): Float64Array {
  checkPanel(panel);
  const p = learFeatureCount(panel.exogenous.length);
  const out = new Float64Array(panel.days.length * p).fill(Number.NaN);
  for (let d = 7; d < panel.days.length; d++) learFeatureRow(panel, d, out, d * p);
  return out;
}

export interface FitLearInput {
  readonly panel: DailyPanel;
  /** Index of the last day whose prices train the model (the forecast day is the next one). */
  readonly lastTrainDay: number;
  /** Calibration window in days (epftoolbox: 56, 84, 1092, 1456). */
  readonly window: number;
  /** Rows of `learFeatureMatrix(panel)`, to avoid rebuilding them each recalibration. */
  readonly features?: Float64Array;
  /** The previous fit of the same window, to warm-start coordinate descent. */
  readonly previous?: LearModel;
}

/** Fits the 24 hourly LASSOs of one calibration window. */
export function fitLear(input: FitLearInput, options: LearOptions = {}): LearModel {
  const { panel, lastTrainDay, window } = input;
  if (input.features === undefined) checkPanel(panel);
  const p = learFeatureCount(panel.exogenous.length);
  const first = lastTrainDay - window + 1;
  if (!Number.isInteger(window) || window < 9) throw new Error(`fitLear: window ${window} days is too short; give at least 9 days (a week of lags + 2 rows).`);
  if (first < 0 || lastTrainDay >= panel.days.length) {
    throw new Error(
      `fitLear: a ${window}-day window ending ${panel.days[lastTrainDay] ?? `index ${lastTrainDay}`} starts before the panel's first day ${panel.days[0]}; shorten the window or add history.`,
    );
  }
  const features = input.features ?? learFeatureMatrix(panel);
  const n = window - 7;
  const x = features.slice((first + 7) * p, (lastTrainDay + 1) * p);
  const y = panel.prices.slice((first + 7) * 24, (lastTrainDay + 1) * 24);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i]!))
      throw new Error(`fitLear: the price of ${panel.days[first + 7 + Math.floor(i / 24)]} hour ${i % 24} is ${y[i]}; fill missing prices first.`);
  }
  const nonDummy = p - DUMMIES;
  const scalerX = fitInvariant(x, n, p, nonDummy);
  applyInvariant(scalerX, x, n, p);
  const scalerY = fitInvariant(y, n, 24);
  applyInvariant(scalerY, y, n, 24);

  const sel = options.selection ?? {};
  const normalize = sel.normalize ?? true;
  const maxIter = options.maxIter ?? 2500;
  const fitDesign = prepareDesign({ data: x, rows: n, cols: p }, { normalize: false });
  const selectDesign = withNormalization(fitDesign, normalize);
  const alphas = new Float64Array(24);
  const intercept = new Float64Array(24);
  const coef: Float64Array[] = [];
  const warmStart: Float64Array[] = [];
  const yh = new Float64Array(n);
  for (let h = 0; h < 24; h++) {
    for (let i = 0; i < n; i++) yh[i] = y[i * 24 + h]!;
    const selectTarget = prepareTarget(selectDesign, yh);
    const pick = selectByInformationCriterion(selectDesign, selectTarget, {
      criterion: sel.criterion ?? 'aic',
      definition: sel.definition ?? 'zou2007',
      maxIter,
    });
    alphas[h] = pick.alpha;
    let w = pick.coef;
    let target = selectTarget;
    if (selectDesign !== fitDesign) {
      // The knot's solution is exact on its own design; on the raw columns the same alpha is
      // another problem. LARS down to that alpha solves it exactly, and measured faster than
      // coordinate descent here (raw-column penalties are small, features correlated: CD needs
      // hundreds of sweeps even warm-started; see lib/lasso/index.ts).
      target = prepareTarget(fitDesign, yh);
      const path = larsLassoPath(fitDesign, target, { maxIter: maxIter * 4, alphaMin: pick.alpha });
      w = path.coefs[path.coefs.length - 1]!;
      if (path.alphas[path.alphas.length - 1]! > pick.alpha * (1 + 1e-9)) {
        // The path stopped early (iteration cap or degenerate set): finish by coordinate descent.
        w = lassoCoordinateDescent(fitDesign, target, pick.alpha, { warmStart: w, tol: options.tol, maxIter }).coef;
      }
    }
    const o = toOriginalScale(fitDesign, target, w);
    coef.push(o.coef);
    intercept[h] = o.intercept;
    warmStart.push(w);
  }
  return { window, lastTrainDay, featureCount: p, alphas, coef, intercept, warmStart, scalerX, scalerY };
}

/** The 24 price forecasts of panel day d (its prices are not read). */
export function predictLear(model: LearModel, panel: DailyPanel, d: number, features?: Float64Array): Float64Array {
  const p = model.featureCount;
  const row = new Float64Array(p);
  if (features) row.set(features.subarray(d * p, (d + 1) * p));
  else learFeatureRow(panel, d, row);
  applyInvariant(model.scalerX, row, 1, p);
  const out = new Float64Array(24);
  for (let h = 0; h < 24; h++) {
    let z = model.intercept[h]!;
    const c = model.coef[h]!;
    for (let j = 0; j < p; j++) z += c[j]! * row[j]!;
    out[h] = Math.sinh(z) * model.scalerY.scale[h]! + model.scalerY.median[h]!;
  }
  return out;
}
