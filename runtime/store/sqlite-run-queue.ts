// The SQLite statements of the run queue (schema migration 5). A claim reads the queue and
// the runs holding a slot and moves the chosen row to `launched` in one IMMEDIATE
// transaction: SQLite's write lock makes it atomic across processes, so two claimers never
// launch one row. Rows queued by a process of this host that has died are canceled on the
// way (no one else would ever start them, and they would hold up everything behind them).
// Heartbeats and claims are stamped, and staleness judged, by the store's clock (SQLite's
// 'now', the clock of the machine holding the file) rather than by each caller's, as the
// PostgreSQL store does with its server's: one clock for every writer and every judge.
import type Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { admit } from '../queue/admission.ts';
import { deadQueueOwner } from './run-liveness.ts';
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
} from './run-queue-records.ts';

/** The store's clock in epoch milliseconds, as SQL. */
const STORE_NOW = `CAST(ROUND(unixepoch('subsec') * 1000) AS INTEGER)`;

export class SqliteRunQueue {
  readonly #db: Database.Database;
  readonly #s;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#s = {
      insert: db.prepare(
        `INSERT INTO run_queue (run_id, selection, partitions, force, trigger, pools, enqueued_at, owner_host, owner_pid, state, heartbeat_at)
         VALUES (@runId, @selection, @partitions, @force, @trigger, @pools, @enqueuedAt, @host, @pid, 'queued', ${STORE_NOW})`,
      ),
      now: db.prepare(`SELECT ${STORE_NOW} AS now`),
      queued: db.prepare(`SELECT * FROM run_queue WHERE state = 'queued' ORDER BY seq`),
      // A launched row holds a slot while its run is running, or not yet recorded (just claimed; a claimer
      // that died before recording its run frees the slot after CLAIM_RECORD_MS).
      holding: db.prepare(
        `SELECT q.pools FROM run_queue q LEFT JOIN runs r ON r.id = q.run_id
         WHERE q.state = 'launched' AND ((r.id IS NULL AND q.claimed_at > ?) OR r.status = 'running')`,
      ),
      launch: db.prepare(`UPDATE run_queue SET state = 'launched', claimed_by = ?, claimed_at = ? WHERE run_id = ? AND state = 'queued'`),
      setState: db.prepare(`UPDATE run_queue SET state = ? WHERE run_id = ? AND state = ?`),
      cancel: db.prepare(`UPDATE run_queue SET state = 'canceled', cancel_reason = ? WHERE run_id = ? AND state = 'queued'`),
      heartbeat: db.prepare(`UPDATE run_queue SET heartbeat_at = ${STORE_NOW} WHERE run_id = ? AND state = 'queued'`),
      one: db.prepare(`SELECT * FROM run_queue WHERE run_id = ?`),
    };
  }

  enqueue(run: NewQueuedRun): void {
    this.#s.insert.run({ ...run, force: run.force ? 1 : 0, pools: JSON.stringify(run.pools), host: hostname(), pid: process.pid });
  }

  list(states: readonly QueueState[] | undefined, limit: number): QueuedRunRecord[] {
    const where = states && states.length > 0 ? `WHERE state IN (${states.map(() => '?').join(', ')})` : '';
    return (this.#db.prepare(`SELECT * FROM run_queue ${where} ORDER BY seq DESC LIMIT ?`).all(...(states ?? []), limit) as QueueRow[])
      .map(queuedRunFromRow)
      .reverse();
  }

  claim(claimer: string, limits: QueueLimits, only: string | undefined): ClaimQueuedResult {
    return this.#db
      .transaction((): ClaimQueuedResult => {
        const now = (this.#s.now.get() as { now: number }).now;
        const rows = this.#s.queued.all() as QueueRow[];
        // Rows whose process is gone would hold up everything behind them: no one else can start them.
        const live = rows.filter((r) => {
          const dead = deadQueueOwner(queuedRunFromRow(r), now);
          if (dead === undefined) return true;
          this.#s.cancel.run(dead, r.run_id);
          return false;
        });
        const holding = (this.#s.holding.all(now - CLAIM_RECORD_MS) as { pools: string }[]).map((r) => JSON.parse(r.pools) as string[]);
        const decision = admit(live.map(queuedRunFromRow), holding, limits, only);
        if (!decision.next) return { claimed: undefined, waiting: decision.waiting.get(only ?? live[0]?.run_id ?? '') };
        this.#s.launch.run(claimer, now, decision.next.runId);
        return { claimed: { ...decision.next, state: 'launched', claimedBy: claimer, claimedAt: now } };
      })
      .immediate();
  }

  finish(runId: string): void {
    this.#s.setState.run('finished', runId, 'launched');
  }

  heartbeat(runIds: readonly string[]): void {
    this.#db.transaction(() => {
      for (const id of runIds) this.#s.heartbeat.run(id);
    })();
  }

  cancel(runId: string, reason: string = CANCELED_ON_REQUEST): CancelQueuedResult {
    if (this.#s.cancel.run(reason, runId).changes > 0) return { canceled: true };
    const row = this.#s.one.get(runId) as QueueRow | undefined;
    return { canceled: false, state: row?.state ?? 'unknown' };
  }

  get(runId: string): QueuedRunRecord | undefined {
    const row = this.#s.one.get(runId) as QueueRow | undefined;
    return row ? queuedRunFromRow(row) : undefined;
  }
}
