// Daily recalibration made cheap: within a block that begins with a model trained from scratch
// (the anchor, walk-forward.ts), each later day's model is the day before's, updated on the
// window moved by one day instead of trained again. Two updates:
// - `continue`: the previous day's boosters boosted a few more rounds on the rows through the
//   day before (XGBoost's training continuation), so the newest days are learnt;
// - `refresh`: the anchor's trees kept, their leaf values refitted on those rows (XGBoost's
//   process_type=update with the refresh updater and refresh_leaf).
// One matrix serves the whole block: the anchor's window and the block's days, built once in
// the anchor's price transform; each day's window is its rows of weight 1, the later days' rows
// weigh 0 (no gradient, no hessian, skipped by the quantile sketch), so XGBoost's hist index and
// each booster's cached predictions of the matrix are built once per block, not once per day.
import { continueTraining, DMatrix, type Booster, type Params } from '../../../lib/xgboost/index.ts';
import { dayNumberOf } from '../../../lib/days.ts';
import { rowsBetween, type FeatureTable } from '../model/dataset.ts';
import { designMatrix, predictRows, targetLabels, type TrainedMember, type TrainedModel } from '../model/train.ts';

/** How a day's model is made from the day before's between two trainings from scratch. */
export type WarmUpdate =
  /**
   * Boost the previous day's boosters `rounds` more rounds on the window moved by one day, at
   * learning rate `eta` (default the settings').
   */
  | { readonly kind: 'continue'; readonly rounds: number; readonly eta?: number }
  /** Refit the anchor's leaf values on the window moved by one day (tree structures kept). */
  | { readonly kind: 'refresh' };

export interface WarmDailyOptions {
  readonly update: WarmUpdate;
  /** OpenMP threads of the updates (the block's share of the cores). */
  readonly threads: number;
  readonly signal?: AbortSignal;
}

export interface WarmDailyResult {
  /** Price forecasts of the rows of days [from, to], in table order. */
  readonly predicted: Float64Array;
  /** Rounds each member predicts with on the block's last day. */
  readonly rounds: readonly number[];
  /** Wall seconds of the updates (the anchor's training not included). */
  readonly updateSeconds: number;
}

/** Checks a WarmUpdate from a flag or a config; throws naming the bad value. */
export function checkWarmUpdate(update: WarmUpdate): WarmUpdate {
  if (update.kind === 'continue' && (!Number.isInteger(update.rounds) || update.rounds < 1))
    throw new Error(`Warm start: continue takes a whole number of rounds >= 1 per day, got ${update.rounds}.`);
  if (update.kind === 'continue' && update.eta !== undefined && !(update.eta > 0 && update.eta <= 1))
    throw new Error(`Warm start: continue's eta must be in (0, 1], got ${update.eta}.`);
  if (update.kind !== 'continue' && update.kind !== 'refresh')
    throw new Error(`Warm start: update must be continue or refresh, got ${(update as { kind: string }).kind}.`);
  return update;
}

/**
 * Forecasts days [from, to] of `table`: day `from` with `anchor` (trained through from - 1),
 * every later day D with the anchor updated through D - 1 by `options.update`. `anchor` is
 * left as it was (the updates work on copies of its boosters); the caller disposes it.
 */
export async function warmDailyPredictions(
  table: FeatureTable,
  anchor: TrainedModel,
  [from, to]: [number, number],
  options: WarmDailyOptions,
): Promise<WarmDailyResult> {
  const block = rowsBetween(table, from, to);
  const predicted = new Float64Array(block.end - block.start);
  const predictDay = (model: TrainedModel, day: number) => {
    const { start, end } = rowsBetween(table, day, day);
    predicted.set(predictRows(model, table, start, end), start - block.start);
  };
  predictDay(anchor, from);
  if (to === from) return { predicted, rounds: anchor.members.map((m) => m.rounds), updateSeconds: 0 };

  const started = performance.now();
  const settings = anchor.settings;
  // Every row a day of the block may train on: the anchor's window through the block's last day but one.
  const rows = rowsBetween(table, dayNumberOf(anchor.window.firstDay), to - 1);
  const n = rows.end - rows.start;
  const matrix = DMatrix.fromDense(designMatrix(table, anchor.transform, rows.start, rows.end), {
    rows: n,
    cols: table.featureNames.length,
    featureNames: table.featureNames,
    nthread: options.threads,
  });
  const labelsOf = anchor.members.map((m) => targetLabels(table, anchor.transform, rows.start, rows.end, m.variant.target));
  const paramsOf = anchor.members.map((m): Params => ({ ...settings.params, nthread: options.threads, ...m.variant.params }));
  const halfLife = settings.recencyHalfLifeDays;
  const weights = new Float32Array(n);
  // The boosters the day's forecast uses: copies of the anchor's (cut to the rounds it predicts
  // with, without the rounds boosted past early stopping's choice) that `continue` grows day by day.
  const current: Booster[] = [];
  try {
    if (options.update.kind === 'continue') for (const m of anchor.members) current.push(m.booster.slice(0, m.rounds));
    for (let day = from + 1; day <= to; day++) {
      options.signal?.throwIfAborted();
      // The window through day - 1 (weighted by recency as trainModel weights when the settings say so).
      for (let i = 0; i < n; i++) {
        const age = day - 1 - table.dayNumber[rows.start + i]!;
        weights[i] = age < 0 ? 0 : halfLife === undefined ? 1 : 0.5 ** (age / halfLife);
      }
      matrix.setWeights(weights);
      const members: TrainedMember[] = [];
      for (const [k, m] of anchor.members.entries()) {
        matrix.setLabels(labelsOf[k]!);
        const update = options.update;
        if (update.kind === 'continue') {
          const params = update.eta === undefined ? paramsOf[k]! : { ...paramsOf[k]!, eta: update.eta };
          await continueTraining(current[k]!, params, matrix, { rounds: update.rounds, signal: options.signal });
        } else {
          // Refreshing is not cumulative (leaf values are refitted from the rows, whatever they were): always from the anchor.
          current[k]?.dispose();
          current[k] = m.booster.slice(0, m.rounds);
          // verbosity 0: naming an updater makes XGBoost warn, at every configuration, that tree_method is then ignored.
          const refresh = { ...paramsOf[k]!, process_type: 'update', updater: 'refresh', refresh_leaf: 1, verbosity: 0 };
          await continueTraining(current[k]!, refresh, matrix, { rounds: m.rounds, signal: options.signal });
        }
        members.push({ ...m, booster: current[k]!, rounds: current[k]!.numBoostedRounds });
      }
      predictDay({ ...anchor, members }, day);
    }
    return { predicted, rounds: current.map((b) => b.numBoostedRounds), updateSeconds: (performance.now() - started) / 1000 };
  } finally {
    for (const b of current) b.dispose();
    matrix.dispose();
  }
}
