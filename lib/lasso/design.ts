// A least-squares design prepared once and shared by many targets: the columns centered
// (when an intercept is fitted) and optionally scaled to unit L2 norm, as scikit-learn's
// `_preprocess_data` does, with their Gram matrix X'X. Every solver in this module works on
// the Gram matrix, so a design of n rows costs O(n p²) once and each target O(n p) more.

/** A dense row-major matrix. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

export interface DesignOptions {
  /** Fit an unpenalized intercept (center X and y), as scikit-learn's default. Default true. */
  readonly fitIntercept?: boolean;
  /**
   * Divide each centered column by its L2 norm before solving (scikit-learn's old
   * `normalize=True`, the default of `LassoLarsIC` before 1.2). Coefficients are
   * reported on the original scale either way. Default false.
   */
  readonly normalize?: boolean;
}

export interface Design {
  readonly n: number;
  readonly p: number;
  readonly fitIntercept: boolean;
  readonly normalize: boolean;
  /** Column means (zeros without an intercept). */
  readonly xMean: Float64Array;
  /** Column scales (the centered column norms when normalizing, else ones; 1 for a constant column). */
  readonly xScale: Float64Array;
  /** The centered, scaled X, row-major. */
  readonly x: Float64Array;
  /** p × p Gram matrix of `x`. */
  readonly gram: Float64Array;
}

/** One response prepared against a design: X'y, y'y of the centered y, and its mean. */
export interface Target {
  readonly yMean: number;
  readonly xty: Float64Array;
  readonly yty: number;
}

export function checkMatrix(m: Matrix, what: string): void {
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 1 || m.cols < 1) {
    throw new Error(`${what}: shape ${m.rows} × ${m.cols} is not valid; rows and cols must be positive integers.`);
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new Error(`${what}: ${m.data.length} values for ${m.rows} × ${m.cols}; pass exactly rows × cols values, row-major.`);
  }
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i]!)) {
      throw new Error(
        `${what}: value at row ${Math.floor(i / m.cols)}, column ${i % m.cols} is ${m.data[i]}; the solver needs finite numbers (impute or drop the row).`,
      );
    }
  }
}

/** Centers (and optionally normalizes) X and computes its Gram matrix. */
export function prepareDesign(x: Matrix, options: DesignOptions = {}): Design {
  checkMatrix(x, 'prepareDesign');
  const { rows: n, cols: p } = x;
  const fitIntercept = options.fitIntercept ?? true;
  const normalize = options.normalize ?? false;
  const xMean = new Float64Array(p);
  if (fitIntercept) {
    for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) xMean[j]! += x.data[i * p + j]!;
    for (let j = 0; j < p; j++) xMean[j]! /= n;
  }
  const xc = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) xc[i * p + j] = x.data[i * p + j]! - xMean[j]!;
  const xScale = new Float64Array(p).fill(1);
  if (normalize) {
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += xc[i * p + j]! ** 2;
      // A constant column keeps scale 1 (scikit-learn does the same), so it stays all zeros.
      xScale[j] = s > 0 ? Math.sqrt(s) : 1;
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) xc[i * p + j]! /= xScale[j]!;
  }
  return { n, p, fitIntercept, normalize, xMean, xScale, x: xc, gram: gramOf(xc, n, p) };
}

/** X'X of a row-major n × p matrix (upper triangle accumulated row by row, then mirrored). */
export function gramOf(x: Float64Array, n: number, p: number): Float64Array {
  const g = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    const off = i * p;
    for (let j = 0; j < p; j++) {
      const v = x[off + j]!;
      if (v === 0) continue;
      const gj = j * p;
      for (let k = j; k < p; k++) g[gj + k]! += v * x[off + k]!;
    }
  }
  for (let j = 0; j < p; j++) for (let k = j + 1; k < p; k++) g[k * p + j] = g[j * p + k]!;
  return g;
}

/** Prepares one response y against `design`. */
export function prepareTarget(design: Design, y: ArrayLike<number>): Target {
  const { n, p, x } = design;
  if (y.length !== n) throw new Error(`prepareTarget: y has ${y.length} values but the design has ${n} rows; give one response per row.`);
  let yMean = 0;
  if (design.fitIntercept) {
    for (let i = 0; i < n; i++) yMean += y[i]!;
    yMean /= n;
  }
  const xty = new Float64Array(p);
  let yty = 0;
  for (let i = 0; i < n; i++) {
    const yi = y[i]! - yMean;
    if (!Number.isFinite(yi)) throw new Error(`prepareTarget: y[${i}] is ${y[i]}; responses must be finite numbers.`);
    yty += yi * yi;
    const off = i * p;
    for (let j = 0; j < p; j++) xty[j]! += x[off + j]! * yi;
  }
  return { yMean, xty, yty };
}

/** A solution in the design's (centered, scaled) space, reported on X's original scale. */
export function toOriginalScale(design: Design, target: Target, coef: Float64Array): { coef: Float64Array; intercept: number } {
  const out = new Float64Array(design.p);
  let intercept = target.yMean;
  for (let j = 0; j < design.p; j++) {
    out[j] = coef[j]! / design.xScale[j]!;
    intercept -= design.xMean[j]! * out[j]!;
  }
  return { coef: out, intercept: design.fitIntercept ? intercept : 0 };
}

/** ||y - Xw||² of the centered problem from the Gram form, touching only w's non-zeros. */
export function residualSumOfSquares(design: Design, target: Target, w: Float64Array): number {
  const { p, gram } = design;
  const nz: number[] = [];
  for (let j = 0; j < p; j++) if (w[j] !== 0) nz.push(j);
  let quad = 0;
  let lin = 0;
  for (const j of nz) {
    lin += w[j]! * target.xty[j]!;
    let row = 0;
    for (const k of nz) row += gram[j * p + k]! * w[k]!;
    quad += w[j]! * row;
  }
  return Math.max(0, target.yty - 2 * lin + quad);
}

/**
 * The same design with or without unit-norm columns, derived from `design` without another
 * pass over the rows (G' = D⁻¹ G D⁻¹). Used when the penalty is chosen on normalized columns
 * but fitted on raw ones, as epftoolbox's LEAR did with scikit-learn < 1.2.
 */
export function withNormalization(design: Design, normalize: boolean): Design {
  if (design.normalize === normalize) return design;
  const { n, p } = design;
  const xScale = new Float64Array(p).fill(1);
  if (normalize) {
    for (let j = 0; j < p; j++) {
      const s = Math.sqrt(design.gram[j * p + j]! * design.xScale[j]! ** 2);
      xScale[j] = s > 0 ? s : 1;
    }
  }
  const ratio = new Float64Array(p);
  for (let j = 0; j < p; j++) ratio[j] = design.xScale[j]! / xScale[j]!;
  const x = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) x[i * p + j] = design.x[i * p + j]! * ratio[j]!;
  const gram = new Float64Array(p * p);
  for (let j = 0; j < p; j++) for (let k = 0; k < p; k++) gram[j * p + k] = design.gram[j * p + k]! * ratio[j]! * ratio[k]!;
  return { ...design, normalize, xScale, x, gram };
}
