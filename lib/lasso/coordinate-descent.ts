// Coordinate-descent LASSO on a prepared design: minimizes
//   (1 / 2n) ||y - X w||² + alpha ||w||₁
// (scikit-learn's `Lasso` objective) by cyclic coordinate updates in Gram form, stopping on
// scikit-learn's rule: the largest coefficient change is below tol × the largest coefficient,
// then the duality gap is below tol × y'y. Warm starts make a path of alphas cheap.
import type { Design, Target } from './design.ts';

export interface CoordinateDescentOptions {
  /** Start from these coefficients (the design's scaled space), e.g. the previous alpha's solution. */
  readonly warmStart?: Float64Array;
  /** Default 1e-4, as scikit-learn. */
  readonly tol?: number;
  /** Maximum full sweeps; default 1000, as scikit-learn. */
  readonly maxIter?: number;
}

export interface CoordinateDescentResult {
  /** Coefficients in the design's (centered, scaled) space. */
  readonly coef: Float64Array;
  readonly sweeps: number;
  /** Duality gap at the end, in the n-scaled objective (compare with tol × y'y). */
  readonly dualityGap: number;
  readonly converged: boolean;
}

export function lassoCoordinateDescent(design: Design, target: Target, alpha: number, options: CoordinateDescentOptions = {}): CoordinateDescentResult {
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new Error(`lassoCoordinateDescent: alpha is ${alpha}; give a finite alpha ≥ 0.`);
  const { p, n, gram } = design;
  const tol = options.tol ?? 1e-4;
  const maxIter = options.maxIter ?? 1000;
  const w = new Float64Array(p);
  if (options.warmStart) {
    if (options.warmStart.length !== p) throw new Error(`lassoCoordinateDescent: warmStart has ${options.warmStart.length} values for ${p} features.`);
    w.set(options.warmStart);
  }
  // h = G w, kept up to date as coordinates move.
  const h = new Float64Array(p);
  for (let k = 0; k < p; k++) {
    const wk = w[k]!;
    if (wk === 0) continue;
    for (let j = 0; j < p; j++) h[j]! += gram[k * p + j]! * wk;
  }
  const l1 = alpha * n;
  const tolGap = tol * target.yty;
  let gap = Number.POSITIVE_INFINITY;
  let sweeps = 0;
  let converged = false;
  for (; sweeps < maxIter; ) {
    sweeps++;
    let wMax = 0;
    let dMax = 0;
    for (let j = 0; j < p; j++) {
      const gjj = gram[j * p + j]!;
      if (gjj === 0) continue;
      const old = w[j]!;
      const rho = target.xty[j]! - h[j]! + gjj * old;
      const next = rho > l1 ? (rho - l1) / gjj : rho < -l1 ? (rho + l1) / gjj : 0;
      if (next !== old) {
        const d = next - old;
        w[j] = next;
        const gj = j * p;
        for (let k = 0; k < p; k++) h[k]! += d * gram[gj + k]!;
        if (Math.abs(d) > dMax) dMax = Math.abs(d);
      }
      if (Math.abs(next) > wMax) wMax = Math.abs(next);
    }
    if (wMax === 0 || dMax / wMax < tol || sweeps === maxIter) {
      gap = dualityGap(target, w, h, l1);
      if (gap < tolGap) {
        converged = true;
        break;
      }
    }
  }
  return { coef: w, sweeps, dualityGap: gap, converged };
}

/** The duality gap of the n-scaled problem ½||y - Xw||² + l1 ||w||₁, with h = G w. */
function dualityGap(target: Target, w: Float64Array, h: Float64Array, l1: number): number {
  let wq = 0;
  let wh = 0;
  let dualNorm = 0;
  let l1Norm = 0;
  for (let j = 0; j < w.length; j++) {
    wq += w[j]! * target.xty[j]!;
    wh += w[j]! * h[j]!;
    const xtr = Math.abs(target.xty[j]! - h[j]!);
    if (xtr > dualNorm) dualNorm = xtr;
    l1Norm += Math.abs(w[j]!);
  }
  const rNorm2 = Math.max(0, target.yty + wh - 2 * wq);
  let gap: number;
  let c: number;
  if (dualNorm > l1) {
    c = l1 / dualNorm;
    gap = 0.5 * rNorm2 * (1 + c * c);
  } else {
    c = 1;
    gap = rNorm2;
  }
  return gap + l1 * l1Norm - c * (target.yty - wq);
}

/** The largest useful alpha (every coefficient zero at and above it): max |X'y| / n. */
export function alphaMax(design: Design, target: Target): number {
  let m = 0;
  for (const v of target.xty) if (Math.abs(v) > m) m = Math.abs(v);
  return m / design.n;
}

/** scikit-learn's default grid: `count` alphas from alphaMax down to eps × alphaMax, log-spaced. */
export function alphaGrid(design: Design, target: Target, count = 100, eps = 1e-3): Float64Array {
  const top = alphaMax(design, target);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = top * eps ** (count === 1 ? 0 : i / (count - 1));
  return out;
}

/** Solutions along decreasing alphas, each warm-started from the previous one. */
export function lassoPath(
  design: Design,
  target: Target,
  alphas: ArrayLike<number>,
  options: Omit<CoordinateDescentOptions, 'warmStart'> = {},
): Float64Array[] {
  const out: Float64Array[] = [];
  let warm: Float64Array | undefined;
  for (let i = 0; i < alphas.length; i++) {
    const r = lassoCoordinateDescent(design, target, alphas[i]!, { ...options, warmStart: warm });
    out.push(r.coef);
    warm = r.coef;
  }
  return out;
}
