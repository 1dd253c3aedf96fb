// The LEAR part of bench/epf.ts: LEAR with daily recalibration on each epftoolbox window and
// their calibration window average (CWA), the ensemble with our XGBoost forecasts, conformal
// and QRA quantiles, and the multivariate DM test against the published ensembles.
import { Worker } from 'node:worker_threads';
import { readEpftoolboxPanel, readPublishedForecasts } from '../assets/pjm/lear/epftoolbox-panel.ts';
import { naiveForecast, scores } from '../assets/pjm/metrics.ts';
import {
  conformalQuantiles,
  dieboldMarianoMultivariate,
  intervalCoverage,
  pinballLoss,
  qraQuantiles,
  type QuantileForecast,
} from '../lib/forecast-eval/index.ts';
import { averageForecasts, type DailyPanel, type LearOptions } from '../lib/lear/index.ts';
import type { LearChunkJob } from './lear-worker.ts';
import { workerSource } from '../lib/code-location.ts';

export interface LearBenchOptions {
  readonly pjmCsv: string;
  readonly publishedCsv: string;
  readonly from: string;
  readonly to: string;
  readonly windows: readonly number[];
  readonly workers: number;
  readonly options: LearOptions;
  /** Our XGBoost forecasts of the same period (day, hour, forecast), for the ensemble. */
  readonly xgboost?: ReadonlyArray<{ day: string; hour: number; forecast: number }>;
  /** Conformal / QRA calibration window (days, expanding up to it from the test start). */
  readonly calibrationDays: number;
  /** First test day (offset) on which quantiles are scored: the calibration warm-up. */
  readonly quantileWarmupDays: number;
}

export interface LearBenchReport {
  readonly period: { from: string; to: string; days: number };
  readonly wallSeconds: number;
  readonly workerSeconds: readonly number[];
  readonly point: Record<string, { mae: number; rmae: number; rmse: number }>;
  readonly probabilistic: Record<string, { pinball: number; coverage50: number; coverage90: number; scoredFrom: string }>;
  readonly dm: Record<string, { statistic: number; pValue: number }>;
}

async function runChunks(opts: Omit<LearBenchOptions, 'xgboost'>, panel: DailyPanel, first: number, last: number, onProgress: (done: number) => void) {
  const total = last - first + 1;
  const workers = Math.max(1, Math.min(opts.workers, total));
  const size = Math.ceil(total / workers);
  const progress = new Array<number>(workers).fill(0);
  const chunks = Array.from({ length: workers }, (_, w) => [first + w * size, Math.min(last, first + (w + 1) * size - 1)] as const).filter(([a, b]) => a <= b);
  const results = await Promise.all(
    chunks.map(
      ([a, b], w) =>
        new Promise<{ byWindow: Float64Array[]; seconds: number }>((resolve, reject) => {
          const job: LearChunkJob = { csvPath: opts.pjmCsv, firstDay: a, lastDay: b, windows: opts.windows, options: opts.options };
          const worker = new Worker(workerSource('bench/lear-worker'), { eval: true, workerData: job });
          worker.on('message', (m: { kind: 'progress'; done: number } | { kind: 'done'; byWindow: Float64Array[]; seconds: number }) => {
            if (m.kind === 'progress') {
              progress[w] = m.done;
              onProgress(progress.reduce((s, v) => s + v, 0));
            } else {
              resolve(m);
              void worker.terminate();
            }
          });
          worker.on('error', reject);
          worker.on('exit', (code) => code !== 0 && reject(new Error(`LEAR worker ${w} (days ${panel.days[a]}..${panel.days[b]}) exited with code ${code}.`)));
        }),
    ),
  );
  const byWindow = opts.windows.map((_, k) => {
    const out = new Float64Array(total * 24);
    results.forEach((r, w) => {
      out.set(r.byWindow[k]!, (chunks[w]![0] - first) * 24);
    });
    return out;
  });
  return { byWindow, workerSeconds: results.map((r) => r.seconds) };
}

