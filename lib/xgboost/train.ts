// train(): boosts a model in a worker thread so the event loop (the Koa server, the
// asset runtime) stays responsive, with evaluation sets, early stopping on a named set
// and the per-round evaluation log for the learning curve. Resolves to a Booster that
// the caller owns (dispose() it when done).
import { Worker } from 'node:worker_threads';
import { Booster } from './booster.ts';
import type { DMatrix } from './dmatrix.ts';
import { XGBoostError, XGBoostUsageError } from './errors.ts';
import { native } from './native.ts';
import type { TrainJob, TrainMessage } from './train-worker.ts';
import { paramPairs, type EvalRound, type Params } from './training-logic.ts';
import { workerSource } from '../code-location.ts';

export interface TrainOptions {
  /** Maximum number of boosting rounds. */
  readonly numBoostRound: number;
  /** Sets evaluated after every round, in order; names appear in the evaluation log. */
  readonly evals?: ReadonlyArray<{ readonly name: string; readonly data: DMatrix }>;
  /** Stop when the watched score has not improved for this many rounds. */
  readonly earlyStoppingRounds?: number;
  /** Eval set early stopping watches; default the last one (as Python xgboost). */
  readonly earlyStoppingSet?: string;
  /** Metric early stopping watches; default the last `eval_metric` (as Python xgboost). */
  readonly earlyStoppingMetric?: string;
  /** Whether larger is better; default inferred from the metric name (auc, map, ndcg… maximise). */
  readonly maximize?: boolean;
  /** Called on the main thread with each round's scores, e.g. to stream a learning curve. */
  readonly onRound?: (round: EvalRound) => void;
  /** Aborting stops training before the next round and rejects with an AbortError. */
  readonly signal?: AbortSignal;
}

export interface TrainResult {
  readonly booster: Booster;
  /** 0-based round with the best watched score; undefined without early stopping. */
  readonly bestIteration: number | undefined;
  readonly bestScore: number | undefined;
  /** Rounds actually boosted (all kept in the model; predict with iterationRange 'best'). */
  readonly rounds: number;
  readonly stoppedEarly: boolean;
  /** One entry per round: `evalLog[i].scores.valid.rmse`. Empty without evals. */
  readonly evalLog: readonly EvalRound[];
}

/**
 * Trains a booster. `params` takes any XGBoost parameter (`seed` makes runs repeatable).
 * The matrices are lent to the training until the promise settles: using, disposing or
 * training on them again meanwhile throws (XGBoost's DMatrix is not safe to share
 * across threads).
 */
export async function train(params: Params, dtrain: DMatrix, options: TrainOptions): Promise<TrainResult> {
  const job = buildJob(params, dtrain, options);
  options.signal?.throwIfAborted();
  // The same matrix may be both dtrain and an eval set: lend each one once.
  const matrices = new Set([dtrain, ...(options.evals ?? []).map((e) => e.data)]);
  const releases = [...matrices].map((m) => m.pin());
  const evalLog: EvalRound[] = [];
  try {
    const done = await runWorker(
      job,
      (round) => {
        evalLog.push(round);
        options.onRound?.(round);
      },
      options.signal,
    );
    return {
      booster: Booster.fromHandle(done.handle),
      bestIteration: done.bestIteration,
      bestScore: done.bestScore,
      rounds: done.rounds,
      stoppedEarly: done.stoppedEarly,
      evalLog,
    };
  } finally {
    for (const release of releases) release();
  }
}

export interface ContinueOptions {
  /** Rounds to add to the booster's. */
  readonly rounds: number;
  /** Sets evaluated after every added round (no early stopping: the caller chose the rounds). */
  readonly evals?: ReadonlyArray<{ readonly name: string; readonly data: DMatrix }>;
  readonly onRound?: (round: EvalRound) => void;
  readonly signal?: AbortSignal;
}

export interface ContinueResult {
  /** Rounds the booster has now (its earlier ones and the added ones). */
  readonly rounds: number;
  readonly evalLog: readonly EvalRound[];
}

/**
 * Boosts `booster` further in place: `options.rounds` more rounds on `dtrain`, after the ones
 * it has (Python's `xgb.train(..., xgb_model=booster)`, without the copy). XGBoost keeps the
 * booster's predictions of every matrix it trained on, so a booster continued day after day on
 * the same matrix (its window moved by weights, DMatrix.setWeights) only predicts its new trees.
 * `params` are set on the booster first (XGBoost keeps them afterwards); `seed_per_iteration`
 * is on unless given, so a continued round's sampling depends on its index in the model and
 * not on which worker thread ran the booster before. With `process_type: 'update'` and
 * `updater: 'refresh'` the rounds refresh existing trees instead of adding any (give as many
 * rounds as the booster has; refresh a `slice` copy to keep the original).
 */
export async function continueTraining(booster: Booster, params: Params, dtrain: DMatrix, options: ContinueOptions): Promise<ContinueResult> {
  const job: TrainJob = {
    ...buildJob({ seed_per_iteration: true, ...params }, dtrain, { numBoostRound: options.rounds, evals: options.evals }),
    continueFrom: booster.handle,
  };
  options.signal?.throwIfAborted();
  const matrices = new Set([dtrain, ...(options.evals ?? []).map((e) => e.data)]);
  const releases = [...matrices].map((m) => m.pin());
  releases.push(booster.lend());
  const evalLog: EvalRound[] = [];
  try {
    await runWorker(
      job,
      (round) => {
        evalLog.push(round);
        options.onRound?.(round);
      },
      options.signal,
    );
  } finally {
    for (const release of releases) release();
  }
  return { rounds: booster.numBoostedRounds, evalLog };
}

