// The backtest report: a JSON-ready summary (kept as asset metadata) and the printable
// comparison table (ours, the naive forecast, the published epftoolbox ensembles).
import type { MetricsReport, Scores } from '../metrics.ts';
import type { PublishedScores } from './published.ts';
import type { BlockSummary, Recalibration, TrainingWindow, WalkForwardResult } from './walk-forward.ts';
import type { TrainSettings } from '../model/settings.ts';

export interface ComparisonRow {
  readonly name: string;
  readonly mae: number;
  readonly rmse: number;
  readonly smape: number;
  readonly rmae: number;
}

export interface BacktestReport {
  readonly market: string;
  readonly testFirstDay: string;
  readonly testLastDay: string;
  readonly recalibration: Recalibration;
  readonly window: TrainingWindow;
  readonly settings: TrainSettings;
  readonly hours: number;
  readonly retrains: number;
  readonly seconds: number;
  readonly metrics: MetricsReport;
  readonly comparison: readonly ComparisonRow[];
  readonly blocks: readonly BlockSummary[];
}

const row = (name: string, s: Scores): ComparisonRow => ({ name, mae: s.mae, rmse: s.rmse, smape: s.smape, rmae: s.rmae });

/** The comparison rows: our model, the naive forecast, then each published forecast. */
export function comparisonRows(modelName: string, metrics: MetricsReport, published: readonly PublishedScores[]): ComparisonRow[] {
  const o = metrics.overall;
  return [
    row(modelName, o),
    { name: 'Naive (D-7 Mon/Sat/Sun, else D-1)', mae: o.naiveMae, rmse: Number.NaN, smape: Number.NaN, rmae: 1 },
    ...published.map((p) => row(`epftoolbox ${p.name} (published)`, p.scores)),
  ];
}

/** The comparison table as aligned text, MAE/RMSE in $/MWh, sMAPE in %. */
export function formatComparisonTable(rows: readonly ComparisonRow[], title: string): string {
  const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
  const cells = rows.map((r) => [r.name, fmt(r.mae, 3), fmt(r.rmse, 3), fmt(r.smape, 2), fmt(r.rmae, 3)]);
  const header = ['Forecast', 'MAE', 'RMSE', 'sMAPE %', 'rMAE'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** Assembles the JSON report of one walk-forward run. */
export function backtestReport(
  market: string,
  options: { testFirstDay: string; testLastDay: string; recalibration: Recalibration; window: TrainingWindow; settings: TrainSettings },
  result: WalkForwardResult,
  comparison: readonly ComparisonRow[],
): BacktestReport {
  return {
    market,
    ...options,
    hours: result.forecasts.length,
    retrains: result.blocks.length,
    seconds: result.seconds,
    metrics: result.metrics,
    comparison,
    blocks: result.blocks,
  };
}
