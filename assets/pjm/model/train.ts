// Trains the price model on a window of feature rows and predicts with it. One global model
// per member over every node and hour (hour is a feature: it matched 24 per-hour models),
// prices and target in the per-node asinh-median space, members averaged in $/MWh.
import { type Booster, DMatrix, train, type EvalRound, type Params } from '../../../lib/xgboost/index.ts';
import { priceFeatureColumns } from '../features/columns.ts';
import { dayOfNumber } from '../../../lib/days.ts';
import { rowsBetween, type FeatureTable } from './dataset.ts';
import { fitNodeScale, fromZ, toZ, type NodeScale, type PriceTransform } from './transform.ts';
import type { TargetKind, TrainSettings, VariantSpec } from './settings.ts';

export interface TrainWindow {
  /** First and last EPT delivery day (YYYY-MM-DD) of the training rows, inclusive. */
  readonly firstDay: string;
  readonly lastDay: string;
}

export interface TrainedMember {
  readonly variant: VariantSpec;
  readonly booster: Booster;
  /** Rounds the member predicts with (the early-stopping choice). */
  readonly rounds: number;
  readonly bestIteration: number | undefined;
  /** Validation MAE in z space at the best round. */
  readonly bestScore: number | undefined;
  readonly evalLog: readonly EvalRound[];
}

export interface TrainedModel {
  readonly market: FeatureTable['market'];
  /** The inputs the model reads (recorded in the sidecar; /predict builds rows from the same set). */
  readonly featureSet: FeatureTable['featureSet'];
  readonly featureNames: readonly string[];
  readonly transform: PriceTransform;
  readonly members: readonly TrainedMember[];
  readonly window: TrainWindow & { readonly validationFirstDay: string; readonly trainRows: number; readonly validationRows: number };
  readonly settings: TrainSettings;
}

const nodeKey = (id: number): string => String(id);

/** Per-node transform fitted on the targets (prices) of rows [start, end). */
function fitTransform(table: FeatureTable, start: number, end: number): PriceTransform {
  const byNodeValues = new Map<string, number[]>();
  for (let i = start; i < end; i++) {
    const t = table.target[i]!;
    if (!Number.isFinite(t)) continue;
    const key = nodeKey(table.nodeId[i]!);
    let list = byNodeValues.get(key);
    if (list === undefined) byNodeValues.set(key, (list = []));
    list.push(t);
  }
  const byNode: Record<string, NodeScale> = {};
  for (const [key, values] of byNodeValues) byNode[key] = fitNodeScale(Float64Array.from(values));
  return { kind: 'asinh-median', byNode };
}

function scaleOf(transform: PriceTransform, nodeId: number): NodeScale {
  const s = transform.byNode[nodeKey(nodeId)];
  if (s === undefined) {
    throw new Error(`No price transform for node ${nodeId}: the model was not trained on this node. Retrain with its history.`);
  }
  return s;
}

/**
 * The node scale of each row of [start, end), looked up once per row and node: the lookup by
 * node key was once per cell, and took more of a retrain's main-thread time than the asinh.
 */
function rowScales(table: FeatureTable, transform: PriceTransform, start: number, end: number): NodeScale[] {
  const byNode = new Map<number, NodeScale>();
  const out = new Array<NodeScale>(end - start);
  for (let i = start; i < end; i++) {
    const id = table.nodeId[i]!;
    let s = byNode.get(id);
    if (s === undefined) byNode.set(id, (s = scaleOf(transform, id)));
    out[i - start] = s;
  }
  return out;
}

/** Row-major Float32 design matrix of rows [start, end): price columns in z space, others as is. */
export function designMatrix(
  table: FeatureTable,
  transform: PriceTransform,
  start: number,
  end: number,
  scales = rowScales(table, transform, start, end),
): Float32Array {
  const names = table.featureNames;
  const cols = names.length;
  const priceCols = new Set(priceFeatureColumns(table.featureSet));
  const out = new Float32Array((end - start) * cols);
  for (const [c, name] of names.entries()) {
    const column = table.features[name]!;
    const isPrice = priceCols.has(name);
    for (let i = start; i < end; i++) {
      const v = column[i]!;
      out[(i - start) * cols + c] = isPrice && Number.isFinite(v) ? toZ(v, scales[i - start]!) : v;
    }
  }
  return out;
}

