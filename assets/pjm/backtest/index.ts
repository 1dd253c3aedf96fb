// Public surface of the backtest: run the walk-forward on a features Parquet file, score it
// against the naive and (when the file is given) the published epftoolbox forecasts, and
// return the JSON report with its printable table.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FeatureSet, Market } from '../features/columns.ts';
import { readFeatureTable } from '../model/dataset.ts';
import { DEFAULT_SETTINGS, type TrainSettings } from '../model/settings.ts';
import { scorePublishedForecasts } from './published.ts';
import { backtestReport, comparisonRows, formatComparisonTable, formatNodeTable, type BacktestReport } from './report.ts';
import { familyBacktest, formatFamilyReport, type FamilyReport, type FamilySettings } from './families.ts';
import { metricsReport } from '../metrics.ts';
import { dayNumberOf } from '../../../lib/days.ts';
import { learPanelsFromFeatures } from '../lear/features-panel.ts';
import { runLearOffThread } from '../lear/off-thread.ts';
import type { LearArtifact } from '../lear/served.ts';
import { walkForward, type BlockSummary, type Recalibration, type TrainingWindow, type WalkForwardResult, type WarmStart } from './walk-forward.ts';

export * from './walk-forward.ts';
export { warmDailyPredictions, checkWarmUpdate, type WarmUpdate, type WarmDailyOptions, type WarmDailyResult } from './warm-start.ts';
export * from './report.ts';
export { familyBacktest, formatFamilyReport, type FamilyReport, type FamilySettings, type QuantileScores, type QuantileMethod } from './families.ts';
export { scorePublishedForecasts, PUBLISHED_COLUMNS, type PublishedScores } from './published.ts';

/** The epftoolbox test period, so our figures stand beside the published ones. */
export const EPFTOOLBOX_TEST_PERIOD = { testFirstDay: '2016-12-27', testLastDay: '2018-12-24' } as const;

