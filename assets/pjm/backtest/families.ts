// The backtest of each model family and their ensemble on the same test hours: XGBoost's
// walk-forward forecasts (walk-forward.ts), LEAR's over the configured calibration windows
// (assets/pjm/lear/walk-forward.ts) and their mean (model/ensemble.ts); MAE and rMAE of each;
// quantiles of the chosen point forecast by online conformal prediction on its walk-forward
// residuals per hour, and by QRA over the members, scored by pinball loss and 50 % / 90 %
// coverage; on epftoolbox data the multivariate Diebold-Mariano test against the published
// LEAR and DNN ensembles; and the per-hour conformal calibration the model stores.
import {
  conformalQuantiles,
  dieboldMarianoMultivariate,
  intervalCoverage,
  pinballLoss,
  qraQuantiles,
  type QuantileForecast,
} from '../../../lib/forecast-eval/index.ts';
import type { FamilyChoice } from '../config.ts';
import { readPublishedForecasts } from '../lear/epftoolbox-panel.ts';
import { learKey, learWalkForwardOnTable, type LearTableRun } from '../lear/walk-forward.ts';
import { mae } from '../metrics.ts';
import { CALIBRATION_DAYS, conformalCalibrationIfEnough, type ConformalCalibration } from '../model/calibration.ts';
import { dayNumberOf } from '../../../lib/days.ts';
import type { FeatureTable } from '../model/dataset.ts';
import { combineFamilies, equalWeights, familiesOf, servedValues, type ModelFamily } from '../model/ensemble.ts';
import type { ForecastHour } from './walk-forward.ts';

export interface FamilySettings {
  readonly families: FamilyChoice;
  readonly learWindows: readonly number[];
  /** Each window's refit interval in days (PJM_LEAR_RECALIBRATION_DAYS), in `learWindows` order. */
  readonly learEveryDays: readonly number[];
}

export type QuantileMethod = 'conformal' | 'qra';

export interface QuantileScores {
  readonly pinball: number;
  readonly coverage50: number;
  readonly coverage90: number;
  /** Hours scored (after the calibration warm-up). */
  readonly hours: number;
  readonly scoredFrom: string;
}

export interface FamilyReport {
  readonly families: FamilyChoice;
  readonly weights: Record<ModelFamily, number>;
  readonly learWindows: readonly number[];
  readonly learEveryDays: readonly number[];
  /** MAE and rMAE (over the naive forecast) of each family and of the ensemble, on the same hours. */
  readonly point: Readonly<Record<'xgboost' | 'lear' | 'ensemble', { readonly mae: number; readonly rmae: number }>>;
  /** Hours where LEAR had no forecast (its inputs or window incomplete): the ensemble used XGBoost there. */
  readonly learMissingHours: number;
  readonly learSeconds: number;
  readonly learFits: number;
  /** Quantiles of the chosen family's forecast; QRA absent when a member misses hours. */
  readonly quantiles: { readonly conformal: QuantileScores | null; readonly qra: QuantileScores | null; readonly better: QuantileMethod | null };
  /** Multivariate DM (norm 1), ours as forecast B: a small p-value says ours is more accurate. */
  readonly dm: Readonly<Record<string, { readonly statistic: number; readonly pValue: number }>> | null;
  /** The calibration of the chosen family's forecast, from its last CALIBRATION_DAYS (91) test days. */
  /** Null when the test period gives some hour fewer than 7 residuals: no quantiles then. */
  readonly calibration: ConformalCalibration | null;
  /** The same for XGBoost's forecast alone (what pjm/model serves with PJM_MODEL_FAMILIES=xgboost). */
  readonly xgboostCalibration: ConformalCalibration | null;
}

export interface FamilyBacktestInput {
  readonly table: FeatureTable;
  readonly xgboost: readonly ForecastHour[];
  readonly settings: FamilySettings;
  readonly publishedForecastsCsv?: string;
  /**
   * LEAR's walk-forward over the same test days when it already ran (off-thread.ts runs it in a
   * worker beside the XGBoost retrains); without it, and with LEAR in the families, it runs here.
   */
  readonly lear?: LearTableRun;
  readonly signal?: AbortSignal;
}

