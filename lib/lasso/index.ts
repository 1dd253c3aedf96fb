// LASSO for this project: coordinate descent (scikit-learn's `Lasso`), the LARS path and the
// AIC/BIC choice of its penalty (scikit-learn's `LassoLarsIC`), all on a Gram matrix prepared
// once per design, with warm starts along a path. A general library: no PJM knowledge.
//
//   const design = prepareDesign({ data, rows, cols });            // center (+ normalize), X'X
//   const target = prepareTarget(design, y);                       // X'y for one response
//   const pick = selectByInformationCriterion(design, target, { criterion: 'aic' });
//   const fit = lassoCoordinateDescent(design, target, pick.alpha, { warmStart: pick.coef });
//   const { coef, intercept } = toOriginalScale(design, target, fit.coef);
//
// Why our own solver rather than XGBoost's gblinear (updater coord_descent, alpha = L1,
// lambda = 0, eta 1: the same estimator, and its alpha is on the same (1/2n) scale), measured by
// bench/lasso.ts (2026-12-01, 2 shared cores under load ~10, so compare ratios):
//   fixture 120×30 at alpha 0.1 vs sklearn Lasso: ours CD tol 1e-8 1.8 ms, |Δcoef| 9e-9; ours
//     LARS to alpha 1.0 ms, 1e-11; gblinear 1000 rounds 95 ms (warm worker), 2e-7 (float32).
//   fixture 40×60 (n < p): ours LARS 11 ms, 3e-10; CD tol 1e-8 5 ms, 2e-6; gblinear 100
//     rounds 35 ms, 0.45 (not converged); 1000 rounds 75 ms, 5e-6.
//   LEAR hour 12, 1449×247 (the 1456-day window): ours LARS to the AIC alpha 1 ms, exact; full
//     LARS path + AIC 57 ms; CD tol 1e-4 33 ms, |Δcoef| 1e-2; gblinear 1000 rounds 2140 ms and
//     still 0.12 off (correlated price lags: cyclic CD in float32 converges slowly).
// So gblinear is 30-2000× slower, float32-limited, and has no path or AIC: LARS (exact knots,
// what LassoLarsIC selects over) is kept for selection and for fits at a chosen alpha, and
// coordinate descent (scikit-learn's Lasso, warm starts) for fits on a grid of alphas.
// The LARS step computes G[:, A]·u for the inactive features only and keeps its forward solve
// across added features (2026-12-02): the same path to the bit, and the 24 full paths of the
// 1456-day window take 1.5 s of CPU instead of 2.3 s (1092 days: 1.6 vs 2.4; 56/84 days, where
// n < p, unchanged), measured by CPU time on 2 shared cores under load ~8.
export { checkMatrix, gramOf, prepareDesign, prepareTarget, residualSumOfSquares, toOriginalScale, withNormalization } from './design.ts';
export type { Design, DesignOptions, Matrix, Target } from './design.ts';
export { alphaGrid, alphaMax, lassoCoordinateDescent, lassoPath } from './coordinate-descent.ts';
export type { CoordinateDescentOptions, CoordinateDescentResult } from './coordinate-descent.ts';
export { larsLassoPath } from './lars.ts';
export type { LarsOptions, LarsPath } from './lars.ts';
export { criterionAlongPath, olsNoiseVariance, selectByInformationCriterion } from './information-criterion.ts';
export type { CriterionDefinition, InformationCriterion, Selection, SelectionOptions } from './information-criterion.ts';