const BASE_COLUMN: Record<Exclude<TargetKind, 'level'>, string> = { change_lag1: 'price_lag1_h', change_lag7: 'price_lag7_h', change_da: 'da_price_h' };

/** z-space base the member's output is added to: 0 for `level`, z(price of D-1, h) for `change_lag1`, z(DA price of D, h) for `change_da`... */
/** The column a member's z-space base is read from, or undefined for `level` (base 0). */
function baseColumn(table: FeatureTable, target: TargetKind): Float64Array | undefined {
  if (target === 'level') return undefined;
  const column = table.features[BASE_COLUMN[target]];
  if (column === undefined)
    throw new Error(
      `A ${target} member needs the feature ${BASE_COLUMN[target]}, which feature set ${table.market} [${table.featureSet.inputs.join(', ')}] does not have; drop that member or add the input.`,
    );
  return column;
}

function labels(table: FeatureTable, scales: readonly NodeScale[], start: number, end: number, target: TargetKind): Float32Array {
  const base = baseColumn(table, target);
  const out = new Float32Array(end - start);
  for (let i = start; i < end; i++) {
    const s = scales[i - start]!;
    out[i - start] = toZ(table.target[i]!, s) - (base ? toZ(base[i]!, s) : 0);
  }
  return out;
}

/**
 * A member's labels of rows [start, end) under `transform`: what trainModel fits a member of
 * that target to (the walk-forward's warm starts fit the same labels on later windows).
 */
export function targetLabels(table: FeatureTable, transform: PriceTransform, start: number, end: number, target: TargetKind): Float32Array {
  return labels(table, rowScales(table, transform, start, end), start, end, target);
}

/** Row weights halving every `halfLife` days before `lastDay`; undefined when not weighting. */
function recencyWeights(table: FeatureTable, start: number, end: number, lastDay: number, halfLife: number | undefined): Float32Array | undefined {
  if (halfLife === undefined) return undefined;
  const out = new Float32Array(end - start);
  for (let i = start; i < end; i++) out[i - start] = Math.pow(0.5, (lastDay - table.dayNumber[i]!) / halfLife);
  return out;
}

/**
 * Early-stopping days of a window of `windowDays`: `settings.validationDays`, but at most a
 * quarter of the window (at least 7 days), so a few months of data (a Data Miner export) still
 * leave three quarters to fit on. Years of data (epftoolbox) keep the full setting.
 */
export function validationDaysFor(windowDays: number, settings: Pick<TrainSettings, 'validationDays'>): number {
  return Math.min(settings.validationDays, Math.max(7, Math.floor(windowDays / 4)));
}

export interface TrainModelOptions {
  readonly signal?: AbortSignal;
  /**
   * OpenMP threads of the training: default the settings' `nthread`. A caller that runs
   * several trainings at once (the walk-forward's parallel blocks) gives each its share, so
   * the cores are not oversubscribed and a backtest's models are those of a one-thread run.
   */
  readonly threads?: number;
}

/**
 * Trains every member of `settings.variants` on the rows of days [window.firstDay,
 * window.lastDay]: the last `validationDaysFor` days are the early-stopping set (time order,
 * never shuffled), then optionally a refit on the whole window for the chosen rounds.
 *
 * The members differ only in their targets, so they train one after the other on the same
 * matrices, each with its labels: XGBoost's hist index of the rows (the dearest part of a
 * short training, ~1 s of CPU on a backtest window) is built once per window, not per member.
 */