/** Walk-forward LEAR on the XGBoost test hours, the ensemble, and their scores; returns the chosen family's hours too. */
export function familyBacktest(input: FamilyBacktestInput): { report: FamilyReport; chosen: ForecastHour[] } {
  const { table, xgboost, settings } = input;
  const days = [...new Set(xgboost.map((h) => h.day))].sort();
  const first = dayNumberOf(days[0]!);
  const last = dayNumberOf(days[days.length - 1]!);
  // XGBoost alone: no LEAR fits (they are the dear part); its quantiles and calibration still come from here.
  const lear: LearTableRun =
    settings.families === 'xgboost'
      ? { cwa: new Map(), byWindow: [], missingDays: 0, fits: 0, seconds: 0 }
      : (input.lear ??
        learWalkForwardOnTable(table, { firstDay: first, lastDay: last, windows: settings.learWindows, every: settings.learEveryDays, signal: input.signal }));
  const at = (map: ReadonlyMap<string, Float64Array>, h: ForecastHour): number => map.get(learKey(h.nodeId, dayNumberOf(h.day)))?.[h.hour] ?? Number.NaN;
  const learValues = Float64Array.from(xgboost, (h) => at(lear.cwa, h));
  const xgbValues = Float64Array.from(xgboost, (h) => h.forecast);
  const ensembleWeights = equalWeights(['xgboost', 'lear']);
  const ensemble = combineFamilies([
    { family: 'xgboost', weight: ensembleWeights.xgboost, values: xgbValues },
    { family: 'lear', weight: ensembleWeights.lear, values: learValues },
  ]);
  const actual = Float64Array.from(xgboost, (h) => h.actual);
  const naive = Float64Array.from(xgboost, (h) => h.naive);
  // LEAR alone is scored where it forecast; the others on every hour (and on LEAR's hours, the
  // figures are the same as long as learMissingHours is 0, which the report says).
  // A family with no forecast (LEAR not run, or every window longer than the history) scores NaN.
  const score = (values: Float64Array) => {
    const keep = [...values.keys()].filter((i) => Number.isFinite(values[i]!));
    if (keep.length === 0) return { mae: Number.NaN, rmae: Number.NaN };
    const a = keep.map((i) => actual[i]!);
    return {
      mae: mae(
        a,
        keep.map((i) => values[i]!),
      ),
      rmae:
        mae(
          a,
          keep.map((i) => values[i]!),
        ) /
        mae(
          a,
          keep.map((i) => naive[i]!),
        ),
    };
  };
  const point = { xgboost: score(xgbValues), lear: score(learValues), ensemble: score(ensemble.values) };
  // What pjm/model serves for the chosen family (model/ensemble.ts), on the same hours.
  const chosenValues = servedValues(settings.families, xgbValues, learValues).values;
  const chosenPoints = xgboost.map((h, i) => ({ ...h, forecast: chosenValues[i]! }));

  // Per node, days × 24 series of the test period for the conformal, QRA and DM computations.
  const nodes = [...new Set(xgboost.map((h) => h.nodeId))].sort((a, b) => a - b);
  const series = (values: ArrayLike<number>, nodeId: number): Float64Array => {
    const out = new Float64Array(days.length * 24).fill(Number.NaN);
    xgboost.forEach((h, i) => {
      if (h.nodeId === nodeId) out[(dayNumberOf(h.day) - first) * 24 + h.hour] = values[i]!;
    });
    return out;
  };
  const warm = Math.min(56, Math.floor(days.length / 2));
  const calib = { window: CALIBRATION_DAYS, firstDay: warm, minCalibration: Math.min(30, warm) };
  const scoreQuantiles = (make: (nodeId: number, a: Float64Array) => QuantileForecast): QuantileScores => {
    const scoredActual: number[] = [];
    const values: number[] = [];
    let levels: readonly number[] = [];
    for (const n of nodes) {
      const a = series(actual, n);
      const q = make(n, a);
      levels = q.levels;
      const m = q.levels.length;
      for (let i = warm * 24; i < a.length; i++) {
        const row = q.values.subarray((i - warm * 24) * m, (i - warm * 24 + 1) * m);
        if (Number.isFinite(a[i]!) && row.every(Number.isFinite)) {
          scoredActual.push(a[i]!);
          values.push(...row);
        }
      }
    }
    const q = { levels, values: Float64Array.from(values) };
    return {
      pinball: pinballLoss(scoredActual, q),
      coverage50: intervalCoverage(scoredActual, q, 0.5),
      coverage90: intervalCoverage(scoredActual, q, 0.9),
      hours: scoredActual.length,
      scoredFrom: days[warm]!,
    };
  };
  const enough = warm >= 7;
  // Online conformal quantiles of the chosen forecast per node (only past residuals each day): scored here, and kept on each hour for the charts.
  const conformalByNode = new Map(
    enough ? nodes.map((n) => [n, conformalQuantiles({ forecast: series(chosenValues, n), actual: series(actual, n), ...calib })] as const) : [],
  );
  const conformal = enough ? scoreQuantiles((n) => conformalByNode.get(n)!) : null;
  const members = [xgbValues, ...(settings.families === 'xgboost' ? [] : lear.byWindow.map((w) => Float64Array.from(xgboost, (h) => at(w, h))))];
  const qraPossible = enough && members.every((m) => m.every(Number.isFinite)) && actual.every(Number.isFinite);
  const qra = qraPossible
    ? scoreQuantiles((n, a) =>
        qraQuantiles({ members: members.map((m) => series(m, n)), actual: a, window: 182, firstDay: warm, every: 7, minTraining: Math.min(30, warm) }),
      )
    : null;
  const better: QuantileMethod | null = conformal && qra ? (qra.pinball < conformal.pinball ? 'qra' : 'conformal') : conformal ? 'conformal' : null;

  let dm: FamilyReport['dm'] = null;
  if (input.publishedForecastsCsv !== undefined && nodes.length === 1) {
    const published = readPublishedForecasts(input.publishedForecastsCsv);
    const offset = published.days.indexOf(days[0]!);
    if (offset >= 0 && offset + days.length <= published.days.length) {
      const a = series(actual, nodes[0]!);
      const ours = series(chosenValues, nodes[0]!);
      if (a.every(Number.isFinite) && ours.every(Number.isFinite)) {
        const tests: Record<string, { statistic: number; pValue: number }> = {};
        for (const name of ['LEAR Ensemble', 'DNN Ensemble']) {
          const col = published.byName.get(name);
          if (!col) continue;
          const r = dieboldMarianoMultivariate({ actual: a, forecastA: col.slice(offset * 24, (offset + days.length) * 24), forecastB: ours, norm: 1 });
          tests[`published ${name} vs ours`] = { statistic: r.statistic, pValue: r.pValue };
        }
        dm = tests;
      }
    }
  }
  const chosen = chosenPoints.map((h): ForecastHour => {
    const q = conformalByNode.get(h.nodeId);
    const i = (dayNumberOf(h.day) - first) * 24 + h.hour - warm * 24;
    if (!q || i < 0) return h;
    const row = q.values.subarray(i * q.levels.length, (i + 1) * q.levels.length);
    return row.every(Number.isFinite) ? { ...h, quantiles: [...row] } : h;
  });
  const families = familiesOf(settings.families);
  return {
    chosen,
    report: {
      families: settings.families,
      weights: equalWeights(families),
      learWindows: settings.learWindows,
      learEveryDays: settings.learEveryDays,
      point,
      learMissingHours: ensemble.fallbackHours,
      learSeconds: lear.seconds,
      learFits: lear.fits,
      quantiles: { conformal, qra, better },
      dm,
      calibration: conformalCalibrationIfEnough(
        chosenPoints.filter((h) => Number.isFinite(h.forecast)),
        { days: CALIBRATION_DAYS },
      ),
      xgboostCalibration: conformalCalibrationIfEnough(xgboost, { days: CALIBRATION_DAYS }),
    },
  };
}

