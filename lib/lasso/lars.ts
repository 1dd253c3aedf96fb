// The LASSO regularization path by least-angle regression with the lasso modification
// (Efron et al. 2004), in Gram form: the exact piecewise-linear path from alpha_max down to
// alpha = 0 (or until every feature is active), knot by knot. The AIC/BIC choice of
// scikit-learn's `LassoLarsIC` is made over these knots (information-criterion.ts).
// The active set's Cholesky factor grows by one row per added feature and loses one by Givens
// rotations per dropped feature, both O(k²).
import type { Design, Target } from './design.ts';

export interface LarsPath {
  /** alpha at each knot, decreasing (the (1/2n)-scaled penalty, as scikit-learn's `alphas_`). */
  readonly alphas: Float64Array;
  /** Coefficients at each knot in the design's (centered, scaled) space. */
  readonly coefs: Float64Array[];
  /**
   * ||y - Xw||² at each knot, by the LARS identity X'r = n·alpha·sign(w) on the active set:
   * RSS = y'y - w'X'y - n·alpha·||w||₁ (O(p) per knot instead of O(k²)).
   */
  readonly rss: Float64Array;
  readonly steps: number;
  /** Features that left the active set along the way (the lasso modification). */
  readonly drops: number;
}

export interface LarsOptions {
  /** Maximum steps; default 500 (scikit-learn's `LassoLarsIC` default; epftoolbox passes 2500). */
  readonly maxIter?: number;
  /**
   * Stop at this alpha, interpolating the last segment (the path is linear between knots), so
   * the last entry is the exact LASSO solution at alphaMin. Default 0 (the whole path).
   */
  readonly alphaMin?: number;
}

const TINY32 = 1.1754943508222875e-38;
const EPS = 2.220446049250313e-16;
const EQUALITY_TOL = 1.1920928955078125e-7;