export async function trainModel(
  table: FeatureTable,
  window: { firstDay: number; lastDay: number },
  settings: TrainSettings,
  options: TrainModelOptions = {},
): Promise<TrainedModel> {
  const { signal } = options;
  const all = rowsBetween(table, window.firstDay, window.lastDay);
  const validationFirstDay = window.lastDay - validationDaysFor(window.lastDay - window.firstDay + 1, settings) + 1;
  const fit = rowsBetween(table, window.firstDay, validationFirstDay - 1);
  const valid = rowsBetween(table, validationFirstDay, window.lastDay);
  if (fit.end - fit.start < 24 * 28) {
    throw new Error(
      `trainModel: only ${fit.end - fit.start} training rows between ${dayOfNumber(window.firstDay)} and ${dayOfNumber(validationFirstDay - 1)}; need at least 4 weeks of complete feature rows.`,
    );
  }
  if (valid.end - valid.start === 0)
    throw new Error(`trainModel: no validation rows between ${dayOfNumber(validationFirstDay)} and ${dayOfNumber(window.lastDay)}.`);
  const threads = options.threads ?? Math.max(1, Number(settings.params.nthread ?? 1));
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`trainModel: threads must be a whole number >= 1, got ${threads}.`);
  // The transform sees the whole window: it is fitted on training data only either way.
  const transform = fitTransform(table, all.start, all.end);
  const cols = table.featureNames.length;
  const scales = rowScales(table, transform, all.start, all.end);
  const scalesOf = ({ start, end }: { start: number; end: number }) => scales.slice(start - all.start, end - all.start);
  const halfLife = settings.recencyHalfLifeDays;
  // The rows [start, end) of design matrix `x`, with the recency weights for training (not
  // validation) rows; each member sets its own labels before it trains.
  const matrix = (x: Float32Array, { start, end }: { start: number; end: number }, weighted: boolean): DMatrix =>
    DMatrix.fromDense(x, {
      rows: end - start,
      cols,
      ...(weighted ? { weights: recencyWeights(table, start, end, window.lastDay, halfLife) } : {}),
      featureNames: table.featureNames,
      nthread: threads,
    });
  const dFit = matrix(designMatrix(table, transform, fit.start, fit.end, scalesOf(fit)), fit, true);
  const dValid = matrix(designMatrix(table, transform, valid.start, valid.end, scalesOf(valid)), valid, false);
  // Built once for every member's refit, and only when the settings refit.
  let dAll: DMatrix | undefined;
  const labelsOf = (rows: { start: number; end: number }, target: TargetKind) => labels(table, scalesOf(rows), rows.start, rows.end, target);
  const trainOne = async (variant: VariantSpec): Promise<TrainedMember> => {
    const params: Params = { ...settings.params, nthread: threads, ...variant.params };
    dFit.setLabels(labelsOf(fit, variant.target));
    dValid.setLabels(labelsOf(valid, variant.target));
    const result = await train(params, dFit, {
      numBoostRound: settings.maxRounds,
      evals: [
        { name: 'train', data: dFit },
        { name: 'valid', data: dValid },
      ],
      earlyStoppingRounds: settings.earlyStoppingRounds,
      earlyStoppingSet: 'valid',
      signal,
    });
    const rounds = (result.bestIteration ?? result.rounds - 1) + 1;
    const chosen = { variant, rounds, bestIteration: result.bestIteration, bestScore: result.bestScore, evalLog: result.evalLog };
    if (!settings.refitOnWholeWindow) return { ...chosen, booster: result.booster };
    result.booster.dispose();
    dAll ??= matrix(designMatrix(table, transform, all.start, all.end, scales), all, true);
    dAll.setLabels(labelsOf(all, variant.target));
    const refit = await train(params, dAll, { numBoostRound: rounds, signal });
    return { ...chosen, booster: refit.booster };
  };
  const members: TrainedMember[] = [];
  try {
    for (const variant of settings.variants) members.push(await trainOne(variant));
  } catch (error) {
    for (const m of members) m.booster.dispose();
    throw error;
  } finally {
    dFit.dispose();
    dValid.dispose();
    dAll?.dispose();
  }
  return {
    market: table.market,
    featureSet: table.featureSet,
    featureNames: table.featureNames,
    transform,
    members,
    window: {
      firstDay: dayOfNumber(window.firstDay),
      lastDay: dayOfNumber(window.lastDay),
      validationFirstDay: dayOfNumber(validationFirstDay),
      trainRows: fit.end - fit.start,
      validationRows: valid.end - valid.start,
    },
    settings,
  };
}

/** Price forecasts ($/MWh) of rows [start, end): each member's z forecast mapped back, then averaged. */
export function predictRows(model: TrainedModel, table: FeatureTable, start: number, end: number): Float64Array {
  const scales = rowScales(table, model.transform, start, end);
  const x = designMatrix(table, model.transform, start, end, scales);
  const out = new Float64Array(end - start);
  for (const member of model.members) {
    const z = member.booster.predict(x, { iterationRange: [0, member.rounds] });
    const base = baseColumn(table, member.variant.target);
    for (let i = start; i < end; i++) {
      const s = scales[i - start]!;
      out[i - start]! += fromZ(z[i - start]! + (base ? toZ(base[i]!, s) : 0), s) / model.members.length;
    }
  }
  return out;
}

/** Frees every member's native model. */
export function disposeModel(model: TrainedModel): void {
  for (const m of model.members) m.booster.dispose();
}