export interface BacktestOptions {
  /** Features Parquet written by `buildFeatures`. */
  /** One features file, or every partition's. */
  readonly featuresParquet: string | readonly string[];
  readonly market: Market;
  /** The set the file was built with (default: the market's legacy set). */
  readonly featureSet?: FeatureSet;
  /** Default: the epftoolbox test period. */
  readonly testFirstDay?: string;
  readonly testLastDay?: string;
  /** Default 'monthly'. */
  readonly recalibration?: Recalibration;
  /** With recalibration 'daily': daily updates between trainings from scratch (walk-forward.ts). Default: none. */
  readonly warmStart?: WarmStart;
  /** Default expanding from the first complete day. */
  readonly window?: TrainingWindow;
  /** Default `DEFAULT_SETTINGS`. */
  readonly settings?: TrainSettings;
  /** Forecasts_PJM_DNN_LEAR_ensembles.csv; when given, its ensembles join the comparison table. */
  readonly publishedForecastsCsv?: string;
  /** Name of our row in the table. */
  readonly modelName?: string;
  /** Node names for the per-node table. */
  readonly nodeNames?: ReadonlyMap<number, string>;
  /** Also run LEAR and the ensemble (families.ts); the chosen family's forecasts become the report's. Default: XGBoost alone. */
  readonly families?: FamilySettings;
  /**
   * With LEAR in `families`: also fit LEAR on each window's latest whole days (what pjm/model
   * serves, fitServedLear) in the same worker, and return it as `learMembers`. Default false.
   */
  readonly fitServedLear?: boolean;
  readonly onBlock?: (block: BlockSummary, done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface BacktestOutcome {
  readonly report: BacktestReport;
  /** The comparison table, then the per-node table, ready to print. */
  readonly table: string;
  readonly result: WalkForwardResult;
  /** With `families`: each family's scores, the quantiles, DM and the calibration. */
  readonly families?: FamilyReport;
  /** With `fitServedLear`: the served LEAR fits and the seconds they took in the worker. */
  readonly learMembers?: { readonly artifact: LearArtifact; readonly seconds: number };
}

/** Runs the walk-forward backtest and builds its report and table. */
export async function backtest(conn: DuckDBConnection, options: BacktestOptions): Promise<BacktestOutcome> {
  const table = await readFeatureTable(conn, options.featuresParquet, options.featureSet ?? options.market);
  const run = {
    testFirstDay: options.testFirstDay ?? EPFTOOLBOX_TEST_PERIOD.testFirstDay,
    testLastDay: options.testLastDay ?? EPFTOOLBOX_TEST_PERIOD.testLastDay,
    recalibration: options.recalibration ?? 'monthly',
    window: options.window ?? { kind: 'expanding' as const },
    settings: options.settings ?? DEFAULT_SETTINGS,
    ...(options.warmStart ? { warmStart: options.warmStart } : {}),
  };
  const started = performance.now();
  // LEAR's fits (its walk-forward, then the served fit on each window's latest days) start in a
  // worker thread first and run beside the XGBoost retrains; a failed retrain stops them.
  const stopLear = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopLear.signal]) : stopLear.signal;
  const fams = options.families;
  const learJob =
    fams && fams.families !== 'xgboost'
      ? runLearOffThread(
          {
            panels: learPanelsFromFeatures(table),
            walkForward: {
              firstDay: dayNumberOf(run.testFirstDay),
              lastDay: dayNumberOf(run.testLastDay),
              windows: fams.learWindows,
              every: fams.learEveryDays,
            },
            served: options.fitServedLear ?? false,
          },
          { signal },
        )
      : undefined;
  learJob?.catch(() => undefined);
  let xgb: WalkForwardResult;
  try {
    xgb = await walkForward(table, { ...run, onBlock: options.onBlock, signal: options.signal });
  } catch (err) {
    stopLear.abort(err);
    throw err;
  }
  const lear = learJob ? await learJob : undefined;
  const fam = fams
    ? familyBacktest({
        table,
        xgboost: xgb.forecasts,
        settings: fams,
        publishedForecastsCsv: options.publishedForecastsCsv,
        ...(lear ? { lear: lear.run } : {}),
        signal: options.signal,
      })
    : undefined;
  // With families, the chosen family's forecasts are the backtest's (what pjm/model serves); XGBoost's stay in `families`.
  // The time is the wall time of both: LEAR ran beside the retrains.
  const result: WalkForwardResult = fam
    ? { ...xgb, forecasts: fam.chosen, metrics: metricsReport(fam.chosen), seconds: (performance.now() - started) / 1000 }
    : xgb;
  const published = options.publishedForecastsCsv ? await scorePublishedForecasts(conn, options.publishedForecastsCsv, result.forecasts) : [];
  const cadence = (r: Recalibration) => (typeof r === 'string' ? r : `every ${r.everyDays} days`);
  const every = run.warmStart
    ? `daily: ${run.warmStart.update.kind === 'continue' ? `+${run.warmStart.update.rounds} rounds` : 'leaves refreshed'} a day, from scratch ${cadence(run.warmStart.anchor)}`
    : cadence(run.recalibration);
  const name =
    options.modelName ??
    (fam && options.families!.families !== 'xgboost'
      ? `${options.families!.families === 'lear' ? 'LEAR' : 'Ensemble XGBoost + LEAR'} (XGBoost ${every}, LEAR windows ${options.families!.learWindows.join('/')} refit every ${options.families!.learEveryDays.join('/')} days${
          // Say it where the figures are: a history shorter than the longest window leaves LEAR without a forecast.
          fam.report.learMissingHours === result.forecasts.length ? '; LEAR had no forecast, so XGBoost alone' : ''
        })`
      : `XGBoost (${every} recalibration)`);
  const comparison = comparisonRows(name, result.metrics, published);
  const report = backtestReport(options.market, run, result, comparison);
  const title = `Walk-forward backtest, ${options.market.toUpperCase()}, ${run.testFirstDay}..${run.testLastDay}: ${result.forecasts.length} hours, ${result.blocks.length} retrains, ${result.seconds.toFixed(1)} s`;
  const familyText = fam ? `\n\n${formatFamilyReport(fam.report)}` : '';
  return {
    report,
    table: `${formatComparisonTable(comparison, title)}${familyText}\n\n${formatNodeTable(result.metrics, options.nodeNames)}`,
    result,
    ...(fam ? { families: fam.report } : {}),
    ...(lear?.served ? { learMembers: { artifact: lear.served, seconds: lear.servedSeconds } } : {}),
  };
}
