// "Which queued run starts next": pure over the queue (oldest first), the runs that hold a
// slot and the limits. Runs go in the order they were queued; the global limit stops
// everything behind it, while a run waiting only for a busy pool lets later runs that do not
// use that pool go ahead (as Dagster's run coordinator does with tag limits), so a queued
// training run never holds up a price refresh. Every decision comes with the reason in words.
import type { QueueLimits, QueuedRunRecord } from '../store/run-queue-records.ts';

export interface Admission {
  /** The run to start now, if any. */
  readonly next: QueuedRunRecord | undefined;
  /** Why each queued run ahead of it (or every one, when none starts) waits, by run id. */
  readonly waiting: ReadonlyMap<string, string>;
}

/**
 * `queued`: the queued runs, oldest first; `running`: the pools of each run holding a slot.
 * `only`: consider only this run (a process waiting to start its own); it still waits behind
 * older runs that could start (their turn comes first).
 */
export function admit(queued: readonly QueuedRunRecord[], running: readonly (readonly string[])[], limits: QueueLimits, only?: string): Admission {
  const waiting = new Map<string, string>();
  let slots = running.length;
  const inPool = new Map<string, number>();
  for (const pools of running) for (const p of pools) inPool.set(p, (inPool.get(p) ?? 0) + 1);
  // The first reason a run waits is the one it is given (an older run taking its slot, say).
  const wait = (runId: string, reason: string) => {
    if (!waiting.has(runId)) waiting.set(runId, reason);
  };
  for (const q of queued) {
    if (slots >= limits.maxConcurrentRuns) {
      wait(q.runId, `${slots} runs are running, the most allowed at once (RUN_QUEUE_MAX_CONCURRENT=${limits.maxConcurrentRuns})`);
      continue;
    }
    const full = q.pools.find((p) => limits.poolLimits[p] !== undefined && (inPool.get(p) ?? 0) >= limits.poolLimits[p]!);
    if (full !== undefined) {
      wait(q.runId, `pool ${full} is full: ${inPool.get(full)} running, limit ${limits.poolLimits[full]} (RUN_QUEUE_POOL_LIMITS)`);
      continue;
    }
    if (only === undefined || q.runId === only) return { next: q, waiting };
    // An older run that could start goes first: it takes the slot (and its pools) in this decision.
    wait(only, `run ${q.runId}, queued earlier, starts first`);
    slots++;
    for (const p of q.pools) inPool.set(p, (inPool.get(p) ?? 0) + 1);
  }
  return { next: undefined, waiting };
}
