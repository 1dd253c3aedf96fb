// The epftoolbox benchmark protocols on PJM.csv: walk-forward over the whole test period
// (2016-12-27..2018-12-24) with weekly (default) or daily recalibration and an expanding
// window, printing the comparison table against the naive forecast and the published LEAR
// and DNN ensembles, and saving the JSON report.
//
//   OMP_WAIT_POLICY=passive npx tsx bench/epf.ts [--recalibration weekly|daily|monthly|N]
//        [--warm-start none|continue:ROUNDS[@ETA]|refresh] [--anchor monthly|weekly|N]
//        [--settings bench|default] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json PATH]
//        [--models xgboost|lear|xgboost,lear] [--lear-selection published|plain|sklearn]
//        [--lear-windows 56,84,1092,1456] [--workers 2] [--calibration-days 182] [--quantile-warmup 56]
//
// --warm-start (with --recalibration daily): XGBoost trained from scratch every --anchor block
// (default monthly) and updated every day in between: `continue:N` boosts the day before's
// model N more rounds (`@ETA`: at that learning rate) on the window moved by a day, `refresh`
// refits the anchor's leaf values on it (assets/pjm/backtest/warm-start.ts).
//
// With `lear` in --models (bench/epf-lear.ts): LEAR with daily recalibration on each window and
// their CWA, the ensemble mean(XGBoost, LEAR CWA) when XGBoost ran too, conformal and QRA
// quantiles (pinball loss, 50/90 % coverage) and the multivariate DM test against the
// published LEAR and DNN ensembles. --lear-selection: 'published' = epftoolbox as its
// published forecasts ran (scikit-learn < 1.2: pre-1.1 AIC on normalized columns, Lasso on raw
// ones), 'plain' = the same AIC, selection and fit on the raw columns, 'sklearn' =
// scikit-learn 1.2 (gaussian AIC; needs windows over 255 days). LEAR's workers start first and
// XGBoost trains meanwhile: neither needs the other's forecasts until the ensemble is scored.
//
// Data: data/epftoolbox/PJM.csv (or ../shared/data/pjm/PJM.csv), through the pipeline's source,
// processed, features and backtest code (the whole file at once rather than day by day).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildFeatures } from '../assets/pjm/features/index.ts';
import { backtest, checkWarmUpdate, EPFTOOLBOX_TEST_PERIOD, type Recalibration, type WarmStart } from '../assets/pjm/backtest/index.ts';
import { BENCH_SETTINGS, DEFAULT_SETTINGS } from '../assets/pjm/model/settings.ts';
import { registerEpftoolbox } from '../assets/pjm/sources/index.ts';
import { writeCanonicalLoad, writeCanonicalPrices } from '../assets/pjm/processed/index.ts';
import type { LearOptions } from '../lib/lear/index.ts';
import { learBenchReport, runLearForecasts } from './epf-lear.ts';
import { configureXGBoost } from '../lib/xgboost/config.ts';
import { ompWaitPolicy } from '../runtime/settings.ts';

