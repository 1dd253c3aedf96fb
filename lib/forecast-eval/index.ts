// Evaluating and producing probabilistic price forecasts: quantiles from online conformal
// prediction on walk-forward residuals (per hour of the day) or from quantile regression
// averaging over ensemble members, kept monotone; pinball loss and interval coverage; and the
// Diebold-Mariano test (univariate and epftoolbox's multivariate). Pure functions over arrays.
export { checkLevels, conformalQuantile, QUANTILE_LEVELS, rearrangeQuantiles, type QuantileForecast } from './quantiles.ts';
export { intervalCoverage, pinball, pinballLoss } from './scores.ts';
export { conformalQuantiles, type ConformalInput } from './conformal.ts';
export { qraQuantiles, quantileRegression, type QraInput, type QuantileRegressionOptions } from './quantile-regression.ts';
export { dieboldMarianoMultivariate, dieboldMarianoUnivariate, normalCdf, type DmInput, type DmNorm, type DmResult } from './diebold-mariano.ts';
