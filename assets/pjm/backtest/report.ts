// The backtest report: a JSON-ready summary (kept as asset metadata) and the printable
// tables: the comparison (ours, the naive forecast, for RT the DA price of the hour, the
// published epftoolbox ensembles) and, per node, MAE and rMAE against each baseline.
import type { JsonValue } from '../../../runtime/index.ts';
import type { MetricsReport, Scores } from '../metrics.ts';
import type { PublishedScores } from './published.ts';
import type { BlockSummary, Recalibration, TrainingWindow, WalkForwardResult, WarmStart } from './walk-forward.ts';
import type { TrainSettings } from '../model/settings.ts';

export interface ComparisonRow {
  readonly name: string;
  readonly mae: number;
  readonly rmse: number;
  readonly smape: number;
  readonly rmae: number;
  /** RT targets: MAE over the DA-price baseline's MAE. */
  readonly rmaeDa?: number;
}

export interface BacktestReport {
  readonly market: string;
  readonly testFirstDay: string;
  readonly testLastDay: string;
  readonly recalibration: Recalibration;
  /** Daily updates between trainings from scratch, when the run had them. */
  readonly warmStart?: WarmStart;
  readonly window: TrainingWindow;
  readonly settings: TrainSettings;
  readonly hours: number;
  /** Trainings from scratch (with a warm start, the daily updates between them are not counted). */
  readonly retrains: number;
  readonly seconds: number;
  readonly metrics: MetricsReport;
  readonly comparison: readonly ComparisonRow[];
  readonly blocks: readonly BlockSummary[];
}

const row = (name: string, s: Scores): ComparisonRow => ({
  name,
  mae: s.mae,
  rmse: s.rmse,
  smape: s.smape,
  rmae: s.rmae,
  ...(s.rmaeDa !== undefined ? { rmaeDa: s.rmaeDa } : {}),
});

export const NAIVE_NAME = 'Naive (D-7 Mon/Sat/Sun, else D-1)';
export const DA_BASELINE_NAME = 'DA price of the same hour (RT baseline)';

/** The comparison rows: our model, the naive forecast, for RT the DA-price baseline, then each published forecast. */
export function comparisonRows(modelName: string, metrics: MetricsReport, published: readonly PublishedScores[]): ComparisonRow[] {
  const o = metrics.overall;
  const da = o.daBaselineMae;
  return [
    row(modelName, o),
    { name: NAIVE_NAME, mae: o.naiveMae, rmse: Number.NaN, smape: Number.NaN, rmae: 1, ...(da !== undefined ? { rmaeDa: o.naiveMae / da } : {}) },
    ...(da !== undefined ? [{ name: DA_BASELINE_NAME, mae: da, rmse: Number.NaN, smape: Number.NaN, rmae: da / o.naiveMae, rmaeDa: 1 }] : []),
    ...published.map((p) => row(`epftoolbox ${p.name} (published)`, p.scores)),
  ];
}

const fmt = (v: number | undefined, digits: number): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '—');

/** Aligned text: the first column left-aligned, the others right-aligned. */
function alignedTable(header: readonly string[], cells: readonly (readonly string[])[], title: string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** The comparison table as aligned text, MAE/RMSE in $/MWh, sMAPE in %; an `rMAE DA` column when rows have it (RT). */
export function formatComparisonTable(rows: readonly ComparisonRow[], title: string): string {
  const withDa = rows.some((r) => r.rmaeDa !== undefined);
  const cells = rows.map((r) => [r.name, fmt(r.mae, 3), fmt(r.rmse, 3), fmt(r.smape, 2), fmt(r.rmae, 3), ...(withDa ? [fmt(r.rmaeDa, 3)] : [])]);
  return alignedTable(['Forecast', 'MAE', 'RMSE', 'sMAPE %', 'rMAE', ...(withDa ? ['rMAE DA'] : [])], cells, title);
}

/**
 * Per node and overall: our MAE, the naive's MAE and our rMAE against it, and for RT the
 * DA-price baseline's MAE and our rMAE against it. `names` labels node ids.
 */
export function formatNodeTable(metrics: MetricsReport, names: ReadonlyMap<number, string> = new Map()): string {
  const withDa = metrics.overall.daBaselineMae !== undefined;
  const cells = [...Object.entries(metrics.byNode), ['overall', metrics.overall] as const].map(([node, s]) => [
    node === 'overall' ? 'overall' : names.has(Number(node)) ? `${node} ${names.get(Number(node))}` : node,
    fmt(s.mae, 3),
    fmt(s.naiveMae, 3),
    fmt(s.rmae, 3),
    ...(withDa ? [fmt(s.daBaselineMae, 3), fmt(s.rmaeDa, 3)] : []),
  ]);
  const header = ['Node', 'MAE', 'Naive MAE', 'rMAE', ...(withDa ? ['DA MAE', 'rMAE DA'] : [])];
  const better = withDa ? Object.values(metrics.byNode).filter((s) => (s.rmaeDa ?? Infinity) < 1).length : 0;
  const title = `By node${withDa ? ` (better than the DA-price baseline on ${better} of ${Object.keys(metrics.byNode).length})` : ''}:`;
  return alignedTable(header, cells, title);
}

/** Assembles the JSON report of one walk-forward run. */
export function backtestReport(
  market: string,
  options: { testFirstDay: string; testLastDay: string; recalibration: Recalibration; warmStart?: WarmStart; window: TrainingWindow; settings: TrainSettings },
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

type JsonObject = { readonly [key: string]: JsonValue };

const withComparison = (v: JsonValue | undefined): JsonObject | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray(v.comparison) ? v : undefined;

/**
 * The backtest figures in a materialization's metadata or stored value, from where this
 * pipeline's writers put them (each holds the `comparison` table of comparisonRows): the object
 * itself for a BacktestReport and for pjm/backtest's metadata (the report's comparison and
 * scores at its top level); under `report` in pjm/backtest's stored value (`{ report,
 * forecasts }`); under `backtest` in pjm/model's metadata (the backtest its no-worse check
 * compared against). Undefined when none is there.
 */
export function backtestIn(metadata: JsonObject): JsonObject | undefined {
  return withComparison(metadata) ?? withComparison(metadata.report) ?? withComparison(metadata.backtest);
}
