// Daily recalibration over a span of days and calibration window averaging (CWA): before each
// target day, every window's LEAR is refitted on the days up to the day before (warm-started
// from its previous fit), then forecasts the day; the CWA forecast is the plain mean of the
// windows' forecasts (Marcjasz, Serafin & Weron 2018; epftoolbox's "LEAR Ensemble" averages
// the 56, 84, 1092 and 1456-day windows).
import { fitLear, learFeatureMatrix, predictLear, type DailyPanel, type LearModel, type LearOptions } from './lear.ts';

/** epftoolbox's calibration windows, in days. */
export const EPFTOOLBOX_WINDOWS = [56, 84, 1092, 1456] as const;

/** The element-wise mean of equally long forecasts (members × the same hours). */
export function averageForecasts(members: readonly ArrayLike<number>[]): Float64Array {
  if (members.length === 0) throw new Error('averageForecasts: no members to average; give at least one forecast.');
  const len = members[0]!.length;
  members.forEach((m, i) => {
    if (m.length !== len) throw new Error(`averageForecasts: member ${i} has ${m.length} values but member 0 has ${len}; members must cover the same hours.`);
  });
  const out = new Float64Array(len);
  for (const m of members) for (let i = 0; i < len; i++) out[i]! += m[i]!;
  for (let i = 0; i < len; i++) out[i]! /= members.length;
  return out;
}

export interface LearWalkForwardInput {
  readonly panel: DailyPanel;
  /** Panel indices of the first and last target day, inclusive. */
  readonly firstDay: number;
  readonly lastDay: number;
  readonly windows: readonly number[];
  /** Refit every this many days (1 = daily, as epftoolbox); default 1. */
  readonly every?: number;
  readonly options?: LearOptions;
  readonly onDay?: (dayIndex: number, done: number, total: number) => void;
}

export interface LearWalkForwardResult {
  /** Per window (in `windows` order): target days × 24 forecasts, row-major. */
  readonly byWindow: readonly Float64Array[];
  /** The calibration window average of `byWindow`. */
  readonly cwa: Float64Array;
  /** Chosen alpha per window, target day and hour: [window][day * 24 + h]. */
  readonly alphas: readonly Float64Array[];
  readonly seconds: number;
}

export function learWalkForward(input: LearWalkForwardInput): LearWalkForwardResult {
  const started = performance.now();
  const { panel, firstDay, lastDay, windows } = input;
  const every = input.every ?? 1;
  if (lastDay < firstDay) throw new Error(`learWalkForward: last day ${panel.days[lastDay]} is before the first ${panel.days[firstDay]}.`);
  if (windows.length === 0) throw new Error('learWalkForward: no calibration windows given.');
  const features = learFeatureMatrix(panel);
  const days = lastDay - firstDay + 1;
  const byWindow = windows.map(() => new Float64Array(days * 24));
  const alphas = windows.map(() => new Float64Array(days * 24));
  const models: Array<LearModel | undefined> = windows.map(() => undefined);
  for (let t = 0; t < days; t++) {
    const d = firstDay + t;
    windows.forEach((window, w) => {
      if (t % every === 0) models[w] = fitLear({ panel, lastTrainDay: d - 1, window, features, previous: models[w] }, input.options);
      const model = models[w]!;
      byWindow[w]!.set(predictLear(model, panel, d, features), t * 24);
      alphas[w]!.set(model.alphas, t * 24);
    });
    input.onDay?.(d, t + 1, days);
  }
  return { byWindow, cwa: averageForecasts(byWindow), alphas, seconds: (performance.now() - started) / 1000 };
}
