// The project's XGBoost engine: XGBoost 1.7.5's C API (the libxgboost.so shipped by the
// xgboost_node package) through koffi, with typed objects for data, models and training.
//
//   const dtrain = DMatrix.fromDense(x, { rows, cols, labels, featureNames });
//   const { booster, bestIteration, evalLog } = await train(params, dtrain, {
//     numBoostRound: 500, evals: [{ name: 'valid', data: dvalid }], earlyStoppingRounds: 20 });
//   booster.predict(rowsF32, { iterationRange: 'best' });
//   booster.predictContribs(rowsF32, { iterationRange: 'best' }).row(0).byFeature;
//   Booster.fromBuffer(booster.toBuffer('ubj'));  booster.dispose();
//   await continueTraining(booster, params, dtrain, { rounds: 10 });  // 10 more rounds, in place
//
// The native library loads on first use; an entry point says how first (OpenMP's idle policy):
//   configureXGBoost({ ompWaitPolicy: 'passive' });
export { DMatrix, type DMatrixOptions } from './dmatrix.ts';
export {
  Booster,
  type Contributions,
  type ImportanceType,
  type ModelFormat,
  type PredictOptions,
} from './booster.ts';
export { continueTraining, train, type ContinueOptions, type ContinueResult, type TrainOptions, type TrainResult } from './train.ts';
export { XGBoostError, XGBoostUsageError } from './errors.ts';
export type { EvalRound, ParamValue, Params } from './training-logic.ts';
export { liveNativeObjects, xgboostLibraryPath, xgboostVersion } from './native.ts';
export { loadBoostersOffThread, type ModelBytes } from './load-off-thread.ts';
export { configureXGBoost, type OmpWaitPolicy, type XGBoostLoadOptions } from './config.ts';
