// Public surface of the features step: column names, the builders and the holiday calendar.
export * from './columns.ts';
export {
  buildFeatures,
  buildNodeDaysFeatures,
  featuresForDay,
  featureSetOf,
  resolveFeatureSet,
  FeatureInputsMissingError,
  MissingFeatureInputsError,
} from './build.ts';
export type {
  BuildFeaturesOptions,
  BuildFeaturesResult,
  NodeDaysFeaturesOptions,
  NodeDayFeatures,
  FeatureInputs,
  FeatureRow,
  FeaturesForDayOptions,
  FeaturesForDayResult,
  MissingInput,
} from './build.ts';
export { nercHolidays, nercHolidaysBetween } from './holidays.ts';
export { EPT_ZONE } from './sql.ts';
export { detectFeatureSet, describeChoice, type DetectOptions, type FeatureSetChoice } from './detect.ts';
export { featuresInMemory, type LoadRow, type OneDayFeatures, type OneDayInputs, type PriceRow } from './one-day.ts';
