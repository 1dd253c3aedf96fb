// The PostgreSQL statements of the run queue (migration 5). A claim takes a transaction-scoped
// advisory lock first, so claims of every process are one at a time: the decision (what is
// queued, what holds a slot) and the move to `launched` see one state. Mirrors
// runtime/store/sqlite-run-queue.ts, including the cancel of rows a dead process of this host queued.
// Heartbeats and claims are stamped, and staleness judged, by the server's clock, never a
// caller's: hosts whose clocks differ by more than QUEUE_STALE_AFTER_MS would otherwise take
// each other's waiting runs for dead.
import { hostname } from 'node:os';
import type pg from 'pg';
import { admit } from '../../queue/admission.ts';
import { deadQueueOwner } from '../run-liveness.ts';
import {
  CANCELED_ON_REQUEST,
  CLAIM_RECORD_MS,
  queuedRunFromRow,
  type CancelQueuedResult,
  type ClaimQueuedResult,
  type NewQueuedRun,
  type QueueLimits,
  type QueueRow,
  type QueueState,
  type QueuedRunRecord,
} from '../run-queue-records.ts';

/**
 * The server's clock in epoch milliseconds, as SQL: when the statement started (now() for a
 * statement of its own; in a claim, after its advisory lock was granted, not when it began waiting).
 */
const STORE_NOW = '(extract(epoch from statement_timestamp()) * 1000)::bigint';

/** The advisory lock key of queue claims (any fixed number no other lock of the store uses). */
const CLAIM_LOCK = 7_215_001;

export async function enqueueRun(pool: pg.Pool, run: NewQueuedRun): Promise<void> {
  await pool.query(
    `INSERT INTO run_queue (run_id, selection, partitions, force, trigger, pools, enqueued_at, owner_host, owner_pid, state, heartbeat_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', ${STORE_NOW})`,
    [run.runId, run.selection, run.partitions, run.force, run.trigger, JSON.stringify(run.pools), run.enqueuedAt, hostname(), process.pid],
  );
}

export async function listQueue(pool: pg.Pool, states: readonly QueueState[], limit: number): Promise<QueuedRunRecord[]> {
  const { rows } = await pool.query<QueueRow>(`SELECT * FROM run_queue WHERE state = ANY($1::text[]) ORDER BY seq DESC LIMIT $2`, [states, limit]);
  return rows.map(queuedRunFromRow).reverse();
}

export async function queuedRun(pool: pg.Pool, runId: string): Promise<QueuedRunRecord | undefined> {
  const { rows } = await pool.query<QueueRow>(`SELECT * FROM run_queue WHERE run_id = $1`, [runId]);
  return rows[0] ? queuedRunFromRow(rows[0]) : undefined;
}

export async function claimQueuedRun(c: pg.PoolClient, claimer: string, limits: QueueLimits, only: string | undefined): Promise<ClaimQueuedResult> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
  const now = (await c.query<{ now: number }>(`SELECT ${STORE_NOW} AS now`)).rows[0]!.now;
  const { rows } = await c.query<QueueRow>(`SELECT * FROM run_queue WHERE state = 'queued' ORDER BY seq`);
  const live: QueueRow[] = [];
  for (const r of rows) {
    const dead = deadQueueOwner(queuedRunFromRow(r), now);
    if (dead === undefined) live.push(r);
    else await c.query(`UPDATE run_queue SET state = 'canceled', cancel_reason = $2 WHERE run_id = $1 AND state = 'queued'`, [r.run_id, dead]);
  }
  // A launched row holds a slot while its run is running, or not yet recorded (just claimed; a claimer
  // that died before recording its run frees the slot after CLAIM_RECORD_MS).
  const holding = await c.query<{ pools: string }>(
    `SELECT q.pools FROM run_queue q LEFT JOIN runs r ON r.id = q.run_id WHERE q.state = 'launched' AND ((r.id IS NULL AND q.claimed_at > $1) OR r.status = 'running')`,
    [now - CLAIM_RECORD_MS],
  );
  const decision = admit(
    live.map(queuedRunFromRow),
    holding.rows.map((r) => JSON.parse(r.pools) as string[]),
    limits,
    only,
  );
  if (!decision.next) return { claimed: undefined, waiting: decision.waiting.get(only ?? live[0]?.run_id ?? '') };
  await c.query(`UPDATE run_queue SET state = 'launched', claimed_by = $1, claimed_at = $2 WHERE run_id = $3 AND state = 'queued'`, [
    claimer,
    now,
    decision.next.runId,
  ]);
  return { claimed: { ...decision.next, state: 'launched', claimedBy: claimer, claimedAt: now } };
}

export async function finishQueuedRun(pool: pg.Pool, runId: string): Promise<void> {
  await pool.query(`UPDATE run_queue SET state = 'finished' WHERE run_id = $1 AND state = 'launched'`, [runId]);
}

export async function heartbeatQueuedRuns(pool: pg.Pool, runIds: readonly string[]): Promise<void> {
  if (runIds.length === 0) return;
  await pool.query(`UPDATE run_queue SET heartbeat_at = ${STORE_NOW} WHERE run_id = ANY($1::text[]) AND state = 'queued'`, [runIds]);
}

export async function cancelQueuedRun(pool: pg.Pool, runId: string, reason: string = CANCELED_ON_REQUEST): Promise<CancelQueuedResult> {
  const r = await pool.query(`UPDATE run_queue SET state = 'canceled', cancel_reason = $2 WHERE run_id = $1 AND state = 'queued'`, [runId, reason]);
  if ((r.rowCount ?? 0) > 0) return { canceled: true };
  return { canceled: false, state: (await queuedRun(pool, runId))?.state ?? 'unknown' };
}