export function larsLassoPath(design: Design, target: Target, options: LarsOptions = {}): LarsPath {
  const { n, p, gram } = design;
  const maxIter = options.maxIter ?? 500;
  const alphaMin = options.alphaMin ?? 0;
  const cov = Float64Array.from(target.xty);
  const inactive = new Uint8Array(p).fill(1);
  const coef = new Float64Array(p);
  const active: number[] = [];
  const signs: number[] = [];
  const maxK = Math.min(n, p) + 1;
  const L = new Float64Array(maxK * maxK);
  const alphas: number[] = [];
  const coefs: Float64Array[] = [];
  const rss: number[] = [];
  let steps = 0;
  let drops = 0;
  let drop = false;
  let prevAlpha = Number.POSITIVE_INFINITY;
  const ls = new Float64Array(maxK);
  const a = new Float64Array(p);
  const inactiveList = new Int32Array(p);
  const fw = new Float64Array(maxK);
  let fwValid = 0;
  for (;;) {
    let C = 0;
    let cIdx = -1;
    for (let j = 0; j < p; j++) {
      if (inactive[j] && Math.abs(cov[j]!) > C) {
        C = Math.abs(cov[j]!);
        cIdx = j;
      }
    }
    let alpha = C / n;
    if (alphaMin > 0 && alpha <= alphaMin && alphas.length > 0) {
      // Between the previous knot and this point the path is linear: interpolate at alphaMin.
      const prev = coefs[coefs.length - 1]!;
      const prevA = alphas[alphas.length - 1]!;
      const t = prevA === alpha ? 1 : (prevA - alphaMin) / (prevA - alpha);
      for (let j = 0; j < p; j++) coef[j] = prev[j]! + t * (coef[j]! - prev[j]!);
      alpha = alphaMin;
      C = alpha * n;
    }
    alphas.push(alpha);
    coefs.push(Float64Array.from(coef));
    let wq = 0;
    let l1 = 0;
    for (let j = 0; j < p; j++) {
      wq += coef[j]! * target.xty[j]!;
      l1 += Math.abs(coef[j]!);
    }
    rss.push(Math.max(0, target.yty - wq - C * l1));
    if (alpha <= EQUALITY_TOL || alpha <= alphaMin || cIdx < 0) break;
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
        rss.pop();
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
    // Forward solve L w = s: row i of w depends on rows 0..i of L and s only, and an added
    // feature appends a row, so the rows solved before are kept and only the new ones solved
    // (O(k) a step instead of O(k²)); a drop rewrites L from the dropped row on (fwValid).
    for (let i = fwValid; i < k; i++) {
      let s = signs[i]!;
      for (let m = 0; m < i; m++) s -= L[i * maxK + m]! * fw[m]!;
      fw[i] = s / L[i * maxK + i]!;
    }
    fwValid = k;
    for (let i = 0; i < k; i++) ls[i] = fw[i]!;
    // Lᵀ x = b by columns of Lᵀ (rows of L), so the inner loop reads L contiguously.
    for (let i = k - 1; i >= 0; i--) {
      const xi = ls[i]! / L[i * maxK + i]!;
      ls[i] = xi;
      const row = i * maxK;
      for (let m = 0; m < i; m++) ls[m]! -= L[row + m]! * xi;
    }
    let sum = 0;
    for (let i = 0; i < k; i++) sum += ls[i]! * signs[i]!;
    const AA = 1 / Math.sqrt(Math.max(sum, EPS));
    for (let i = 0; i < k; i++) ls[i]! *= AA;
    let gamma = C / AA;
    // a = G[:, A] ls, for the inactive features only: nothing reads it for an active one (the
    // step length and the correlation update are over inactive features), so k (p - k)
    // products per step instead of k p. Accumulated over the active rows of G in the same
    // order as the full product, so each a[j] is the same number to the bit.
    let nIn = 0;
    for (let j = 0; j < p; j++) {
      if (inactive[j]) {
        inactiveList[nIn++] = j;
        a[j] = 0;
      }
    }
    for (let i = 0; i < k; i++) {
      const row = active[i]! * p;
      const li = ls[i]!;
      for (let t = 0; t < nIn; t++) {
        const j = inactiveList[t]!;
        a[j]! += li * gram[row + j]!;
      }
    }
    for (let t = 0; t < nIn; t++) {
      const j = inactiveList[t]!;
      const s = a[j]!;
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
    drops += dropping.length;
    steps++;
    for (let i = 0; i < k; i++) coef[active[i]!]! += gamma * ls[i]!;
    for (let t = 0; t < nIn; t++) {
      const j = inactiveList[t]!;
      cov[j]! -= gamma * a[j]!;
    }
    if (drop) {
      const dropped: number[] = [];
      for (let d = dropping.length - 1; d >= 0; d--) {
        const i = dropping[d]!;
        const j = active[i]!;
        coef[j] = 0;
        choleskyDelete(L, maxK, active.length, i);
        fwValid = Math.min(fwValid, i);
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
    }
    prevAlpha = alpha;
  }
  return { alphas: Float64Array.from(alphas), coefs, rss: Float64Array.from(rss), steps, drops };
}

/**
 * Removes row and column i from the k × k Cholesky factor L (lower, stride maxK) in place:
 * deleting row i leaves a lower-Hessenberg block that Givens rotations on column pairs make
 * triangular again, O(k²) instead of refactoring.
 */
function choleskyDelete(L: Float64Array, maxK: number, k: number, i: number): void {
  for (let r = i; r < k - 1; r++) for (let c = 0; c <= r + 1; c++) L[r * maxK + c] = L[(r + 1) * maxK + c]!;
  for (let c = 0; c < k; c++) L[(k - 1) * maxK + c] = 0;
  for (let c = i; c < k - 1; c++) {
    const a = L[c * maxK + c]!;
    const b = L[c * maxK + c + 1]!;
    const r = Math.hypot(a, b);
    if (r === 0) continue;
    const cs = a / r;
    const sn = b / r;
    for (let m = c; m < k - 1; m++) {
      const x = L[m * maxK + c]!;
      const y = L[m * maxK + c + 1]!;
      L[m * maxK + c] = cs * x + sn * y;
      L[m * maxK + c + 1] = -sn * x + cs * y;
    }
    L[c * maxK + c + 1] = 0;
  }
  // Keep the diagonal positive (a rotation may flip a sign).
  for (let c = i; c < k - 1; c++) {
    if (L[c * maxK + c]! < 0) for (let m = c; m < k - 1; m++) L[m * maxK + c] = -L[m * maxK + c]!;
  }
}
