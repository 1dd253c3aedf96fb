// "Where a unit runs": the step launcher. In this process (the default: run-unit.ts directly),
// or on a pool of `materialize worker` processes through the work queue in the PostgreSQL
// store (worker.ts takes the units). schedule.ts decides when a unit may start either way
// (upstream ended, --concurrency, one unit per pool in this run); the queue adds the pool rule
// across every run sharing the store. A worker-run unit's steps end the same way as in-process
// ones: results, counts and failures come back as the worker's UnitResult.
import { errorMessage } from '../errors.ts';
import type { RunEvent, RunEventListener } from '../events.ts';
import type { AssetGraph } from '../graph.ts';
import type { LineageStore } from '../store/lineage-store-api.ts';
import type { WorkQueue, WorkUnitRecord } from '../store/work-queue-api.ts';
import type { RunRecorder } from './recorder.ts';
import type { StepResult } from './run-unit.ts';
import type { StepState, Unit } from './units.ts';
import { toPayload, type UnitPayload, type UnitResult, type UnitRunOptions } from './work-unit.ts';

export type StepLauncher = (unit: Unit) => Promise<void>;

export type WorkerQueue = WorkQueue<UnitPayload, UnitResult>;

/** How often the coordinator looks at the queue when no notification came (a lost NOTIFY only delays). */
const POLL_MS = 1000;

export interface WorkerLauncherContext {
  readonly queue: WorkerQueue;
  readonly store: LineageStore;
  readonly graph: AssetGraph<unknown>;
  readonly runId: string;
  readonly run: UnitRunOptions;
  readonly states: ReadonlyMap<string, StepState>;
  readonly results: Map<string, StepResult>;
  readonly recorder: RunRecorder;
  readonly signal: AbortSignal;
  /** Claims a unit may take before it fails (each claim expired: its worker died). */
  readonly maxAttempts: number;
  /** How long a unit waits for its pool while other runs' units hold it; then its steps fail, saying so. */
  readonly poolWaitMs: number;
}

export interface WorkerLauncher {
  readonly launch: StepLauncher;
  close(): Promise<void>;
}

/** Queues each unit for the workers and resolves once a worker (or a cancel) ended it. */
export async function workerLauncher(ctx: WorkerLauncherContext): Promise<WorkerLauncher> {
  const { queue, recorder, results, runId, signal } = ctx;
  const { counts, failures } = recorder;
  /** Units queued, by queue id, each with the function that settles its launch. */
  const waiting = new Map<number, (ending: WorkUnitRecord<UnitResult>) => void>();
  /** Launches waiting for their pool to free up, woken on every change. */
  let wakers: (() => void)[] = [];
  let checking = false;
  let again = false;

  const check = async (): Promise<void> => {
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      do {
        again = false;
        const woken = wakers;
        wakers = [];
        for (const w of woken) w();
        if (waiting.size === 0) continue;
        for (const ending of await queue.endings(runId, [...waiting.keys()])) {
          const settle = waiting.get(ending.id);
          waiting.delete(ending.id);
          settle?.(ending);
        }
      } while (again);
    } catch {
      // The store is unreachable for a moment: the next poll tries again.
    } finally {
      checking = false;
    }
  };
  // A unit of this run ended, or (for a launch waiting for its pool) any unit ended. A unit
  // queued (this coordinator's own enqueue, mostly) ends nothing: no read for it.
  /** Ends of this run's units announced so far (a launch compares it around its enqueue). */
  let announcedEnds = 0;
  const unsubscribe = await queue.subscribe((change) => {
    if (change.state === 'queued') return;
    if (change.runId === runId) announcedEnds++;
    if (change.runId === runId || wakers.length > 0) void check();
  });
  const poll = setInterval(() => void check(), POLL_MS);
  poll.unref();
  const onAbort = (): void => {
    // Queued units are canceled at once; claimed ones are asked to stop (their worker renews and sees it).
    void queue.cancelRun(runId, Date.now()).then(
      () => check(),
      () => undefined,
    );
  };
  signal.addEventListener('abort', onAbort, { once: true });

  const skip = (s: StepState, reason: string): void => {
    counts.skipped++;
    recorder.emit({ runId, asset: s.step.asset, partition: s.step.partition, ts: Date.now(), type: 'step_skipped', reason });
    results.set(s.id, { outcome: 'canceled' });
  };
  const fail = (s: StepState, error: string): void => {
    counts.failed++;
    failures.push({ asset: s.step.asset, partition: s.step.partition, error });
    recorder.emit({ runId, asset: s.step.asset, partition: s.step.partition, ts: Date.now(), type: 'step_failed', error, durationMs: 0 });
    results.set(s.id, { outcome: 'failed' });
  };

  const apply = (unit: Unit, ending: WorkUnitRecord<UnitResult>): void => {
    if (ending.state === 'canceled') {
      for (const s of unit.steps) skip(s, 'run canceled before a worker took it');
      return;
    }
    const r = ending.result;
    if (ending.state === 'failed' || !r) {
      for (const s of unit.steps) fail(s, `${ending.error ?? 'the worker recorded no result'}`);
      return;
    }
    for (const { id, result } of r.results) results.set(id, result);
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += r.counts[k];
    failures.push(...r.failures);
    if (r.fatal) recorder.stopRun(r.fatal);
    else if (r.runError) recorder.runError ??= r.runError;
    // A step the worker left without a result (it should not): failed, so dependents skip.
    for (const s of unit.steps) if (!results.has(s.id)) fail(s, `worker ${ending.claimedBy} recorded no result for it`);
  };

  const launch = async (unit: Unit): Promise<void> => {
    const pool = ctx.graph.get(unit.asset).pool ?? null;
    const payload = toPayload(unit, ctx.states, results, ctx.run);
    const waitingSince = Date.now();
    for (;;) {
      if (signal.aborted) {
        for (const s of unit.steps) skip(s, 'run canceled');
        return;
      }
      const endsBefore = announcedEnds;
      const queued = await queue.enqueue({
        runId,
        // The unit id joins asset and partition with a NUL, which a PostgreSQL text column refuses.
        unitKey: `${unit.asset}[${unit.steps[0]!.step.partition}]`,
        asset: unit.asset,
        partitions: unit.steps.map((s) => s.step.partition),
        pool,
        payload,
        maxAttempts: ctx.maxAttempts,
        now: Date.now(),
      });
      if (queued.enqueued) {
        const ending = await new Promise<WorkUnitRecord<UnitResult>>((resolve) => {
          waiting.set(queued.id, resolve);
          // Its end may have been announced before it was waited for (the answer to the INSERT
          // and the notification come on different connections): then read now, else its
          // announcement (or the poll, should a NOTIFY be lost) will.
          if (announcedEnds !== endsBefore) void check();
        });
        apply(unit, ending);
        return;
      }
      // Another run's unit holds the pool: try again on the next change (or poll), for a while.
      if (Date.now() - waitingSince >= ctx.poolWaitMs) {
        const waited = Math.round((Date.now() - waitingSince) / 1000);
        for (const s of unit.steps) {
          fail(
            s,
            `pool "${queued.pool}" stayed busy with another run's unit for ${waited} s (WORKER_POOL_WAIT_S=${Math.round(ctx.poolWaitMs / 1000)}): ` +
              'see `materialize runs` for the run holding it, cancel it or wait for it, then run again (or raise WORKER_POOL_WAIT_S)',
          );
        }
        return;
      }
      await new Promise<void>((resolve) => wakers.push(resolve));
    }
  };

  return {
    launch,
    async close() {
      clearInterval(poll);
      signal.removeEventListener('abort', onAbort);
      await unsubscribe().catch(() => undefined);
    },
  };
}

