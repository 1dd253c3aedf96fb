// "Which units of a worker-pool run are waiting, running, finished": the queue a coordinator
// fills and `materialize worker` processes drain (executor/launcher.ts, worker.ts). It lives in
// the same PostgreSQL as the lineage store (postgres/work-queue.ts); SQLite has no worker mode,
// since a file on one machine's volume cannot be shared by workers on others.
//
// The queue carries what to run and how it ended, as JSON the caller types (`P`, `R`); it knows
// nothing of plans or assets beyond the keys it shows. Exactly-once publication is not the
// queue's job: a unit may run twice (a worker killed, its claim expired, another worker retries
// it), and the store's partition leases, the fenced commit and the live re-check make the
// second run a no-op for whatever the first committed.
import type { AssetKey, PartitionKey } from '../keys.ts';

export type WorkUnitState = 'queued' | 'claimed' | 'done' | 'failed' | 'canceled';

/** A unit's end, as the coordinator reads it. */
export type WorkUnitEndState = Extract<WorkUnitState, 'done' | 'failed' | 'canceled'>;

/** What a subscriber hears: a unit of `runId` was queued (or handed back), or ended. */
export interface WorkUnitChange {
  readonly runId: string;
  readonly state: Exclude<WorkUnitState, 'claimed'>;
}

export interface NewWorkUnit<P> {
  readonly runId: string;
  /** Unique within the run (the unit's id in the plan). */
  readonly unitKey: string;
  readonly asset: AssetKey;
  readonly partitions: readonly PartitionKey[];
  /** At most one unit of a pool is queued or claimed at a time, across every run on the store. */
  readonly pool: string | null;
  readonly payload: P;
  /** Claims allowed before the unit fails (a unit that kills every worker that runs it). */
  readonly maxAttempts: number;
  readonly now: number;
}

export type EnqueueResult =
  | { readonly enqueued: true; readonly id: number }
  | { readonly enqueued: false; readonly reason: 'pool-busy'; readonly pool: string };

/** A unit a worker holds: `attempt` with `worker` is its claim, checked by every later call. */
export interface ClaimedWorkUnit<P> {
  readonly id: number;
  readonly runId: string;
  readonly unitKey: string;
  readonly asset: AssetKey;
  readonly partitions: readonly PartitionKey[];
  readonly payload: P;
  readonly attempt: number;
  readonly leaseExpiresAt: number;
}

export interface WorkClaim {
  readonly id: number;
  /** `host:pid` of the worker. */
  readonly worker: string;
  readonly attempt: number;
}

/** What a renewal found: still ours, ours but the coordinator asks it to stop, or no longer ours. */
export type RenewResult = 'held' | 'cancel-requested' | 'lost';

export interface WorkUnitRecord<R> {
  readonly id: number;
  readonly runId: string;
  readonly unitKey: string;
  readonly asset: AssetKey;
  readonly partitions: readonly PartitionKey[];
  readonly pool: string | null;
  readonly state: WorkUnitState;
  /** `host:pid` of the last worker that claimed it. */
  readonly claimedBy: string | null;
  readonly attempts: number;
  readonly result: R | null;
  /** Why it failed without a result (every claim expired), or null. */
  readonly error: string | null;
  readonly enqueuedAt: number;
  readonly claimedAt: number | null;
  readonly endedAt: number | null;
}

export interface WorkQueue<P, R> {
  /** Queues a unit; refused (not an error) while another unit of its pool is queued or claimed. Idempotent per (run, unit key). */
  enqueue(unit: NewWorkUnit<P>): Promise<EnqueueResult>;
  /**
   * Claims the oldest claimable unit of a running run (queued, or claimed by a worker whose
   * claim expired) for `worker`, or undefined when there is none. Units whose claims expired
   * `maxAttempts` times are failed on the way.
   */
  claim(worker: string, now: number, ttlMs: number): Promise<ClaimedWorkUnit<P> | undefined>;
  /**
   * Cancels the units no coordinator waits for any more: queued (or claimed, claim expired) units
   * of runs that ended; asks live claims of such runs to stop. Returns how many it canceled.
   * Workers call it every little while (worker.ts), after closing the runs whose coordinator died.
   */
  reclaimOrphans(now: number): Promise<number>;
  /** Extends a claim; says whether the coordinator asked it to stop, or whether it was lost. */
  renew(claim: WorkClaim, now: number, ttlMs: number): Promise<RenewResult>;
  /** Records the unit's result; false when the claim was lost meanwhile (the result is dropped). */
  complete(claim: WorkClaim, result: R, now: number): Promise<boolean>;
  /**
   * `complete`, then `claim` for the same worker, in one transaction (one commit instead of two):
   * a busy worker's way from one unit to the next. `completed` as `complete` answers.
   */
  completeAndClaim(
    claim: WorkClaim,
    result: R,
    now: number,
    ttlMs: number,
  ): Promise<{ readonly completed: boolean; readonly next: ClaimedWorkUnit<P> | undefined }>;
  /** Puts a claimed unit back in the queue (a draining worker that could not finish it); the attempt does not count. */
  handBack(claim: WorkClaim): Promise<void>;
  /** The units among `ids` of the run that have ended. */
  endings(runId: string, ids: readonly number[]): Promise<WorkUnitRecord<R>[]>;
  /** Cancels a run's queued units and asks its claimed ones to stop; returns the ids canceled while queued. */
  cancelRun(runId: string, now: number): Promise<number[]>;
  /** Every unit of a run, in queue order. */
  units(runId: string): Promise<WorkUnitRecord<R>[]>;
  /**
   * Calls `listener` with the run and the new state of every unit queued or ended (NOTIFY; a
   * claim is not announced: nobody waits for one); resolves to the function that stops it.
   */
  subscribe(listener: (change: WorkUnitChange) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
