// Two assets whose outputs are shaped as the PJM model and backtest write them
// (assets/pjm/model/persist.ts's sidecar as metadata; assets/pjm/backtest/report.ts's
// report as metadata and the forecast hours in the value), with made-up numbers,
// so the model views can be tested without training a model.
import { defineAsset, defineDefinitions } from '../../../runtime/index.ts';

const NODE = 33092371;

/** The quantile offsets from the forecast at levels 5..95 %, in units of an hour's spread: q95 - f is 3x q75 - f. */
export const QUANTILE_STEPS = [-3, -2, -1, 0, 1, 2, 3];
/** An hour's spread, $/MWh: wider late in the day. */
export const spreadOf = (hour: number): number => 1 + hour / 24;

/**
 * Two weeks of hourly forecasts for one node: a daily shape, the forecast close to it, the naive
 * one further. The second week also has quantiles (as pjm/backtest stores them: values at
 * 5..95 %); the first has none, as a backtest's warm-up days before its conformal calibration.
 */
export function forecastHours(): { nodeId: number; day: string; hour: number; actual: number; forecast: number; naive: number; quantiles?: number[] }[] {
  const out = [];
  for (let d = 0; d < 14; d++) {
    const day = new Date(Date.UTC(2017, 0, 2 + d)).toISOString().slice(0, 10);
    for (let hour = 0; hour < 24; hour++) {
      const actual = 25 + 10 * Math.sin(((hour - 6) / 24) * 2 * Math.PI) + (d % 3);
      const forecast = actual + Math.cos(hour) * 1.5;
      const quantiles = d >= 7 ? { quantiles: QUANTILE_STEPS.map((k) => forecast + k * spreadOf(hour)) } : {};
      out.push({ nodeId: NODE, day, hour, actual, forecast, naive: actual + 4 * Math.sin(hour + d), ...quantiles });
    }
  }
  return out;
}

/** The report as assets/pjm/backtest/report.ts's BacktestReport (made-up numbers). */
const REPORT = {
  market: 'da',
  testFirstDay: '2017-01-02',
  testLastDay: '2017-01-15',
  hours: 336,
  retrains: 2,
  metrics: {
    overall: { n: 336, mae: 1.2, rmse: 1.5, smape: 4.1, rmae: 0.45, naiveMae: 2.6 },
    byHour: Object.fromEntries(Array.from({ length: 24 }, (_, h) => [String(h), { n: 14, mae: 1 + Math.abs(Math.cos(h)), naiveMae: 2.6 }])),
    byNode: { [String(NODE)]: { n: 336, mae: 1.2, rmse: 1.5, smape: 4.1, rmae: 0.45, naiveMae: 2.6 } },
  },
  comparison: [
    { name: 'XGBoost ensemble', mae: 1.2, rmse: 1.5, smape: 4.1, rmae: 0.45 },
    { name: 'Naive (D-7 Mon/Sat/Sun, else D-1)', mae: 2.6, rmse: null, smape: null, rmae: 1 },
    { name: 'epftoolbox LEAR Ensemble (published)', mae: 1.4, rmse: 1.8, smape: 4.6, rmae: 0.53 },
    { name: 'epftoolbox DNN Ensemble (published)', mae: 1.3, rmse: 1.7, smape: 4.4, rmae: 0.5 },
  ],
};

export function modelDefinitions() {
  const model = defineAsset({
    key: 'demo/model',
    description: 'A model with a learning curve and feature importance in its metadata.',
    group: 'models',
    codeVersion: '1',
    io: 'json',
    materialize: () => ({
      value: { trained: true },
      metadata: {
        sidecar: {
          format: 'pjm-lmp-xgb/1',
          market: 'da',
          featureNames: ['price_lag1_h', 'price_lag7_h', 'load_forecast_h', 'hour', 'day_of_week'],
          members: [
            {
              variant: { name: 'change_lag1' },
              file: 'm.json',
              rounds: 40,
              bestIteration: 39,
              learningCurve: {
                train: Array.from({ length: 40 }, (_, i) => 0.2 + 0.8 * Math.exp(-i / 8)),
                valid: Array.from({ length: 40 }, (_, i) => 0.3 + 0.8 * Math.exp(-i / 10)),
              },
              importance: [
                ['price_lag1_h', 120],
                ['load_forecast_h', 60],
                ['hour', 30],
                ['price_lag7_h', 20],
                ['day_of_week', 5],
              ],
            },
          ],
          window: { firstDay: '2013-01-08', lastDay: '2016-12-26', validationFirstDay: '2016-09-28', trainRows: 33000, validationRows: 2200 },
          metrics: { backtestMae: 3.1 },
          trainedAt: '2026-11-27T07:00:00.000Z',
        },
      },
    }),
  });
  const backtest = defineAsset({
    key: 'demo/backtest',
    description: 'A walk-forward backtest report with its forecast hours.',
    group: 'models',
    codeVersion: '1',
    deps: ['demo/model'],
    io: 'json',
    materialize: () => ({
      value: { report: REPORT, forecasts: forecastHours() },
      // As assets/pjm/model-assets.ts: a summary in metadata, the full report in the value.
      metadata: { summary: 'Walk-forward backtest ...', mae: 1.2, rmse: 1.5, smape: 4.1, rmae: 0.45, hours: 336, comparison: REPORT.comparison },
    }),
  });
  return defineDefinitions({ assets: [model, backtest] });
}
