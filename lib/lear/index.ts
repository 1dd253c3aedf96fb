// LEAR (Lago et al. 2021) and calibration window averaging over a daily panel of 24 prices and
// K exogenous series; no storage or market knowledge. See lear.ts for the model's definition.
//
//   const model = fitLear({ panel, lastTrainDay: d - 1, window: 1456 });
//   const next = predictLear(model, panel, d);                       // 24 prices of day d
//   const run = learWalkForward({ panel, firstDay, lastDay, windows: EPFTOOLBOX_WINDOWS });
//   run.cwa  // the window average, days × 24
export {
  checkPanel,
  EXOGENOUS_LAGS,
  fitLear,
  learFeatureCount,
  learFeatureMatrix,
  learFeatureNames,
  learFeatureRow,
  PRICE_LAGS,
  predictLear,
} from './lear.ts';
export type { DailyPanel, FitLearInput, LearModel, LearOptions, LearSelection } from './lear.ts';
export { averageForecasts, EPFTOOLBOX_WINDOWS, learWalkForward } from './walk-forward.ts';
export type { LearWalkForwardInput, LearWalkForwardResult } from './walk-forward.ts';
export { applyInvariant, fitInvariant, invertInvariant, medianOf } from './invariant.ts';
export type { InvariantScaler } from './invariant.ts';
