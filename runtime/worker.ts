// `materialize worker`: one process of the worker pool. It claims units from the work queue in
// the PostgreSQL store (store/postgres/work-queue.ts), runs each with the same code as the
// in-process executor (executor/run-unit.ts: lease, live re-check, inputs, code, checks,
// publish, commit in one transaction), records the steps' events under the coordinator's run
// with this worker's host and pid on step_started, and reports the unit's result.
//
// While a unit runs, the worker renews both its claim on the unit and the partitions' leases,
// which it holds under its own name (`run@host:pid#attempt`): a worker killed with SIGKILL stops
// renewing, its claim and leases expire, another worker claims the unit again and waits for
// the leases, and the fenced commit keeps the killed one from ever publishing after it.
// SIGTERM drains: the current unit finishes (or, after the drain timeout or a second SIGTERM,
// is stopped and handed back to the queue), then the process exits 0.
import { hostname } from 'node:os';
import { borrowConnection, returnConnection } from './duckdb.ts';
import { DEFAULT_RUN_LEASE_TTL_MS } from './executor.ts';
import { errorMessage } from './errors.ts';
import type { Instance } from './instance.ts';
import { RunRecorder } from './executor/recorder.ts';
import type { WorkerQueue } from './executor/launcher.ts';
import { unitRunner } from './executor/run-unit.ts';
import { fromPayload, type UnitResult } from './executor/work-unit.ts';
import type { ClaimedWorkUnit, WorkClaim } from './store/work-queue-api.ts';
import { StalenessResolver, type CurrentView } from './staleness.ts';
import type { UnitPayload } from './executor/work-unit.ts';
import { Wakeup } from '../lib/wakeup.ts';

export interface WorkerOptions {
  /** Claim and lease lifetime, renewed at a third of it. */
  readonly leaseMs: number;
  /** Aborted on the first SIGTERM: finish the current unit, claim no more. */
  readonly drain: AbortSignal;
  /** Aborted to stop the current unit at once and hand it back (second SIGTERM, or the drain timeout). */
  readonly handBack: AbortSignal;
  /** One line per unit, for the worker's log. */
  readonly log: (line: string) => void;
  /** How long to wait for a notification before looking at the queue again. */
  readonly pollMs?: number;
}

const emptyView: CurrentView = { current: () => undefined, materializedPartitions: () => [] };

/**
 * How often a worker looks for runs whose coordinator died (closing them as failed, as a new
 * coordinator would) and cancels their units left in the queue, so they never hold a pool.
 */
const RECLAIM_EVERY_MS = 10_000;

/**
 * Loads DuckDB's native library and opens a connection before the first claim: done during a
 * step, that synchronous load (a second or more on a busy machine) stalls the claim renewals
 * and a short claim lease expires under a healthy worker.
 */
async function warmUp(): Promise<void> {
  await returnConnection(await borrowConnection());
}

/** Closes the runs whose coordinator stopped and cancels their queued units; never fails the worker. */
async function reclaimOrphans<R>(instance: Instance<R>, queue: WorkerQueue, log: (line: string) => void): Promise<void> {
  try {
    const now = Date.now();
    const closed = await instance.store.closeAbandonedRuns(now, 3 * DEFAULT_RUN_LEASE_TTL_MS);
    const canceled = await queue.reclaimOrphans(now);
    if (closed.length > 0 || canceled > 0) {
      log(
        `closed ${closed.length} run(s) whose coordinator stopped${closed.length ? ` (${closed.join(', ')})` : ''}; canceled ${canceled} unit(s) left in the queue`,
      );
    }
  } catch (err) {
    log(`could not look for abandoned runs in ${instance.store.location}: ${errorMessage(err)}; trying again later`);
  }
}

/** Claims and runs units until `drain` aborts; resolves to the number of units it ran. */
export async function runWorker<R>(instance: Instance<R>, queue: WorkerQueue, options: WorkerOptions): Promise<number> {
  const host = hostname();
  const worker = `${host}:${process.pid}`;
  const wakeup = new Wakeup();
  // A unit queued (or handed back) may be ours to claim; an ended one frees nothing to claim
  // but a pool, whose next unit is then queued, and announced.
  const unsubscribe = await queue.subscribe((change) => void (change.state === 'queued' && wakeup.wake()));
  const onDrain = (): void => wakeup.wake();
  options.drain.addEventListener('abort', onDrain, { once: true });
  let ran = 0;
  let reclaimedAt = 0;
  /** The unit claimed with the last one's completion, to run next. */
  let next: ClaimedWorkUnit<UnitPayload> | undefined;
  // A unit's end and (unless draining) the claim of the next go in one commit.
  const finish = async (claim: WorkClaim, result: UnitResult): Promise<boolean> => {
    if (options.drain.aborted) return queue.complete(claim, result, Date.now());
    const r = await queue.completeAndClaim(claim, result, Date.now(), options.leaseMs);
    next = r.next;
    return r.completed;
  };
  try {
    await warmUp();
    while (!options.drain.aborted) {
      if (Date.now() - reclaimedAt >= RECLAIM_EVERY_MS) {
        reclaimedAt = Date.now();
        await reclaimOrphans(instance, queue, options.log);
      }
      let claimed = next;
      next = undefined;
      try {
        claimed ??= await queue.claim(worker, Date.now(), options.leaseMs);
      } catch (err) {
        options.log(`could not claim a unit from ${instance.store.location}: ${errorMessage(err)}; retrying`);
      }
      if (!claimed) {
        await wakeup.sleep(options.pollMs ?? 1000);
        continue;
      }
      await runClaimed(instance, queue, claimed, { ...options, worker, host, finish });
      ran++;
    }
  } finally {
    // Claimed with the last completion while the drain began: it goes back, not counted as an attempt.
    if (next) await queue.handBack({ id: next.id, worker, attempt: next.attempt }).catch(() => undefined);
    options.drain.removeEventListener('abort', onDrain);
    await unsubscribe();
  }
  return ran;
}

