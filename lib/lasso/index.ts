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
// Why our own solver rather than XGBoost's gblinear (coord_descent updater, alpha = L1,
// lambda = 0), which computes the same estimator: measured by bench/lasso.ts on the
// committed fixture (test/fixtures/lasso) and on a LEAR-sized problem (see MEASURED below).
// MEASURED: filled in from bench/lasso.ts.
export { checkMatrix, gramOf, prepareDesign, prepareTarget, residualSumOfSquares, toOriginalScale, withNormalization } from './design.ts';
export type { Design, DesignOptions, Matrix, Target } from './design.ts';
export { alphaGrid, alphaMax, lassoCoordinateDescent, lassoPath } from './coordinate-descent.ts';
export type { CoordinateDescentOptions, CoordinateDescentResult } from './coordinate-descent.ts';
export { larsLassoPath } from './lars.ts';
export type { LarsOptions, LarsPath } from './lars.ts';
export { criterionAlongPath, olsNoiseVariance, selectByInformationCriterion } from './information-criterion.ts';
export type { CriterionDefinition, InformationCriterion, Selection, SelectionOptions } from './information-criterion.ts';