/** LEAR's forecasts of the period, per window (what the report scores). */
export interface LearForecasts {
  readonly panel: DailyPanel;
  /** Panel indices of the period's first and last day. */
  readonly first: number;
  readonly last: number;
  readonly byWindow: readonly Float64Array[];
  readonly wallSeconds: number;
  readonly workerSeconds: readonly number[];
}

/**
 * Runs LEAR's daily walk-forward over the period in `opts.workers` worker threads. It needs
 * nothing from XGBoost, so bench/epf.ts starts it first and trains XGBoost meanwhile.
 */
export async function runLearForecasts(opts: Omit<LearBenchOptions, 'xgboost'>): Promise<LearForecasts> {
  const panel = readEpftoolboxPanel(opts.pjmCsv);
  const first = panel.days.indexOf(opts.from);
  const last = panel.days.indexOf(opts.to);
  if (first < 0 || last < first) throw new Error(`bench/epf --lear: ${opts.from}..${opts.to} is not a span of days in ${opts.pjmCsv}.`);
  const days = last - first + 1;
  const started = performance.now();
  let lastPrint = 0;
  const { byWindow, workerSeconds } = await runChunks(opts, panel, first, last, (done) => {
    const now = performance.now();
    if (now - lastPrint > 30_000 || done === days) {
      lastPrint = now;
      console.log(`  LEAR: ${done}/${days} days, ${((now - started) / 1000).toFixed(0)} s`);
    }
  });
  return { panel, first, last, byWindow, workerSeconds, wallSeconds: (performance.now() - started) / 1000 };
}

