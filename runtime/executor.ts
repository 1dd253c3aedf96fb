// The effectful executor: runs a plan, independent asset partitions concurrently up to a
// limit. This module only opens and closes the run; each question has its own module:
//   executor/units.ts     what runs together (units) and after what (the plan's upstream steps)
//   executor/schedule.ts  which ready unit starts next (concurrency, pools)
//   executor/run-unit.ts  running one unit from lease to commit (live re-check, code, checks, publish)
//   executor/step-io.ts   resolving a step's inputs and writing its outputs
//   executor/recorder.ts  recording the run's events, counts and failures
// A full disk or a read-only filesystem stops the whole run with one message instead of
// failing every step.
import { availableParallelism } from 'node:os';
import { errorMessage, RuntimeError } from './errors.ts';
import type { RunEvent, RunCounts, RunEventListener } from './events.ts';
import type { Instance } from './instance.ts';
import type { Plan } from './planner.ts';
import { StalenessResolver, type CurrentView } from './staleness.ts';
import type { RunTrigger } from './store/records.ts';
import { RunRecorder } from './executor/recorder.ts';
import { unitRunner, type StepResult } from './executor/run-unit.ts';
import { schedule } from './executor/schedule.ts';
import { storeEventRelay, workerLauncher, type StepLauncher, type WorkerQueue } from './executor/launcher.ts';
import { dynamicToWire } from './executor/work-unit.ts';
import { buildUnits, type Unit } from './executor/units.ts';

export interface ExecuteOptions {
  readonly runId: string;
  readonly selection: string;
  readonly partitions: string | null;
  readonly trigger: RunTrigger;
  readonly force: boolean;
  /** How many steps run at once. Default DEFAULT_CONCURRENCY (twice the cores, 2 to 8). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: RunEventListener;
  /** Called once the run is recorded in the store. */
  readonly onRecorded?: () => void;
  /** The clock planning used; partition windows are fixed at it for the whole run. */
  readonly now: Date;
  /** Lease lifetime; renewed by a heartbeat at a third of it. Default 30 s. */
  readonly leaseTtlMs?: number;
  /**
   * Run the units on `materialize worker` processes through this queue (the coordinator only
   * schedules and records), instead of in this process. Default concurrency is then
   * WORKER_DEFAULT_CONCURRENCY units in flight across all workers.
   */
  readonly workers?: {
    readonly queue: WorkerQueue;
    readonly maxAttempts?: number;
    /** How long a unit may wait for its pool to be free of other runs' units before its steps fail. Default 1 h. */
    readonly poolWaitMs?: number;
  };
}

export interface RunResult {
  readonly runId: string;
  readonly status: 'succeeded' | 'failed' | 'canceled';
  readonly counts: RunCounts;
  readonly durationMs: number;
  /** Failed or blocked steps, with why. */
  readonly failures: readonly { readonly asset: string; readonly partition: string; readonly error: string }[];
}

/**
 * Steps in flight at once. Most of a small step's time is spent waiting (DuckDB's
 * own threads, fsync), so twice the cores keeps the machine busy.
 */
export const DEFAULT_CONCURRENCY = Math.max(2, Math.min(8, availableParallelism() * 2));

/** Units queued or running at once for a worker-pool run: enough to keep dozens of workers busy. */
export const WORKER_DEFAULT_CONCURRENCY = 64;

/** A run's lease lifetime (its heartbeat renews it at a third); a run silent for three of them is abandoned. */
export const DEFAULT_RUN_LEASE_TTL_MS = 30_000;

/** How often a coordinator hands on the events its workers recorded in the store, while the run goes on. */
const RELAY_EVERY_MS = 250;

const emptyView: CurrentView = { current: () => undefined, materializedPartitions: () => [] };

