// The worker-pool queue (work-queue-api.ts) on PostgreSQL, in the lineage store's own database
// (table work_units, migration 3 in schema.ts).
//
// Why SELECT … FOR UPDATE SKIP LOCKED rather than graphile-worker or pg-boss: what those add
// (retries with backoff, cron, job history, their own schema and migrations) is either already
// the runtime's (assets' retry policies, the CronJob, the run's events) or not wanted here, and
// what makes a step safe to run twice is the store's partition lease, fenced commit and live
// re-check, not the queue. A claim is one statement: the oldest claimable row, skipping rows
// another worker is claiming, so N workers never wait on each other. One dependency and one
// schema fewer; bench/scale.ts measures a worker-pool backfill and the coordinator's CPU per step.
import pg from 'pg';
import type { AssetKey, PartitionKey } from '../../keys.ts';
import type {
  ClaimedWorkUnit,
  EnqueueResult,
  NewWorkUnit,
  RenewResult,
  WorkClaim,
  WorkQueue,
  WorkUnitChange,
  WorkUnitRecord,
  WorkUnitState,
} from '../work-queue-api.ts';

const CHANNEL = 'work_units';
/** The states the trigger announces (every one but 'claimed'). */
const NOTIFIED_STATES = new Set<string>(['queued', 'done', 'failed', 'canceled'] satisfies WorkUnitChange['state'][]);

const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

interface Row {
  id: number;
  run_id: string;
  unit_key: string;
  asset: string;
  partitions: string;
  pool: string | null;
  state: WorkUnitState;
  payload: string;
  claimed_by: string | null;
  lease_expires_at: number | null;
  attempts: number;
  result: string | null;
  error: string | null;
  enqueued_at: number;
  claimed_at: number | null;
  ended_at: number | null;
}

export class PostgresWorkQueue<P, R> implements WorkQueue<P, R> {
  readonly #pool: pg.Pool;
  readonly #url: string;
  readonly #listeners = new Set<pg.Client>();

  private constructor(url: string, pool: pg.Pool) {
    this.#url = url;
    this.#pool = pool;
  }

  /** The queue in the store at `url`; open the lineage store first (it applies the migrations). */
  static open<P, R>(url: string): PostgresWorkQueue<P, R> {
    const pool = new pg.Pool({ connectionString: url, max: 4, types: TYPES });
    pool.on('error', () => undefined);
    return new PostgresWorkQueue<P, R>(url, pool);
  }

  async close(): Promise<void> {
    for (const c of this.#listeners) await c.end().catch(() => undefined);
    this.#listeners.clear();
    await this.#pool.end();
  }

  async enqueue(u: NewWorkUnit<P>): Promise<EnqueueResult> {
    // DO NOTHING covers both unique rules: the unit already queued (an idempotent retry) and its
    // pool busy (the partial index work_units_one_per_pool); the follow-up read tells them apart.
    const { rows } = await this.#pool.query<{ id: number }>(
      `INSERT INTO work_units (run_id, unit_key, asset, partitions, pool, state, payload, max_attempts, enqueued_at)
       VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id`,
      [u.runId, u.unitKey, u.asset, JSON.stringify(u.partitions), u.pool, JSON.stringify(u.payload), u.maxAttempts, u.now],
    );
    if (rows[0]) return { enqueued: true, id: rows[0].id };
    const existing = await this.#pool.query<{ id: number }>(`SELECT id FROM work_units WHERE run_id = $1 AND unit_key = $2`, [u.runId, u.unitKey]);
    if (existing.rows[0]) return { enqueued: true, id: existing.rows[0].id };
    return { enqueued: false, reason: 'pool-busy', pool: u.pool ?? '' };
  }