/** How often the relay re-reads a window of ids below the last one seen, for events committed late. */
const RELAY_SWEEP_MS = 1000;
/** The window a sweep re-reads: far more ids than commits in flight at once. */
const RELAY_WINDOW = 500;

/**
 * Hands the run's events, as workers record them in the store, to a listener (the CLI's
 * renderer): the coordinator sees worker events only through the store. Each call delivers
 * what is new: the events past the last id seen. Ids are handed out before commit, so one
 * committed late may have an id below that; a sweep (at most every RELAY_SWEEP_MS, and on the
 * `final` call) re-reads a window below it and delivers the ids it had not: reading the window
 * on every call would parse ~500 events each time. Calls made while a read is in flight share
 * the one read that follows it.
 */
export function storeEventRelay(
  store: LineageStore,
  runId: string,
  listener: RunEventListener | undefined,
): (options?: { readonly final?: boolean }) => Promise<void> {
  const seen = new Set<number>();
  let lastId = 0;
  let sweptAt = 0;
  let reading: Promise<void> | undefined;
  let next: { promise: Promise<void>; final: boolean } | undefined;
  const read = async (final: boolean): Promise<void> => {
    const sweep = final || Date.now() - sweptAt >= RELAY_SWEEP_MS;
    if (sweep) sweptAt = Date.now();
    let afterId = sweep ? Math.max(0, lastId - RELAY_WINDOW) : lastId;
    try {
      for (;;) {
        const rows = await store.events(runId, { afterId, limit: 5000 });
        for (const e of rows) {
          if (seen.has(e.id)) continue;
          seen.add(e.id);
          lastId = Math.max(lastId, e.id);
          // The fields in the order the in-process executor emits them (run, step, time, type, then the rest).
          listener!({
            runId: e.runId,
            ...(e.asset ? { asset: e.asset } : {}),
            ...(e.partition !== null ? { partition: e.partition } : {}),
            ts: e.ts,
            type: e.type,
            ...(e.data ?? {}),
          } as unknown as RunEvent);
        }
        if (rows.length < 5000) break;
        afterId = rows.at(-1)!.id;
      }
      // Ids below the window are never read again.
      if (sweep) for (const id of seen) if (id <= lastId - RELAY_WINDOW) seen.delete(id);
    } catch (err) {
      listener!({ runId, ts: Date.now(), type: 'log', level: 'warn', message: `could not read the run's events from the store: ${errorMessage(err)}` });
    }
  };
  const relay = (options: { readonly final?: boolean } = {}): Promise<void> => {
    if (!listener) return Promise.resolve();
    const final = options.final ?? false;
    if (!reading) {
      reading = read(final).finally(() => {
        reading = undefined;
      });
      return reading;
    }
    // One read after the one in flight serves every call made meanwhile.
    if (next) {
      next.final ||= final;
      return next.promise;
    }
    const queued: { promise: Promise<void>; final: boolean } = {
      final,
      promise: reading.then((): Promise<void> => {
        next = undefined;
        return relay({ final: queued.final });
      }),
    };
    next = queued;
    return queued.promise;
  };
  return relay;
}
