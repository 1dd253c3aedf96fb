// Walk-forward evaluation: the test period is cut into blocks (a month, a week or a day);
// before each block the model is retrained on every complete feature row whose day precedes
// the block (expanding window, or a rolling one), then forecasts the block's days. Nothing
// a block forecasts was seen in training. Daily recalibration can instead train from scratch
// once a block (e.g. a month) and update the model every day in between (warmStart,
// warm-start.ts): the same rule holds for each day's update.
import { naiveForecast, metricsReport, type MetricsReport, type ScoredHour } from '../metrics.ts';
import { dayNumberOf, dayOfNumber } from '../../../lib/days.ts';
import { rowsBetween, type FeatureTable } from '../model/dataset.ts';
import { disposeModel, predictRows, trainModel } from '../model/train.ts';
import type { TrainSettings } from '../model/settings.ts';
import { checkWarmUpdate, warmDailyPredictions, type WarmUpdate } from './warm-start.ts';

/** How often the model is retrained during the test period. */
export type Recalibration = 'monthly' | 'weekly' | 'daily' | { readonly everyDays: number };

export type TrainingWindow =
  | { readonly kind: 'expanding' /** First training day; default the table's first day. */; readonly firstDay?: string }
  | { readonly kind: 'rolling'; readonly days: number };

/**
 * Daily recalibration by updates (warm-start.ts): the model is trained from scratch at the
 * start of each `anchor` block (e.g. monthly), and every later day of the block updates the
 * day before's model on the window moved by one day. Needs `recalibration: 'daily'`.
 */
export interface WarmStart {
  readonly anchor: Recalibration;
  readonly update: WarmUpdate;
}

export interface WalkForwardOptions {
  /** First and last EPT delivery day of the test period, inclusive (YYYY-MM-DD). */
  readonly testFirstDay: string;
  readonly testLastDay: string;
  readonly recalibration: Recalibration;
  readonly window: TrainingWindow;
  readonly settings: TrainSettings;
  /** With `recalibration: 'daily'`: update the model daily between trainings from scratch instead of training it every day. */
  readonly warmStart?: WarmStart;
  /** Called after each block with its summary (progress logging). */
  readonly onBlock?: (block: BlockSummary, done: number, total: number) => void;
  readonly signal?: AbortSignal;
  /**
   * Blocks trained at once (default 2), each with its share of the settings' `nthread`. A
   * block's members train one after the other on one thread (they share the window's
   * matrices), so one block in flight would leave a core idle. Blocks are independent, so the
   * forecasts are the same whatever this is, as long as the threads per block stay the same.
   */
  readonly parallelBlocks?: number;
}

export interface BlockSummary {
  readonly trainFirstDay: string;
  readonly trainLastDay: string;
  /** With a warm start: the last day the block's last model was updated through (its last day but one). */
  readonly updatedThroughDay?: string;
  readonly testFirstDay: string;
  readonly testLastDay: string;
  /** Rounds of each member, in `settings.variants` order. */
  readonly rounds: readonly number[];
  readonly trainSeconds: number;
  /** With a warm start: wall seconds of the block's daily updates. */
  readonly updateSeconds?: number;
  readonly mae: number;
}

/** One forecast hour of the test period, on the EPT 24-hour grid. */
export interface ForecastHour extends ScoredHour {
  readonly day: string;
  /**
   * The forecast's online conformal quantiles at QUANTILE_LEVELS (5..95 %, non-decreasing),
   * from the residuals of the days before it only (families.ts); absent in the warm-up days.
   */
  readonly quantiles?: readonly number[];
}

export interface WalkForwardResult {
  readonly forecasts: readonly ForecastHour[];
  readonly blocks: readonly BlockSummary[];
  readonly metrics: MetricsReport;
  readonly seconds: number;
}

const DEFAULT_PARALLEL_BLOCKS = 2;

/** Test blocks [first, last] (day numbers): calendar months from the first test day, or fixed-length blocks. */
export function testBlocks(firstDay: string, lastDay: string, recalibration: Recalibration): Array<[number, number]> {
  const first = dayNumberOf(firstDay);
  const last = dayNumberOf(lastDay);
  if (last < first) throw new Error(`walkForward: test period ends (${lastDay}) before it starts (${firstDay}).`);
  const blocks: Array<[number, number]> = [];
  if (recalibration === 'monthly') {
    const start = new Date(`${firstDay}T00:00:00Z`);
    for (let k = 0; ; k++) {
      const from = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + k, start.getUTCDate()) / 86_400_000;
      if (from > last) break;
      const next = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + k + 1, start.getUTCDate()) / 86_400_000;
      blocks.push([from, Math.min(next - 1, last)]);
    }
    return blocks;
  }
  const every = recalibration === 'weekly' ? 7 : recalibration === 'daily' ? 1 : recalibration.everyDays;
  if (!Number.isInteger(every) || every < 1) throw new Error(`walkForward: recalibration every ${every} days is not a positive integer.`);
  for (let from = first; from <= last; from += every) blocks.push([from, Math.min(from + every - 1, last)]);
  return blocks;
}

