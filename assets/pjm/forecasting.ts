// The PJM pipeline's public face for code that serves its model (serving/): reading a trained
// model back, building a day's feature rows the way the pipeline does, predicting, and the
// calibrated quantiles, and the model bundle's file format. Serving imports nothing else of
// assets/ (test/infrastructure/import-boundaries.test.ts keeps it so): the pipeline's other
// modules can move and split freely.
export {
  describeFeatureSet,
  featureColumns,
  featureSetOf,
  featuresForDay,
  featuresInMemory,
  legacyFeatureSet,
  resolveFeatureSet,
  PRICE_LAGS,
  type FeatureSet,
  type LoadRow,
  type Market,
  type MissingInput,
  type OneDayFeatures,
  type PriceRow,
} from './features/index.ts';
export { realHoursOfDay, type RealHour } from './forecast/grid-hours.ts';
export { quantilesAt } from './model/calibration.ts';
export { concatFeatureTables, featureTableFromRows, featureTableOfDay, type FeatureTable } from './model/dataset.ts';
export { forecastNodeDay, servableModel, type NodeDayForecast, type ServableModel } from './model/served.ts';
export { learInputDays } from './lear/served.ts';
export { modelFromSidecar, type ModelSidecar } from './model/persist.ts';
export {
  readModelSidecar,
  readSidecarDescription,
  SIDECAR_FORMAT,
  SIDECAR_FORMATS,
  SidecarError,
  servedFamilyOf,
  sidecarIn,
  type SidecarDescription,
  type SidecarFamilies,
} from './model/sidecar.ts';
export { designMatrix, disposeModel, predictRows, type TrainedMember, type TrainedModel } from './model/train.ts';
export { decodeModelBundle } from './model-bundle.ts';
export { backtestIn } from './backtest/report.ts';
export { ASSET_KEYS } from './asset-keys.ts';
export { servedForecastKey, SERVED_FORECASTS, ServedForecastLog, type ForecastOrigin, type ServedForecast } from './served/log.ts';
export { importLegacyServedLog, legacyServedLogPath, type LegacyImport } from './served/legacy-log.ts';
export { servedFromAnswer } from './served/from-forecast.ts';
export { rollingScore, type RollingScore, type ScoreSums } from './served/score.ts';
export { FORECAST_SCORE_ASSET } from './served/score-asset.ts';
