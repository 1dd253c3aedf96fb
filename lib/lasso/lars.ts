// The LASSO regularization path by least-angle regression with the lasso modification
// (Efron et al. 2004), in Gram form: the exact piecewise-linear path from alpha_max down to
// alpha = 0 (or until every feature is active), knot by knot. The AIC/BIC choice of
// scikit-learn's `LassoLarsIC` is made over these knots (information-criterion.ts).
// The active set's Cholesky factor grows by one row per added feature (O(k²)); a dropped
// feature (rare) rebuilds it.
import type { Design, Target } from './design.ts';

export interface LarsPath {
  /** alpha at each knot, decreasing (the (1/2n)-scaled penalty, as scikit-learn's `alphas_`). */
  readonly alphas: Float64Array;
  /** Coefficients at each knot in the design's (centered, scaled) space. */
  readonly coefs: Float64Array[];
  readonly steps: number;
}

export interface LarsOptions {
  /** Maximum steps; default 500 (scikit-learn's `LassoLarsIC` default; epftoolbox passes 2500). */
  readonly maxIter?: number;
}

const TINY32 = 1.1754943508222875e-38;
const EPS = 2.220446049250313e-16;
const EQUALITY_TOL = 1.1920928955078125e-7;

export function larsLassoPath(design: Design, target: Target, options: LarsOptions = {}): LarsPath {
  const { n, p, gram } = design;
  const maxIter = options.maxIter ?? 500;
  const cov = Float64Array.from(target.xty);
  const inactive = new Uint8Array(p).fill(1);
  const coef = new Float64Array(p);
  const active: number[] = [];
  const signs: number[] = [];
  const maxK = Math.min(n, p) + 1;
  let L: Float64Array = new Float64Array(maxK * maxK);
  const alphas: number[] = [];
  const coefs: Float64Array[] = [];
  let steps = 0;
  let drop = false;
  let prevAlpha = Number.POSITIVE_INFINITY;
  const ls = new Float64Array(maxK);
  const a = new Float64Array(p);
  for (;;) {
    let C = 0;
    let cIdx = -1;
    for (let j = 0; j < p; j++) {
      if (inactive[j] && Math.abs(cov[j]!) > C) {
        C = Math.abs(cov[j]!);
        cIdx = j;
      }
    }
    const alpha = C / n;
    alphas.push(alpha);
    coefs.push(Float64Array.from(coef));
    if (alpha <= EQUALITY_TOL || cIdx < 0) break;
    if (steps >= maxIter || active.length >= p) break;
    if (!drop) {
      const k = active.length;
      // New row of the Cholesky factor: solve L z = G[active, cIdx].
      for (let i = 0; i < k; i++) {
        let s = gram[cIdx * p + active[i]!]!;
        for (let m = 0; m < i; m++) s -= L[i * maxK + m]! * L[k * maxK + m]!;
        L[k * maxK + i] = s / L[i * maxK + i]!;
      }
      let v = 0;
      for (let m = 0; m < k; m++) v += L[k * maxK + m]! ** 2;
      const diag = Math.max(Math.sqrt(Math.abs(gram[cIdx * p + cIdx]! - v)), EPS);
      if (diag < 1e-7) {
        // Degenerate (collinear with the active set): never pick it again; redo this knot.
        cov[cIdx] = 0;
        inactive[cIdx] = 0;
        alphas.pop();
        coefs.pop();
        continue;
      }
      L[k * maxK + k] = diag;
      active.push(cIdx);
      signs.push(Math.sign(cov[cIdx]!));
      inactive[cIdx] = 0;
    }
    if (steps > 0 && prevAlpha < alpha) break; // alpha no longer decreasing: residuals are noise
    const k = active.length;
    // Equiangular direction: (G_A)⁻¹ s, scaled so that every active correlation moves at rate AA.
    for (let i = 0; i < k; i++) {
      let s = signs[i]!;
      for (let m = 0; m < i; m++) s -= L[i * maxK + m]! * ls[m]!;
      ls[i] = s / L[i * maxK + i]!;
    }
    for (let i = k - 1; i >= 0; i--) {
      let s = ls[i]!;
      for (let m = i + 1; m < k; m++) s -= L[m * maxK + i]! * ls[m]!;
      ls[i] = s / L[i * maxK + i]!;
    }
    let sum = 0;
    for (let i = 0; i < k; i++) sum += ls[i]! * signs[i]!;
    const AA = 1 / Math.sqrt(Math.max(sum, EPS));
    for (let i = 0; i < k; i++) ls[i]! *= AA;
    let gamma = C / AA;
    for (let j = 0; j < p; j++) {
      if (!inactive[j]) continue;
      let s = 0;
      for (let i = 0; i < k; i++) s += gram[j * p + active[i]!]! * ls[i]!;
      a[j] = s;
      const g1 = (C - cov[j]!) / (AA - s + TINY32);
      const g2 = (C + cov[j]!) / (AA + s + TINY32);
      if (g1 > 0 && g1 < gamma) gamma = g1;
      if (g2 > 0 && g2 < gamma) gamma = g2;
    }
    // Lasso modification: a coefficient reaching zero before the next knot leaves the active set.
    let zPos = Number.POSITIVE_INFINITY;
    for (let i = 0; i < k; i++) {
      const z = -coef[active[i]!]! / (ls[i]! + TINY32);
      if (z > 0 && z < zPos) zPos = z;
    }
    const dropping: number[] = [];
    if (zPos < gamma) {
      gamma = zPos;
      for (let i = 0; i < k; i++) if (-coef[active[i]!]! / (ls[i]! + TINY32) === zPos) dropping.push(i);
    }
    drop = dropping.length > 0;
    steps++;
    for (let i = 0; i < k; i++) coef[active[i]!]! += gamma * ls[i]!;
    for (let j = 0; j < p; j++) if (inactive[j]) cov[j]! -= gamma * a[j]!;
    if (drop) {
      const dropped: number[] = [];
      for (let d = dropping.length - 1; d >= 0; d--) {
        const i = dropping[d]!;
        const j = active[i]!;
        coef[j] = 0;
        active.splice(i, 1);
        signs.splice(i, 1);
        inactive[j] = 1;
        dropped.push(j);
      }
      // The dropped features' correlations with the current residual.
      for (const j of dropped) {
        let s = target.xty[j]!;
        for (const m of active) s -= gram[j * p + m]! * coef[m]!;
        cov[j] = s;
      }
      L = choleskyOfActive(gram, p, active, maxK);
    }
    prevAlpha = alpha;
  }
  return { alphas: Float64Array.from(alphas), coefs, steps };
}

function choleskyOfActive(gram: Float64Array, p: number, active: number[], maxK: number): Float64Array {
  const L = new Float64Array(maxK * maxK);
  const k = active.length;
  for (let i = 0; i < k; i++) {
    for (let jj = 0; jj <= i; jj++) {
      let s = gram[active[i]! * p + active[jj]!]!;
      for (let m = 0; m < jj; m++) s -= L[i * maxK + m]! * L[jj * maxK + m]!;
      L[i * maxK + jj] = i === jj ? Math.sqrt(Math.max(s, EPS)) : s / L[jj * maxK + jj]!;
    }
  }
  return L;
}