/** Runs the walk-forward backtest over `table` and scores it against the naive forecast. */
export async function walkForward(table: FeatureTable, options: WalkForwardOptions): Promise<WalkForwardResult> {
  const started = performance.now();
  if (options.warmStart) {
    if (options.recalibration !== 'daily')
      throw new Error(`walkForward: a warm start updates the model daily; give recalibration 'daily' with it, not ${JSON.stringify(options.recalibration)}.`);
    checkWarmUpdate(options.warmStart.update);
  }
  // With a warm start, a block runs from one training from scratch to the next.
  const blocks = testBlocks(options.testFirstDay, options.testLastDay, options.warmStart?.anchor ?? options.recalibration);
  const parallel = options.parallelBlocks ?? DEFAULT_PARALLEL_BLOCKS;
  if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`walkForward: parallelBlocks must be a whole number >= 1, got ${parallel}.`);
  // Blocks train at once: each gets its share of the settings' threads (one each by default).
  const threads = Math.max(1, Math.floor(Number(options.settings.params.nthread ?? 1) / parallel));
  const results: Array<Promise<BlockResult>> = [];
  const forecasts: ForecastHour[] = [];
  const summaries: BlockSummary[] = [];
  // Up to `parallel` blocks in flight; results are taken in block order, so the forecasts and
  // the progress lines come out as a sequential run's would.
  let next = 0;
  const launch = () => {
    while (next < blocks.length && next - summaries.length < parallel) {
      const block = runBlock(table, blocks[next]!, options, threads);
      // A block that fails while an earlier one is awaited is reported when its turn comes.
      block.catch(() => undefined);
      results.push(block);
      next++;
    }
  };
  try {
    launch();
    for (let k = 0; k < blocks.length; k++) {
      const r = await results[k]!;
      forecasts.push(...r.forecasts);
      summaries.push(r.summary);
      options.onBlock?.(r.summary, summaries.length, blocks.length);
      launch();
    }
  } finally {
    // Let blocks still in flight (after a failure) end before returning: their native models are freed by runBlock.
    await Promise.allSettled(results);
  }
  if (forecasts.length === 0) throw new Error(`walkForward: no complete feature rows between ${options.testFirstDay} and ${options.testLastDay}.`);
  return { forecasts, blocks: summaries, metrics: metricsReport(forecasts), seconds: (performance.now() - started) / 1000 };
}

interface BlockResult {
  readonly forecasts: ForecastHour[];
  readonly summary: BlockSummary;
}

/**
 * Trains on the rows before the block [from, to], forecasts its days (with a warm start, each
 * day after the first with the model updated through the day before), and frees the model.
 */
async function runBlock(table: FeatureTable, [from, to]: [number, number], options: WalkForwardOptions, threads: number): Promise<BlockResult> {
  options.signal?.throwIfAborted();
  const tableFirst = table.rows > 0 ? table.dayNumber[0]! : 0;
  // An RT model's rows carry the DA price of the hour: the RT baseline it is scored against too.
  const daPrice = table.market === 'rt' ? table.features['da_price_h'] : undefined;
  const trainLast = from - 1;
  const trainFirst =
    options.window.kind === 'rolling'
      ? trainLast - options.window.days + 1
      : options.window.firstDay !== undefined
        ? dayNumberOf(options.window.firstDay)
        : tableFirst;
  const t0 = performance.now();
  const model = await trainModel(table, { firstDay: trainFirst, lastDay: trainLast }, options.settings, { signal: options.signal, threads });
  const trainSeconds = (performance.now() - t0) / 1000;
  try {
    const { start, end } = rowsBetween(table, from, to);
    const warm = options.warmStart
      ? await warmDailyPredictions(table, model, [from, to], { update: options.warmStart.update, threads, signal: options.signal })
      : undefined;
    const predicted = warm?.predicted ?? predictRows(model, table, start, end);
    const forecasts: ForecastHour[] = [];
    let absSum = 0;
    for (let i = start; i < end; i++) {
      const actual = table.target[i]!;
      const forecast = predicted[i - start]!;
      absSum += Math.abs(actual - forecast);
      forecasts.push({
        nodeId: table.nodeId[i]!,
        day: dayOfNumber(table.dayNumber[i]!),
        hour: table.hour[i]!,
        actual,
        forecast,
        naive: naiveForecast(table.features['day_of_week']![i]!, table.features['price_lag1_h']![i]!, table.features['price_lag7_h']![i]!),
        ...(daPrice ? { daPrice: daPrice[i]! } : {}),
      });
    }
    const summary: BlockSummary = {
      trainFirstDay: model.window.firstDay,
      trainLastDay: model.window.lastDay,
      ...(warm && to > from ? { updatedThroughDay: dayOfNumber(to - 1) } : {}),
      testFirstDay: dayOfNumber(from),
      testLastDay: dayOfNumber(to),
      rounds: warm?.rounds ?? model.members.map((m) => m.rounds),
      trainSeconds,
      ...(warm ? { updateSeconds: warm.updateSeconds } : {}),
      mae: end > start ? absSum / (end - start) : Number.NaN,
    };
    return { forecasts, summary };
  } finally {
    disposeModel(model);
  }
}
