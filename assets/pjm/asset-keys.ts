// The PJM pipeline's asset keys, in one place: the assets are defined under them
// (data-assets.ts, model-assets.ts) and the server reads them by them (through forecasting.ts),
// so no one spells one as a string literal of their own. Dependency-free on purpose.
export const ASSET_KEYS = {
  rawPrices: 'pjm/raw/prices',
  rawLoad: 'pjm/raw/load',
  processedPrices: 'pjm/processed/prices',
  processedLoad: 'pjm/processed/load',
  validatedPrices: 'pjm/validated/prices',
  validatedLoad: 'pjm/validated/load',
  featureSet: 'pjm/feature_set',
  features: 'pjm/features',
  model: 'pjm/model',
  backtest: 'pjm/backtest',
  forecast: 'pjm/forecast',
  modelExport: 'pjm/model_export',
  forecastScore: 'pjm/forecast_score',
} as const;