function buildJob(params: Params, dtrain: DMatrix, options: TrainOptions): TrainJob {
  const { numBoostRound, earlyStoppingRounds } = options;
  if (!Number.isInteger(numBoostRound) || numBoostRound < 1) {
    throw new XGBoostUsageError(`numBoostRound must be a positive integer, got ${numBoostRound}.`);
  }
  const evals = options.evals ?? [];
  const names = new Set<string>();
  for (const { name, data } of evals) {
    if (typeof name !== 'string' || !/^[^\s:]+$/.test(name)) {
      throw new XGBoostUsageError(`Eval set name ${JSON.stringify(name)} must be non-empty, with no spaces, tabs or colons.`);
    }
    if (names.has(name)) throw new XGBoostUsageError(`Eval set name "${name}" is used twice; names must be unique.`);
    names.add(name);
    checkLabelled(data, `eval set "${name}"`);
    if (data.cols !== dtrain.cols) {
      throw new XGBoostUsageError(`Eval set "${name}" has ${data.cols} columns but the training matrix has ${dtrain.cols}.`);
    }
  }
  checkLabelled(dtrain, 'the training matrix');
  let earlyStopping: TrainJob['earlyStopping'];
  if (earlyStoppingRounds !== undefined) {
    if (!Number.isInteger(earlyStoppingRounds) || earlyStoppingRounds < 1) {
      throw new XGBoostUsageError(`earlyStoppingRounds must be a positive integer, got ${earlyStoppingRounds}.`);
    }
    const set = options.earlyStoppingSet ?? evals[evals.length - 1]?.name;
    if (set === undefined) throw new XGBoostUsageError('earlyStoppingRounds needs at least one eval set in `evals`.');
    if (!names.has(set)) throw new XGBoostUsageError(`earlyStoppingSet "${set}" is not one of the eval sets (${[...names].join(', ')}).`);
    earlyStopping = { rounds: earlyStoppingRounds, set, metric: options.earlyStoppingMetric, maximize: options.maximize };
  }
  return {
    params: paramPairs(params),
    dtrain: dtrain.handle,
    evals: evals.map(({ name, data }) => ({ name, handle: data.handle })),
    featureNames: dtrain.featureNames,
    numBoostRound,
    earlyStopping,
    continueFrom: undefined,
    abortFlag: new Int32Array(new SharedArrayBuffer(4)),
  };
}

function checkLabelled(matrix: DMatrix, what: string): void {
  const labels = matrix.labels().length;
  if (labels !== matrix.rows) {
    throw new XGBoostUsageError(`${what} has ${labels} labels for ${matrix.rows} rows; pass labels (one per row) to DMatrix.fromDense.`);
  }
}

type Done = Extract<TrainMessage, { kind: 'done' }>;

function runWorker(job: TrainJob, onRound: (round: EvalRound) => void, signal: AbortSignal | undefined): Promise<Done> {
  return new Promise<Done>((resolve, reject) => {
    const worker = acquireWorker();
    const onAbort = () => Atomics.store(job.abortFlag, 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const settle = (healthy: boolean, fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (healthy) releaseWorker(worker);
      fn();
    };
    const onMessage = (message: TrainMessage) => {
      switch (message.kind) {
        case 'round':
          onRound(message.round);
          break;
        case 'done':
          settle(true, () => resolve(message));
          break;
        case 'aborted':
          settle(true, () => reject(signal?.reason ?? new DOMException('Training was aborted.', 'AbortError')));
          break;
        case 'error':
          settle(true, () => reject(reviveError(message.error)));
          break;
      }
    };
    const onError = (error: Error) => settle(false, () => reject(new Error(`The XGBoost training worker failed: ${error.message}`, { cause: error })));
    const onExit = (code: number) => settle(false, () => reject(new Error(`The XGBoost training worker exited (code ${code}) before finishing.`)));
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage(job);
  });
}

// Starting a worker costs ~0.2 s (a thread, tsx, the modules), so finished workers wait
// for the next training instead of exiting: at most MAX_IDLE_WORKERS, unref'd so that an
// idle one never keeps the process alive.
const MAX_IDLE_WORKERS = 2;
const idleWorkers: Worker[] = [];

function acquireWorker(): Worker {
  const worker = idleWorkers.pop() ?? spawnWorker();
  worker.ref();
  return worker;
}

function releaseWorker(worker: Worker): void {
  if (idleWorkers.length >= MAX_IDLE_WORKERS) {
    void worker.terminate();
    return;
  }
  worker.unref();
  idleWorkers.push(worker);
}

function spawnWorker(): Worker {
  // Loaded on this (the main) thread first, with the configured OpenMP policy (config.ts); the
  // training DMatrix has done so already. A worker only binds the library the process holds.
  native();
  const worker = new Worker(workerSource('lib/xgboost/train-worker'), { eval: true });
  // An idle worker that dies (it should not) leaves the pool.
  worker.on('exit', () => {
    const i = idleWorkers.indexOf(worker);
    if (i >= 0) idleWorkers.splice(i, 1);
  });
  return worker;
}

function reviveError(e: Extract<TrainMessage, { kind: 'error' }>['error']): Error {
  if (e.name === 'XGBoostError' && e.operation && e.xgboostMessage !== undefined && e.context) {
    return new XGBoostError(e.operation, e.xgboostMessage, e.context);
  }
  if (e.name === 'XGBoostUsageError') return new XGBoostUsageError(e.message);
  return new Error(e.message);
}
