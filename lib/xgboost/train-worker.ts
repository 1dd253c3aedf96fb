// The worker-thread side of train(): runs boosting loops with synchronous C calls,
// off the main event loop, and posts each round's evaluation back. Running every call
// of one training on one thread is also what keeps XGBGetLastError (thread-local)
// readable. A new booster's handle is handed to the main thread on success and freed here
// on failure, so it is never leaked nor owned twice; a booster continued in place
// (continueTraining) stays its owner's either way.
import { parentPort } from 'node:worker_threads';
import { XGBoostError, XGBoostUsageError } from './errors.ts';
import { check, native, out, readString, type Handle } from './native.ts';
import { earlyStoppingStep, metricIsMaximized, parseEvalLine, type EarlyStoppingState, type EvalRound } from './training-logic.ts';

export interface TrainJob {
  readonly params: ReadonlyArray<[string, string]>;
  readonly dtrain: Handle;
  readonly evals: ReadonlyArray<{ name: string; handle: Handle }>;
  readonly featureNames: readonly string[] | undefined;
  readonly numBoostRound: number;
  readonly earlyStopping: { rounds: number; set: string; metric: string | undefined; maximize: boolean | undefined } | undefined;
  /**
   * A booster to boost further in place (continueTraining), owned by the caller: its rounds
   * are added after the ones it has, and it is never freed here. Undefined: a new booster.
   */
  readonly continueFrom: Handle | undefined;
  /** Int32Array over a SharedArrayBuffer; 1 means the caller aborted. */
  readonly abortFlag: Int32Array;
}

export type TrainMessage =
  | { kind: 'round'; round: EvalRound }
  | { kind: 'done'; handle: Handle; bestIteration: number | undefined; bestScore: number | undefined; rounds: number; stoppedEarly: boolean }
  | { kind: 'aborted' }
  | { kind: 'error'; error: { name: string; message: string; operation?: string; xgboostMessage?: string; context?: string } };

function newBooster(job: TrainJob): Handle {
  const cache = new BigUint64Array([job.dtrain, ...job.evals.map((e) => e.handle)]);
  check(native().XGBoosterCreate(cache, cache.length, out.ptr), 'XGBoosterCreate', 'creating the booster');
  return out.ptr[0]!;
}

function run(job: TrainJob): TrainMessage {
  const owned = job.continueFrom === undefined;
  const handle = job.continueFrom ?? newBooster(job);
  // Only a booster made here is freed here: a continued one stays its owner's, whatever happens.
  const free = () => owned && native().XGBoosterFree(handle);
  try {
    // A continued booster's rounds are numbered after its own (they seed seed_per_iteration).
    const first = [0];
    if (!owned) check(native().XGBoosterBoostedRounds(handle, first), 'XGBoosterBoostedRounds', 'reading the rounds of the booster to continue');
    for (const [name, value] of job.params) {
      check(native().XGBoosterSetParam(handle, name, value), 'XGBoosterSetParam', `setting parameter ${name}=${value}`);
    }
    if (owned && job.featureNames) {
      check(
        native().XGBoosterSetStrFeatureInfo(handle, 'feature_name', [...job.featureNames], job.featureNames.length),
        'XGBoosterSetStrFeatureInfo',
        'setting the booster feature names',
      );
    }
    const evalHandles = new BigUint64Array(job.evals.map((e) => e.handle));
    const evalNames = job.evals.map((e) => e.name);
    let stopping: EarlyStoppingState | undefined;
    let rounds = 0;
    for (let k = 0; k < job.numBoostRound; k++) {
      if (Atomics.load(job.abortFlag, 0) === 1) {
        free();
        return { kind: 'aborted' };
      }
      const i = first[0]! + k;
      check(native().XGBoosterUpdateOneIter(handle, i, job.dtrain), 'XGBoosterUpdateOneIter', `training round ${i}`);
      rounds = k + 1;
      if (evalNames.length === 0) continue;
      check(native().XGBoosterEvalOneIter(handle, i, evalHandles, evalNames, evalNames.length, out.ptr), 'XGBoosterEvalOneIter', `evaluating round ${i}`);
      const round = parseEvalLine(readString(out.ptr[0]!), evalNames);
      parentPort!.postMessage({ kind: 'round', round } satisfies TrainMessage);
      if (job.earlyStopping) {
        const { set, rounds: patience } = job.earlyStopping;
        const setScores = round.scores[set] ?? {};
        const metrics = Object.keys(setScores);
        // Python xgboost watches the last metric of the set; so do we unless told otherwise.
        const metric = job.earlyStopping.metric ?? metrics[metrics.length - 1];
        const score = metric === undefined ? undefined : setScores[metric];
        if (metric === undefined || score === undefined) {
          throw new XGBoostUsageError(
            `Early stopping watches metric "${job.earlyStopping.metric ?? '(last)'}" on eval set "${set}", but round ${i} reported ${JSON.stringify(setScores)}; check eval_metric.`,
          );
        }
        const maximize = job.earlyStopping.maximize ?? metricIsMaximized(metric);
        stopping = earlyStoppingStep(stopping, i, score, { rounds: patience, maximize });
        if (stopping.stop) break;
      }
    }
    if (stopping) {
      // The attribute names Python xgboost uses, so either side reads the other's best round.
      check(native().XGBoosterSetAttr(handle, 'best_iteration', String(stopping.bestIteration)), 'XGBoosterSetAttr', 'recording best_iteration');
      check(native().XGBoosterSetAttr(handle, 'best_score', String(stopping.bestScore)), 'XGBoosterSetAttr', 'recording best_score');
    }
    return {
      kind: 'done',
      handle,
      bestIteration: stopping?.bestIteration,
      bestScore: stopping?.bestScore,
      rounds,
      stoppedEarly: stopping?.stop ?? false,
    };
  } catch (error) {
    free();
    throw error;
  }
}

// One job at a time: train.ts keeps idle workers for reuse and posts the next job only
// after this one has answered.
parentPort!.on('message', (job: TrainJob) => {
  try {
    parentPort!.postMessage(run(job));
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const details = e instanceof XGBoostError ? { operation: e.operation, xgboostMessage: e.xgboostMessage, context: e.context } : {};
    parentPort!.postMessage({ kind: 'error', error: { name: e.name, message: e.message, ...details } } satisfies TrainMessage);
  }
});