  async claim(worker: string, now: number, ttlMs: number): Promise<ClaimedWorkUnit<P> | undefined> {
    const { rows } = await this.#pool.query<Row>({
      name: 'claimWorkUnit',
      text: `WITH ${claimNext({ worker: '$1', now: '$2', expires: '$3', except: 'NULL' })} SELECT * FROM claimed`,
      values: [worker, now, now + ttlMs],
    });
    return rows[0] && toClaimed<P>(rows[0]);
  }

  async completeAndClaim(claim: WorkClaim, result: R, now: number, ttlMs: number): Promise<{ completed: boolean; next: ClaimedWorkUnit<P> | undefined }> {
    // One statement, so one commit for the end of one unit and the claim of the next.
    const { rows } = await this.#pool.query<Row & { completed: number }>({
      name: 'completeAndClaimWorkUnit',
      text: `WITH done AS (
         UPDATE work_units SET state = 'done', result = $4, ended_at = $5, lease_expires_at = NULL
         WHERE id = $1 AND claimed_by = $2 AND attempts = $3 AND state = 'claimed'
         RETURNING id
       ),
       ${claimNext({ worker: '$2', now: '$5', expires: '$6', except: '$1' })}
       SELECT (SELECT count(*) FROM done)::int AS completed, claimed.* FROM (SELECT 1) AS one LEFT JOIN claimed ON true`,
      values: [claim.id, claim.worker, claim.attempt, JSON.stringify(result), now, now + ttlMs],
    });
    const r = rows[0]!;
    return { completed: r.completed === 1, next: r.id === null ? undefined : toClaimed<P>(r) };
  }

  async reclaimOrphans(now: number): Promise<number> {
    // A run that ended while units of it were still queued (its coordinator was killed, then
    // closed as abandoned): nobody waits for them, and a queued unit of a pool would keep that
    // pool busy for every other run. Cancel them, and the expired claims of such runs; a live
    // claim is asked to stop (its worker sees it at the next renewal).
    const { rowCount } = await this.#pool.query(
      `UPDATE work_units w SET state = 'canceled', ended_at = $1, lease_expires_at = NULL,
         error = 'run ' || w.run_id || ' ended (' || r.status || ') before a worker ran this unit: its coordinator stopped'
       FROM runs r
       WHERE r.id = w.run_id AND r.status <> 'running'
         AND (w.state = 'queued' OR (w.state = 'claimed' AND w.lease_expires_at < $1))`,
      [now],
    );
    await this.#pool.query(
      `UPDATE work_units w SET cancel_requested = true FROM runs r
       WHERE r.id = w.run_id AND r.status <> 'running' AND w.state = 'claimed' AND NOT w.cancel_requested`,
    );
    return rowCount ?? 0;
  }

  async renew(claim: WorkClaim, now: number, ttlMs: number): Promise<RenewResult> {
    const { rows } = await this.#pool.query<{ cancel_requested: boolean }>(
      `UPDATE work_units SET lease_expires_at = $4 WHERE id = $1 AND claimed_by = $2 AND attempts = $3 AND state = 'claimed' RETURNING cancel_requested`,
      [claim.id, claim.worker, claim.attempt, now + ttlMs],
    );
    const r = rows[0];
    return !r ? 'lost' : r.cancel_requested ? 'cancel-requested' : 'held';
  }

  async complete(claim: WorkClaim, result: R, now: number): Promise<boolean> {
    const r = await this.#pool.query(
      `UPDATE work_units SET state = 'done', result = $4, ended_at = $5, lease_expires_at = NULL
       WHERE id = $1 AND claimed_by = $2 AND attempts = $3 AND state = 'claimed'`,
      [claim.id, claim.worker, claim.attempt, JSON.stringify(result), now],
    );
    return r.rowCount === 1;
  }

  async handBack(claim: WorkClaim): Promise<void> {
    await this.#pool.query(
      `UPDATE work_units SET state = 'queued', claimed_by = NULL, lease_expires_at = NULL, attempts = attempts - 1
       WHERE id = $1 AND claimed_by = $2 AND attempts = $3 AND state = 'claimed'`,
      [claim.id, claim.worker, claim.attempt],
    );
  }

  async endings(runId: string, ids: readonly number[]): Promise<WorkUnitRecord<R>[]> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT * FROM work_units WHERE run_id = $1 AND id = ANY($2::bigint[]) AND state IN ('done', 'failed', 'canceled') ORDER BY id`,
      [runId, ids],
    );
    return rows.map(toRecord<R>);
  }

  async cancelRun(runId: string, now: number): Promise<number[]> {
    const { rows } = await this.#pool.query<{ id: number }>(
      `WITH c AS (UPDATE work_units SET state = 'canceled', ended_at = $2 WHERE run_id = $1 AND state = 'queued' RETURNING id),
            s AS (UPDATE work_units SET cancel_requested = true WHERE run_id = $1 AND state = 'claimed')
       SELECT id FROM c`,
      [runId, now],
    );
    return rows.map((r) => r.id);
  }

  async units(runId: string): Promise<WorkUnitRecord<R>[]> {
    const { rows } = await this.#pool.query<Row>(`SELECT * FROM work_units WHERE run_id = $1 ORDER BY id`, [runId]);
    return rows.map(toRecord<R>);
  }

  async subscribe(listener: (change: WorkUnitChange) => void): Promise<() => Promise<void>> {
    // A connection of its own: LISTEN belongs to a session, and a pooled one is handed to others.
    // A dropped connection is not reconnected here: callers poll as well (a lost NOTIFY only delays).
    const c = new pg.Client({ connectionString: this.#url, types: TYPES });
    c.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || msg.payload === undefined) return;
      // 'STATE RUN_ID' (migration 8); anything else is not ours to act on, and the poll covers it.
      const space = msg.payload.indexOf(' ');
      const state = msg.payload.slice(0, space) as WorkUnitChange['state'];
      if (space > 0 && NOTIFIED_STATES.has(state)) listener({ state, runId: msg.payload.slice(space + 1) });
    });
    c.on('error', () => this.#listeners.delete(c));
    await c.connect();
    await c.query(`LISTEN ${CHANNEL}`);
    this.#listeners.add(c);
    return async () => {
      this.#listeners.delete(c);
      await c.end().catch(() => undefined);
    };
  }
}

/**
 * The CTEs of a claim (`claimed`: the row taken, or none), as `claim` and `completeAndClaim` run
 * them. `dead` fails the units whose every claim expired (each worker that took them died) rather
 * than let them loop; `next` takes the oldest claimable one, skipping rows another worker is
 * claiming. The two sets are disjoint (attempts at or past max_attempts, or below it), and both
 * leave out `except` (the unit being completed in the same statement), so no row is updated twice.
 */
function claimNext(p: { readonly worker: string; readonly now: string; readonly expires: string; readonly except: string }): string {
  return `dead AS (
       UPDATE work_units SET state = 'failed', ended_at = ${p.now}, lease_expires_at = NULL,
         error = 'every worker that claimed it stopped before finishing (' || attempts || ' claims, the last by ' || claimed_by || '); see that worker''s log (killed, out of memory?)'
       WHERE state = 'claimed' AND lease_expires_at < ${p.now} AND attempts >= max_attempts AND id IS DISTINCT FROM ${p.except}::bigint
     ),
     next AS (
       SELECT w.id FROM work_units w
       WHERE (w.state = 'queued' OR (w.state = 'claimed' AND w.lease_expires_at < ${p.now}))
         AND w.attempts < w.max_attempts AND w.id IS DISTINCT FROM ${p.except}::bigint
         AND EXISTS (SELECT 1 FROM runs r WHERE r.id = w.run_id AND r.status = 'running')
       ORDER BY w.id
       LIMIT 1
       FOR UPDATE OF w SKIP LOCKED
     ),
     claimed AS (
       UPDATE work_units u SET state = 'claimed', claimed_by = ${p.worker}, claimed_at = ${p.now}, lease_expires_at = ${p.expires}, attempts = u.attempts + 1
       FROM next WHERE u.id = next.id
       RETURNING u.*
     )`;
}

function toClaimed<P>(r: Row): ClaimedWorkUnit<P> {
  return { ...unitOf(r), payload: JSON.parse(r.payload) as P, attempt: r.attempts, leaseExpiresAt: r.lease_expires_at! };
}

/** What names a unit, as a claim and a record both carry it. */
function unitOf(r: Row): Pick<WorkUnitRecord<unknown>, 'id' | 'runId' | 'unitKey' | 'asset' | 'partitions'> {
  return { id: r.id, runId: r.run_id, unitKey: r.unit_key, asset: r.asset as AssetKey, partitions: JSON.parse(r.partitions) as PartitionKey[] };
}

function toRecord<R>(r: Row): WorkUnitRecord<R> {
  return {
    ...unitOf(r),
    pool: r.pool,
    state: r.state,
    claimedBy: r.claimed_by,
    attempts: r.attempts,
    result: r.result === null ? null : (JSON.parse(r.result) as R),
    error: r.error,
    enqueuedAt: r.enqueued_at,
    claimedAt: r.claimed_at,
    endedAt: r.ended_at,
  };
}