// Like the CLI and the server: OpenMP's idle policy from the one settings loader, before XGBoost loads.
configureXGBoost({ ompWaitPolicy: ompWaitPolicy(process.env) });

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    recalibration: { type: 'string', default: 'weekly' },
    'warm-start': { type: 'string', default: 'none' },
    anchor: { type: 'string', default: 'monthly' },
    settings: { type: 'string', default: 'bench' },
    from: { type: 'string', default: EPFTOOLBOX_TEST_PERIOD.testFirstDay },
    to: { type: 'string', default: EPFTOOLBOX_TEST_PERIOD.testLastDay },
    json: { type: 'string' },
    models: { type: 'string', default: 'xgboost' },
    'lear-selection': { type: 'string', default: 'published' },
    'lear-windows': { type: 'string', default: '56,84,1092,1456' },
    workers: { type: 'string', default: '2' },
    'calibration-days': { type: 'string', default: '182' },
    'quantile-warmup': { type: 'string', default: '56' },
  },
});
const models = new Set(values.models!.split(','));
for (const m of models) if (m !== 'xgboost' && m !== 'lear') throw new Error(`bench/epf: --models takes xgboost, lear or both (comma-separated), got "${m}".`);
const LEAR_SELECTIONS: Record<string, LearOptions> = {
  published: { selection: { definition: 'zou2007', normalize: true } },
  plain: { selection: { definition: 'zou2007', normalize: false } },
  sklearn: { selection: { definition: 'gaussian', normalize: false } },
};
const learOptions = LEAR_SELECTIONS[values['lear-selection']!];
if (!learOptions) throw new Error(`bench/epf: --lear-selection must be ${Object.keys(LEAR_SELECTIONS).join(', ')}, got "${values['lear-selection']}".`);
const positive = (name: string): number => {
  const v = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench/epf: --${name} must be a positive integer, got "${values[name as keyof typeof values]}".`);
  return v;
};
const learWindows = values['lear-windows']!.split(',').map((w) => {
  const v = Number(w);
  if (!Number.isInteger(v) || v < 9) throw new Error(`bench/epf: --lear-windows takes day counts ≥ 9, got "${w}".`);
  return v;
});

function firstExisting(paths: string[], what: string): string {
  const found = paths.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`bench/epf: ${what} not found; looked in ${paths.join(', ')}.`);
  return found;
}

function cadence(flag: string, value: string): Recalibration {
  const r: Recalibration = /^\d+$/.test(value) ? { everyDays: Number(value) } : (value as 'weekly' | 'daily' | 'monthly');
  if (typeof r === 'string' && !['weekly', 'daily', 'monthly'].includes(r)) {
    throw new Error(`bench/epf: --${flag} must be weekly, daily, monthly or a number of days, got ${value}.`);
  }
  return r;
}
const recalibration = cadence('recalibration', values.recalibration!);
function warmStartOf(flag: string): WarmStart | undefined {
  if (flag === 'none') return undefined;
  const m = /^continue:(\d+)(?:@([\d.]+))?$/.exec(flag);
  const update = m
    ? checkWarmUpdate({ kind: 'continue', rounds: Number(m[1]), ...(m[2] !== undefined ? { eta: Number(m[2]) } : {}) })
    : flag === 'refresh'
      ? ({ kind: 'refresh' } as const)
      : undefined;
  if (update === undefined)
    throw new Error(`bench/epf: --warm-start must be none, continue:ROUNDS[@ETA] (e.g. continue:10 or continue:10@0.05) or refresh, got "${flag}".`);
  if (recalibration !== 'daily')
    throw new Error(`bench/epf: --warm-start updates XGBoost daily; give it with --recalibration daily (got ${values.recalibration}).`);
  return { anchor: cadence('anchor', values.anchor!), update };
}
const warmStart = warmStartOf(values['warm-start']!);
const settings = values.settings === 'default' ? DEFAULT_SETTINGS : BENCH_SETTINGS;
const pjmCsv = firstExisting([join(root, 'data/epftoolbox/PJM.csv'), join(root, '../shared/data/pjm/PJM.csv')], 'PJM.csv');
const publishedCsv = firstExisting(
  [join(root, 'data/epftoolbox/Forecasts_PJM_DNN_LEAR_ensembles.csv'), join(root, '../shared/data/pjm/Forecasts_PJM_DNN_LEAR_ensembles.csv')],
  'Forecasts_PJM_DNN_LEAR_ensembles.csv',
);

const dir = mkdtempSync(join(tmpdir(), 'bench-epf-'));
try {
  const started = performance.now();
  let xgboostForecasts: ReadonlyArray<{ day: string; hour: number; forecast: number }> | undefined;
  let report: Record<string, unknown> = {};
  const learRun = {
    pjmCsv,
    publishedCsv,
    from: values.from!,
    to: values.to!,
    windows: learWindows,
    workers: positive('workers'),
    options: learOptions,
    calibrationDays: positive('calibration-days'),
    quantileWarmupDays: positive('quantile-warmup'),
  };
  // Started before XGBoost, which trains while LEAR's workers run; awaited (and its failure reported) after.
  const learForecasts = models.has('lear') ? runLearForecasts(learRun) : undefined;
  learForecasts?.catch(() => undefined);
  if (models.has('xgboost')) {
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    // The pipeline's own source and processed code, over the whole file at once.
    const { relations } = await registerEpftoolbox(conn, pjmCsv);
    const prices = await writeCanonicalPrices(conn, [relations.lmp], join(dir, 'prices.parquet'));
    const load = await writeCanonicalLoad(conn, [relations.load], join(dir, 'load.parquet'));
    const featuresParquet = join(dir, 'features.parquet');
    await buildFeatures(conn, { pricesParquet: [prices.path], loadParquet: [load.path], market: 'da', outPath: featuresParquet });
    const prepared = (performance.now() - started) / 1000;
    console.log(`PJM.csv → canonical tables → features: ${prepared.toFixed(1)} s`);
    const out = await backtest(conn, {
      featuresParquet,
      market: 'da',
      testFirstDay: values.from!,
      testLastDay: values.to!,
      recalibration,
      ...(warmStart ? { warmStart } : {}),
      settings,
      publishedForecastsCsv: publishedCsv,
      modelName: `XGBoost ${settings.variants.length}-member ensemble, ${values.recalibration} recalibration${warmStart ? ` (warm start ${values['warm-start']}, from scratch ${values.anchor})` : ''}`,
      onBlock: (b, done, total) => {
        if (warmStart || done % 10 === 0 || done === total)
          console.log(
            `  ${done}/${total} blocks, last trained through ${b.updatedThroughDay ?? b.trainLastDay} (${b.trainSeconds.toFixed(1)} s${b.updateSeconds !== undefined ? ` + ${b.updateSeconds.toFixed(1)} s of daily updates` : ''})`,
          );
      },
    });
    console.log(out.table);
    const byHour = Object.entries(out.report.metrics.byHour).map(([h, s]) => `${h.padStart(2, '0')}:${s.mae.toFixed(2)}`);
    console.log(`MAE by hour: ${byHour.join(' ')}`);
    xgboostForecasts = out.result.forecasts;
    report = { ...out.report };
  }
  if (learForecasts) {
    const lear = learBenchReport({ ...learRun, xgboost: xgboostForecasts }, await learForecasts);
    console.log(lear.table);
    report = { ...report, lear: { selection: values['lear-selection'], ...lear.report } };
  }
  const warmTag = warmStart ? `-warm-${values['warm-start']!.replace(/[:@]/g, '')}-${values.anchor}` : '';
  const jsonPath = values.json ?? join(root, 'bench', 'out', `epf-${values.recalibration}${warmTag}${models.has('lear') ? '-lear' : ''}.json`);
  // The whole run's wall time, XGBoost and LEAR overlapping: the figure the daily budget (< 30 min on 2 cores) is about.
  const totalSeconds = (performance.now() - started) / 1000;
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify({ ...report, totalSeconds }, null, 2));
  console.log(`Report: ${jsonPath}; total ${totalSeconds.toFixed(1)} s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
