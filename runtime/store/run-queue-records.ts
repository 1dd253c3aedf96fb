// What the lineage store keeps for the run queue: one row per run asked for (from the UI,
// the API, the daemon or the CLI), in the order they were asked, with the pools its assets
// use, and its state. A row is claimed (queued -> launched) in one store transaction, so two
// processes never start the same queued run; see runtime/queue/admission.ts for who goes next.
import type { RunTrigger } from './records.ts';
import { runTrigger } from './run-rows.ts';

/**
 * - `queued`: waiting for its turn;
 * - `launched`: claimed by a process, which runs it (it counts against the limits while its run is running);
 * - `canceled`: canceled while queued: never started;
 * - `finished`: its run ended (it no longer counts).
 */
export type QueueState = 'queued' | 'launched' | 'canceled' | 'finished';
export const QUEUE_STATES: readonly QueueState[] = ['queued', 'launched', 'canceled', 'finished'];

export interface NewQueuedRun {
  /** The run id the run will have. */
  readonly runId: string;
  readonly selection: string;
  readonly partitions: string | null;
  readonly force: boolean;
  readonly trigger: RunTrigger;
  /** The pools of the run's assets (`pool` in their definitions), sorted, distinct. */
  readonly pools: readonly string[];
  /** When it was queued, by the queuing host's clock: shown, never judged (the heartbeat is the store's). */
  readonly enqueuedAt: number;
}

export interface QueuedRunRecord extends NewQueuedRun {
  /** Position in the queue: lower goes first. */
  readonly seq: number;
  readonly state: QueueState;
  /** The process that queued it (and will run it). */
  readonly ownerHost: string;
  readonly ownerPid: number;
  /** When that process last said it is alive and still waiting (epoch ms by the store's clock, from when it queued the run). */
  readonly heartbeatAt: number;
  /** Why a canceled row was canceled, in words; null otherwise. */
  readonly cancelReason: string | null;
  /** The process that claimed it ("host:pid:random"), once launched. */
  readonly claimedBy: string | null;
  readonly claimedAt: number | null;
}

/** How many runs may run at once: in all, and per pool (a pool without a limit has none). */
export interface QueueLimits {
  readonly maxConcurrentRuns: number;
  readonly poolLimits: Readonly<Record<string, number>>;
}

/** A launched run not recorded in the store this long after its claim: its claimer died; it no longer holds a slot. */
export const CLAIM_RECORD_MS = 10 * 60_000;

/** How often a process heartbeats the rows it queued while they wait (runtime/queue/run-queue.ts). */
export const QUEUE_HEARTBEAT_MS = 10_000;
/**
 * A queued row of another host whose process has not heartbeaten for this long is taken for dead
 * and canceled at the next claim (a row of this host is judged by its process's existence): three times a running run's lease (the executor's
 * 30 s), the age at which an abandoned run is closed, so a waiting run and a running one are
 * judged alike.
 */
export const QUEUE_STALE_AFTER_MS = 90_000;

/** Why a user's cancel is recorded, when the caller gives no reason. */
export const CANCELED_ON_REQUEST = 'canceled on request (materialize runs cancel, the UI or the API) before it started';

export type CancelQueuedResult = { readonly canceled: true } | { readonly canceled: false; readonly state: QueueState | 'unknown' };

export type ClaimQueuedResult =
  | { readonly claimed: QueuedRunRecord }
  | {
      readonly claimed: undefined /** Why `only` (or the head of the queue) waits, in words; undefined when nothing is queued. */;
      readonly waiting: string | undefined;
    };

/** A queue row as both stores read it. */
export interface QueueRow {
  seq: number | string;
  run_id: string;
  selection: string;
  partitions: string | null;
  force: number | boolean;
  trigger: string;
  pools: string;
  enqueued_at: number | string;
  owner_host: string;
  owner_pid: number;
  state: QueueState;
  claimed_by: string | null;
  claimed_at: number | string | null;
  heartbeat_at: number | string | null;
  cancel_reason: string | null;
}

export function queuedRunFromRow(r: QueueRow): QueuedRunRecord {
  return {
    seq: Number(r.seq),
    runId: r.run_id,
    selection: r.selection,
    partitions: r.partitions,
    force: Boolean(r.force),
    trigger: runTrigger(r.trigger, `The trigger of queued run ${r.run_id}`),
    pools: JSON.parse(r.pools) as string[],
    enqueuedAt: Number(r.enqueued_at),
    state: r.state,
    ownerHost: r.owner_host,
    ownerPid: Number(r.owner_pid),
    heartbeatAt: Number(r.heartbeat_at ?? r.enqueued_at),
    cancelReason: r.cancel_reason,
    claimedBy: r.claimed_by,
    claimedAt: r.claimed_at === null ? null : Number(r.claimed_at),
  };
}