async function runClaimed<R>(
  instance: Instance<R>,
  queue: WorkerQueue,
  claimed: ClaimedWorkUnit<UnitPayload>,
  options: WorkerOptions & {
    readonly worker: string;
    readonly host: string;
    /** Records the unit's result (and may claim the next); false when the claim was lost meanwhile. */
    readonly finish: (claim: WorkClaim, result: UnitResult) => Promise<boolean>;
  },
): Promise<void> {
  const { store, graph } = instance;
  const claim: WorkClaim = { id: claimed.id, worker: options.worker, attempt: claimed.attempt };
  const holder = `${claimed.runId}@${options.worker}#${claimed.attempt}`;
  const label = `${claimed.asset}[${claimed.partitions[0]}${claimed.partitions.length > 1 ? ` +${claimed.partitions.length - 1}` : ''}] of run ${claimed.runId}`;
  const stop = new AbortController();
  let handedBack = false;
  let lost = false;
  const onHandBack = (): void => {
    handedBack = true;
    stop.abort();
  };
  if (options.handBack.aborted) onHandBack();
  options.handBack.addEventListener('abort', onHandBack, { once: true });
  const renew = setInterval(
    () => {
      const now = Date.now();
      void Promise.all([queue.renew(claim, now, options.leaseMs), store.heartbeat(holder, now, options.leaseMs)]).then(
        ([r]) => {
          if (r === 'held') return;
          // Canceled by the coordinator, or the claim was lost (we were paused past its expiry): stop.
          if (r === 'lost') lost = true;
          stop.abort();
        },
        () => undefined, // a missed renewal only shortens the lease; the next one retries
      );
    },
    Math.max(200, options.leaseMs / 3),
  );
  renew.unref();

  const { unit, states, results } = fromPayload(claimed.payload);
  const recorder = new RunRecorder(store, instance.dataDir);
  const now = new Date(claimed.payload.run.now);
  const dynamic = new Map(claimed.payload.run.dynamic.map(([k, v]) => [k, [...v]]));
  const runUnit = unitRunner({
    instance,
    options: {
      runId: claimed.runId,
      trigger: claimed.payload.run.trigger,
      force: claimed.payload.run.force,
      now,
      leaseTtlMs: options.leaseMs,
      signal: stop.signal,
      leaseHolder: holder,
      worker: { host: options.host, pid: process.pid },
    },
    recorder,
    states,
    results,
    dynamic,
    mapper: new StalenessResolver(graph, emptyView, now, { dynamic }),
  });
  const started = Date.now();
  try {
    await runUnit(unit);
  } catch (err) {
    // As the in-process executor's onUnitError: the unit's steps without a result fail.
    const problem = recorder.describeProblem(err);
    if (problem) recorder.stopRun(problem);
    for (const s of unit.steps) {
      if (results.has(s.id)) continue;
      const error = problem ?? errorMessage(err);
      recorder.counts.failed++;
      recorder.failures.push({ asset: s.step.asset, partition: s.step.partition, error });
      recorder.emit({ runId: claimed.runId, asset: s.step.asset, partition: s.step.partition, ts: Date.now(), type: 'step_failed', error, durationMs: 0 });
      results.set(s.id, { outcome: 'failed' });
    }
  } finally {
    clearInterval(renew);
    options.handBack.removeEventListener('abort', onHandBack);
    await recorder.close();
  }
  if (handedBack) {
    await queue.handBack(claim);
    options.log(`handed back ${label} (stopping)`);
    return;
  }
  const result: UnitResult = {
    results: unit.steps.map((s) => ({ id: s.id, result: results.get(s.id) ?? { outcome: 'failed' } })),
    counts: recorder.counts,
    failures: recorder.failures,
    runError: recorder.runError,
    fatal: recorder.fatal ?? null,
  };
  const recorded = !lost && (await options.finish(claim, result));
  options.log(`${recorded ? 'ran' : 'ran, but lost the claim of'} ${label} in ${Date.now() - started} ms`);
}