/** Scores LEAR's forecasts (and the ensemble with `opts.xgboost`) against the published ensembles. */
export function learBenchReport(opts: LearBenchOptions, lear: LearForecasts): { report: LearBenchReport; table: string } {
  const { panel, first, last, byWindow, workerSeconds, wallSeconds } = lear;
  const days = last - first + 1;
  const cwa = averageForecasts(byWindow);

  const actual = panel.prices.slice(first * 24, (last + 1) * 24);
  const naive = new Float64Array(days * 24);
  for (let t = 0; t < days; t++) {
    const d = first + t;
    const iso = ((new Date(`${panel.days[d]}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
    for (let h = 0; h < 24; h++) naive[t * 24 + h] = naiveForecast(iso, panel.prices[(d - 1) * 24 + h]!, panel.prices[(d - 7) * 24 + h]!);
  }
  const published = readPublishedForecasts(opts.publishedCsv);
  const pubFirst = published.days.indexOf(opts.from);
  if (pubFirst < 0 || pubFirst + days > published.days.length)
    throw new Error(`bench/epf --lear: the published forecasts do not cover ${opts.from}..${opts.to}.`);
  const pub = (name: string): Float64Array => {
    const col = published.byName.get(name);
    if (!col) throw new Error(`bench/epf --lear: column "${name}" missing from ${opts.publishedCsv}.`);
    return col.slice(pubFirst * 24, (pubFirst + days) * 24);
  };
  const point = new Map<string, Float64Array>();
  opts.windows.forEach((w, k) => {
    point.set(`LEAR ${w} (ours, daily)`, byWindow[k]!);
  });
  point.set(`LEAR CWA ${opts.windows.join('/')} (ours, daily)`, cwa);
  if (opts.xgboost) {
    const xgb = new Float64Array(days * 24).fill(Number.NaN);
    for (const f of opts.xgboost) {
      const t = panel.days.indexOf(f.day) - first;
      if (t >= 0 && t < days) xgb[t * 24 + f.hour] = f.forecast;
    }
    if (xgb.some((v) => !Number.isFinite(v))) throw new Error('bench/epf --lear: the XGBoost forecasts do not cover every hour of the LEAR period.');
    point.set('XGBoost (ours)', xgb);
    point.set('Ensemble: mean(XGBoost, LEAR CWA)', averageForecasts([xgb, cwa]));
  }
  for (const name of ['LEAR 56', 'LEAR 84', 'LEAR 1092', 'LEAR 1456', 'LEAR Ensemble', 'DNN Ensemble']) point.set(`published ${name}`, pub(name));
  point.set('published mean(LEAR, DNN) ensembles', averageForecasts([pub('LEAR Ensemble'), pub('DNN Ensemble')]));

  const pointScores: LearBenchReport['point'] = {};
  for (const [name, f] of point) {
    const s = scores(actual, f, naive);
    pointScores[name] = { mae: s.mae, rmae: s.rmae, rmse: s.rmse };
  }
  const ours = opts.xgboost ? 'Ensemble: mean(XGBoost, LEAR CWA)' : `LEAR CWA ${opts.windows.join('/')} (ours, daily)`;
  const dm: LearBenchReport['dm'] = {};
  for (const name of ['LEAR Ensemble', 'DNN Ensemble']) {
    // forecastA = published, forecastB = ours: a small p-value says ours is significantly more accurate.
    const r = dieboldMarianoMultivariate({ actual, forecastA: pub(name), forecastB: point.get(ours)!, norm: 1 });
    dm[`published ${name} vs ${ours}`] = { statistic: r.statistic, pValue: r.pValue };
    const back = dieboldMarianoMultivariate({ actual, forecastA: point.get(ours)!, forecastB: pub(name), norm: 1 });
    dm[`${ours} vs published ${name}`] = { statistic: back.statistic, pValue: back.pValue };
  }

  const warm = opts.quantileWarmupDays;
  const probabilistic: LearBenchReport['probabilistic'] = {};
  if (days > warm) {
    const scoredActual = actual.subarray(warm * 24);
    const score = (name: string, q: QuantileForecast) => {
      probabilistic[name] = {
        pinball: pinballLoss(scoredActual, q),
        coverage50: intervalCoverage(scoredActual, q, 0.5),
        coverage90: intervalCoverage(scoredActual, q, 0.9),
        scoredFrom: panel.days[first + warm]!,
      };
    };
    const calib = { window: opts.calibrationDays, firstDay: warm, minCalibration: Math.min(30, warm) };
    score(`conformal on ${ours}`, conformalQuantiles({ forecast: point.get(ours)!, actual, ...calib }));
    const members = [...byWindow, ...(opts.xgboost ? [point.get('XGBoost (ours)')!] : [])];
    score(
      `QRA over ${members.length} members`,
      qraQuantiles({ members, actual, window: opts.calibrationDays, firstDay: warm, every: 7, minTraining: Math.min(30, warm) }),
    );
  }

  const report: LearBenchReport = { period: { from: opts.from, to: opts.to, days }, wallSeconds, workerSeconds, point: pointScores, probabilistic, dm };
  const lines = [
    `LEAR daily recalibration ${opts.from}..${opts.to} (${days} days × 24 h × ${opts.windows.length} windows): wall ${wallSeconds.toFixed(1)} s on ${workerSeconds.length} worker(s) (${workerSeconds.map((s) => s.toFixed(0)).join(' + ')} s)`,
    `${'forecast'.padEnd(48)} ${'MAE'.padStart(7)} ${'rMAE'.padStart(7)} ${'RMSE'.padStart(7)}`,
    ...Object.entries(pointScores).map(
      ([n, s]) => `${n.padEnd(48)} ${s.mae.toFixed(3).padStart(7)} ${s.rmae.toFixed(3).padStart(7)} ${s.rmse.toFixed(3).padStart(7)}`,
    ),
    '',
    `${'quantiles (5..95 %)'.padEnd(48)} ${'pinball'.padStart(8)} ${'cov50'.padStart(7)} ${'cov90'.padStart(7)}  scored from`,
    ...Object.entries(probabilistic).map(
      ([n, s]) =>
        `${n.padEnd(48)} ${s.pinball.toFixed(3).padStart(8)} ${(100 * s.coverage50).toFixed(1).padStart(6)}% ${(100 * s.coverage90).toFixed(1).padStart(6)}%  ${s.scoredFrom}`,
    ),
    '',
    'Multivariate DM (norm 1; H1: the second forecast is more accurate):',
    ...Object.entries(dm).map(([n, r]) => `  ${n}: statistic ${r.statistic.toFixed(3)}, p-value ${r.pValue.toExponential(3)}`),
  ];
  return { report, table: lines.join('\n') };
}
