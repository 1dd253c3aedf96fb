// LEAR's walk-forward over the pipeline's feature rows: per node, before each target day of the
// test period, every calibration window's LEAR is (re)fitted on the complete days before it
// (every `every` days), forecasts the day, and the windows are averaged (CWA). A window that
// would hold an incomplete day keeps its previous fit (trained on earlier days only, so still
// honest); a day whose own inputs are missing gets no LEAR forecast (NaN), and the ensemble
// falls back to its other members there (ensemble.ts), counting those hours.
import { fitLear, learFeatureCount, learFeatureRow, predictLear, type DailyPanel, type LearModel, type LearOptions } from '../../../lib/lear/index.ts';
import type { FeatureTable } from '../model/dataset.ts';
import { completeDays, learPanelsFromFeatures, type NodePanel } from './features-panel.ts';

export interface LearTableRunOptions {
  /** Day numbers (days since 1970-01-01) of the first and last target day, inclusive. */
  readonly firstDay: number;
  readonly lastDay: number;
  readonly windows: readonly number[];
  /**
   * Refit every this many days: one interval for every window, or one per window (in `windows`
   * order); 1 = daily (epftoolbox). A short window needs frequent refits, a long one hardly
   * moves between them (bench/lear-cadence.ts).
   */
  readonly every: number | readonly number[];
  readonly options?: LearOptions;
  readonly signal?: AbortSignal;
}

export interface LearTableRun {
  /** `${nodeId}|${dayNumber}` → the CWA's 24 forecasts (NaN hours where no window could forecast). */
  readonly cwa: ReadonlyMap<string, Float64Array>;
  /** Per window (in `windows` order), the same keys. */
  readonly byWindow: ReadonlyArray<ReadonlyMap<string, Float64Array>>;
  /** Target days (node × day) no window could forecast: inputs missing or no complete window yet. */
  readonly missingDays: number;
  readonly fits: number;
  readonly seconds: number;
}

export const learKey = (nodeId: number, dayNumber: number): string => `${nodeId}|${dayNumber}`;

export function learWalkForwardOnTable(table: FeatureTable, o: LearTableRunOptions): LearTableRun {
  return learWalkForwardOnPanels(learPanelsFromFeatures(table), o);
}

/** The same over panels already built (`learPanelsFromFeatures`): what a worker thread is given (off-thread.ts). */
export function learWalkForwardOnPanels(panels: readonly NodePanel[], o: LearTableRunOptions): LearTableRun {
  const started = performance.now();
  if (o.windows.length === 0) throw new Error('learWalkForwardOnTable: no calibration windows given; set PJM_LEAR_WINDOWS (e.g. 56,84).');
  const every = intervalsOf(o.windows, o.every);
  const cwa = new Map<string, Float64Array>();
  const byWindow = o.windows.map(() => new Map<string, Float64Array>());
  let missingDays = 0;
  let fits = 0;
  for (const { nodeId, firstDayNumber, panel } of panels) {
    const prefix = completePrefix(completeDays(panel));
    const features = learFeatureMatrixSafe(panel);
    const models: Array<LearModel | undefined> = o.windows.map(() => undefined);
    for (let dn = o.firstDay; dn <= o.lastDay; dn++) {
      o.signal?.throwIfAborted();
      const d = dn - firstDayNumber;
      if (d < 8 || d >= panel.days.length) continue;
      const t = dn - o.firstDay;
      const perWindow: Float64Array[] = [];
      o.windows.forEach((window, w) => {
        const a = d - window;
        const whole = a >= 0 && prefix[d]! - prefix[a]! === window;
        if (whole && (models[w] === undefined || t % every[w]! === 0)) {
          models[w] = fitLear({ panel, lastTrainDay: d - 1, window, features, previous: models[w] }, o.options);
          fits++;
        }
        const model = models[w];
        if (model === undefined) return;
        let f: Float64Array;
        try {
          f = predictLear(model, panel, d);
        } catch {
          return; // the day's inputs are incomplete: no forecast from this window
        }
        byWindow[w]!.set(learKey(nodeId, dn), f);
        perWindow.push(f);
      });
      // CWA is the mean of every configured window: a day some window cannot forecast (its
      // history is shorter than the window, or an input is missing) has no LEAR forecast, and the
      // ensemble uses XGBoost alone there. A mean of the short windows alone is another model,
      // chosen by nobody: on the 12-hub exports (92 days, no whole 1092-day window) it made the
      // ensemble worse than XGBoost (MAE 21.63 against 21.44, 2026-12-03).
      if (perWindow.length < o.windows.length) {
        missingDays++;
        continue;
      }
      cwa.set(learKey(nodeId, dn), windowMean(perWindow));
    }
  }
  return { cwa, byWindow, missingDays, fits, seconds: (performance.now() - started) / 1000 };
}

/** Each window's refit interval: `every` itself when it is one per window, else that one number for each; checked. */
export function intervalsOf(windows: readonly number[], every: number | readonly number[]): number[] {
  const out = typeof every === 'number' ? windows.map(() => every) : [...every];
  if (out.length !== windows.length)
    throw new Error(`LEAR: ${out.length} refit intervals for ${windows.length} windows (${windows.join(',')}); give one interval, or one per window.`);
  for (const e of out) if (!Number.isInteger(e) || e < 1) throw new Error(`LEAR: refit interval ${e} is not a whole number of days >= 1.`);
  return out;
}

/** The calibration window average (CWA) of one day's forecasts: the plain mean per hour of the windows that forecast it. */
export function windowMean(perWindow: readonly Float64Array[]): Float64Array {
  const mean = new Float64Array(24);
  for (const f of perWindow) for (let h = 0; h < 24; h++) mean[h]! += f[h]! / perWindow.length;
  return mean;
}

/**
 * Per panel day, how many complete days come before it: a window [a, b] of panel days is whole
 * (every price and exogenous value finite) iff prefix[b + 1] - prefix[a] = b - a + 1.
 */
export function completePrefix(complete: Uint8Array): Int32Array {
  const prefix = new Int32Array(complete.length + 1);
  for (let d = 0; d < complete.length; d++) prefix[d + 1] = prefix[d]! + complete[d]!;
  return prefix;
}

/**
 * Every panel day's raw LEAR row, as `learFeatureMatrix`, except that a day whose inputs are
 * missing gets a NaN row instead of an error: it only makes the windows that hold it unusable.
 */
export function learFeatureMatrixSafe(panel: DailyPanel): Float64Array {
  const p = learFeatureCount(panel.exogenous.length);
  const out = new Float64Array(panel.days.length * p).fill(Number.NaN);
  const row = new Float64Array(p);
  for (let d = 7; d < panel.days.length; d++) {
    try {
      learFeatureRow(panel, d, row);
      out.set(row, d * p);
    } catch {
      // left NaN
    }
  }
  return out;
}
