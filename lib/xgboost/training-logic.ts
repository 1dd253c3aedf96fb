// Pure pieces of training, kept apart from the native calls so tests can run them with
// no library: turning parameters into XGBoost's string pairs, reading the evaluation
// line XGBoost prints each round, and deciding when early stopping fires.
import { XGBoostUsageError } from './errors.ts';

/** Any XGBoost parameter (https://xgboost.readthedocs.io/en/release_1.7.0/parameter.html). */
export type ParamValue = string | number | boolean;
export type Params = Readonly<Record<string, ParamValue | readonly ParamValue[]>>;

/**
 * Flattens parameters into the (name, value) string pairs XGBoosterSetParam takes. An
 * array gives one pair per element, which is how XGBoost accumulates several
 * `eval_metric`s (the last one is the metric early stopping watches, as in Python).
 */
export function paramPairs(params: Params): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(params)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values as ParamValue[]) {
      if (typeof v === 'number' && !Number.isFinite(v)) {
        throw new XGBoostUsageError(`XGBoost parameter "${name}" is ${v}; give a finite number.`);
      }
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new XGBoostUsageError(`XGBoost parameter "${name}" has a ${v === null ? 'null' : typeof v} value; give a string, number or boolean.`);
      }
      pairs.push([name, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]);
    }
  }
  return pairs;
}

/** One round of the evaluation log: `{ valid: { rmse: 0.21, mae: 0.15 } }`. */
export interface EvalRound {
  readonly iteration: number;
  readonly scores: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * Parses XGBoosterEvalOneIter's line, e.g. `[3]\ttrain-rmse:0.5\tvalid-rmse:0.61`.
 * Set names are matched against the names we gave, since metric names may themselves
 * contain `-` (`poisson-nloglik`) or `@` (`error@0.7`).
 */
export function parseEvalLine(line: string, setNames: readonly string[]): EvalRound {
  const [head, ...fields] = line.trim().split('\t');
  const iteration = Number(/^\[(\d+)\]$/.exec(head ?? '')?.[1] ?? NaN);
  if (!Number.isInteger(iteration)) throw new Error(`Unexpected XGBoost evaluation line: ${JSON.stringify(line)}`);
  const scores: Record<string, Record<string, number>> = {};
  // Longest names first so that `valid-late` is not read as set `valid`, metric `late-rmse`.
  const names = [...setNames].sort((a, b) => b.length - a.length);
  for (const field of fields) {
    const colon = field.lastIndexOf(':');
    const key = field.slice(0, colon);
    const set = names.find((n) => key.startsWith(`${n}-`));
    if (colon < 0 || set === undefined) throw new Error(`Unexpected XGBoost evaluation field: ${JSON.stringify(field)}`);
    (scores[set] ??= {})[key.slice(set.length + 1)] = Number(field.slice(colon + 1));
  }
  return { iteration, scores };
}

/** Metrics where larger is better; the same prefixes Python xgboost's EarlyStopping uses. */
export function metricIsMaximized(metric: string): boolean {
  return /^(auc|aucpr|map|ndcg|pre)(@|$)/.test(metric);
}

export interface EarlyStoppingState {
  readonly bestIteration: number;
  readonly bestScore: number;
  readonly stop: boolean;
}

/**
 * One step of early stopping: a score must be strictly better than the best so far to
 * count, and training stops once `rounds` rounds in a row brought no improvement (the
 * rule of Python xgboost 1.7, so both sides pick the same best iteration).
 */
export function earlyStoppingStep(
  previous: EarlyStoppingState | undefined,
  iteration: number,
  score: number,
  options: { rounds: number; maximize: boolean },
): EarlyStoppingState {
  if (previous === undefined) return { bestIteration: iteration, bestScore: score, stop: false };
  const better = options.maximize ? score > previous.bestScore : score < previous.bestScore;
  if (better) return { bestIteration: iteration, bestScore: score, stop: false };
  return { ...previous, stop: iteration - previous.bestIteration >= options.rounds };
}