/** The family section of the printed backtest summary. */
export function formatFamilyReport(r: FamilyReport): string {
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  const q = (name: string, s: QuantileScores | null) =>
    s
      ? `  ${name.padEnd(10)} pinball ${s.pinball.toFixed(3)}, coverage 50 % → ${pct(s.coverage50)}, 90 % → ${pct(s.coverage90)} (${s.hours} hours from ${s.scoredFrom})`
      : `  ${name.padEnd(10)} not scored`;
  return [
    r.families === 'xgboost'
      ? 'Families (PJM_MODEL_FAMILIES=xgboost: LEAR and the ensemble not run; set PJM_MODEL_FAMILIES=ensemble to backtest them):'
      : `Families (PJM_MODEL_FAMILIES=${r.families}, LEAR windows ${r.learWindows.join('/')} refit every ${r.learEveryDays.join('/')} days, ${r.learFits} fits in ${r.learSeconds.toFixed(1)} s):`,
    // With XGBoost alone the ensemble is XGBoost (LEAR has no forecast to average): one row, not three.
    ...(r.families === 'xgboost' ? (['xgboost'] as const) : (['xgboost', 'lear', 'ensemble'] as const)).map((f) =>
      Number.isFinite(r.point[f].mae)
        ? `  ${f.padEnd(10)} MAE ${r.point[f].mae.toFixed(3)}  rMAE ${r.point[f].rmae.toFixed(3)}`
        : `  ${f.padEnd(10)} no forecast`,
    ),
    ...(r.families === 'xgboost' ? [] : [`  LEAR missing on ${r.learMissingHours} hour(s) (the ensemble used XGBoost alone there)`]),
    'Quantiles 5..95 % of the served forecast:',
    q('conformal', r.quantiles.conformal),
    q('QRA', r.quantiles.qra),
    ...(r.dm
      ? [
          'Multivariate DM (norm 1; a small p-value: ours more accurate):',
          ...Object.entries(r.dm).map(([n, d]) => `  ${n}: statistic ${d.statistic.toFixed(3)}, p-value ${d.pValue.toExponential(2)}`),
        ]
      : []),
  ].join('\n');
}