export async function executePlan<R>(instance: Instance<R>, plan: Plan, options: ExecuteOptions): Promise<RunResult> {
  const { store, graph } = instance;
  const started = Date.now();
  const leaseTtlMs = options.leaseTtlMs ?? DEFAULT_RUN_LEASE_TTL_MS;
  const signal = options.signal ?? new AbortController().signal;
  // With workers, every event (theirs and ours) reaches the listener from the store, in one order.
  const relay = options.workers ? storeEventRelay(store, options.runId, options.onEvent) : undefined;
  const recorder = new RunRecorder(store, instance.dataDir, options.workers ? undefined : options.onEvent);
  const { counts, failures } = recorder;
  const { states, units, stepsByAsset } = buildUnits(graph, plan);
  // Dynamic partition keys as the run starts: a key added during the run waits for the next one.
  const dynamic = await store.dynamicPartitionKeys();

  try {
    await store.closeAbandonedRuns(started, leaseTtlMs * 3);
    // Units those runs left queued would hold their pools: cancel them before queuing ours.
    await options.workers?.queue.reclaimOrphans(started);
    await store.createRun({ id: options.runId, selection: options.selection, partitions: options.partitions, trigger: options.trigger, now: started });
  } catch (err) {
    await recorder.close();
    const message = recorder.describeProblem(err, `the new run to ${store.location}`);
    if (message) throw new RuntimeError('resource-exhausted', message);
    throw err;
  }
  options.onRecorded?.();
  recorder.emit({
    type: 'run_started',
    runId: options.runId,
    ts: started,
    selection: options.selection,
    partitions: options.partitions,
    trigger: options.trigger,
    planned: plan.counts,
    assets: [...stepsByAsset].map(([asset, list]) => ({ asset, steps: list.length })),
  });
  await recorder.flush();
  await relay?.();
  counts.skipped += plan.counts.skip;

  const heartbeat = setInterval(
    () => {
      store.heartbeat(options.runId, Date.now(), leaseTtlMs).catch(() => {
        // A missed heartbeat only shortens the lease; the next one retries.
      });
    },
    Math.max(50, leaseTtlMs / 3),
  );
  heartbeat.unref();

  const results = new Map<string, StepResult>();
  const runUnit = unitRunner({
    instance,
    options: { runId: options.runId, trigger: options.trigger, force: options.force, now: options.now, leaseTtlMs, signal },
    recorder,
    states,
    results,
    dynamic,
    mapper: new StalenessResolver(graph, emptyView, options.now, { dynamic }),
  });
  /** A unit whose run threw (rather than recording its steps' ends): its steps without a result fail. */
  const onUnitError = (unit: Unit, err: unknown): void => {
    const problem = recorder.describeProblem(err);
    for (const s of unit.steps) {
      if (results.has(s.id)) continue;
      results.set(s.id, { outcome: 'failed' });
      const { asset, partition } = s.step;
      if (problem) {
        if (recorder.stopRun(problem)) {
          counts.failed++;
          failures.push({ asset, partition, error: problem });
          recorder.emit({ runId: options.runId, asset, partition, ts: Date.now(), type: 'step_failed', error: errorMessage(err), durationMs: 0 });
        } else counts.skipped++;
      } else recorder.runError ??= errorMessage(err);
    }
  };
  let launch: StepLauncher = runUnit;
  let closeLauncher = async (): Promise<void> => undefined;
  if (options.workers) {
    const launcher = await workerLauncher({
      queue: options.workers.queue,
      store,
      graph,
      runId: options.runId,
      run: { trigger: options.trigger, force: options.force, now: options.now.getTime(), dynamic: dynamicToWire(dynamic) },
      states,
      results,
      recorder,
      signal,
      maxAttempts: options.workers.maxAttempts ?? 3,
      poolWaitMs: options.workers.poolWaitMs ?? 3_600_000,
    });
    // Workers record their events in the store; hand them on as they come (a step_started
    // while the step runs, not once its unit has ended), every RELAY_EVERY_MS: a read per unit
    // ended as well was most of the reads at a few dozen units a second; the run's last read
    // (final) delivers the rest.
    const relaying = setInterval(() => void relay?.(), RELAY_EVERY_MS);
    relaying.unref();
    launch = (unit) => launcher.launch(unit);
    closeLauncher = async () => {
      clearInterval(relaying);
      await launcher.close();
    };
  }
  try {
    await schedule(graph, units, {
      concurrency: Math.max(1, options.concurrency ?? (options.workers ? WORKER_DEFAULT_CONCURRENCY : DEFAULT_CONCURRENCY)),
      stopped: () => recorder.fatal !== undefined,
      run: launch,
      onError: onUnitError,
    });
  } finally {
    await closeLauncher();
    clearInterval(heartbeat);
  }

  const runError = recorder.runError;
  const status: RunResult['status'] = signal.aborted ? 'canceled' : counts.failed + counts.blocked > 0 || runError ? 'failed' : 'succeeded';
  const durationMs = Date.now() - started;
  const error =
    runError ?? (failures.length > 0 ? `${failures.length} step${failures.length === 1 ? '' : 's'} failed or blocked` : signal.aborted ? 'canceled' : null);
  const finished: RunEvent = { type: 'run_finished', runId: options.runId, ts: Date.now(), status, durationMs, counts, error };
  recorder.emit(finished);
  await recorder.close();
  await relay?.({ final: true });
  try {
    await store.finishRun(options.runId, status, { ...counts }, error, Date.now());
  } catch {
    // Even the run's end could not be written (the disk is still full): it stays "running"
    // until the next process finds its heartbeat stopped and closes it as failed.
  }
  return { runId: options.runId, status, counts, durationMs, failures };
}
