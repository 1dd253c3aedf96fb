// The SQLite statements of the automation tables (schema migration 4): ticks, cursors and
// run request claims. Held by SqliteStatements, which owns the database handle.
import type Database from 'better-sqlite3';
import { storableText, type AutomationCursor, type ClaimResult, type CursorUpdate, type NewTick, type TickQuery, type TickRecord } from './tick-records.ts';

interface TickRow {
  id: number;
  daemon_id: string;
  started_at: number;
  ended_at: number;
  kind: TickRecord['kind'];
  name: string;
  evaluated: string;
  requested: string;
  skipped: string;
  cursor: string | null;
  error: string | null;
}

export function tickFromRow(r: TickRow): TickRecord {
  return {
    id: r.id,
    daemonId: r.daemon_id,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    kind: r.kind,
    name: r.name,
    evaluated: JSON.parse(r.evaluated),
    requested: JSON.parse(r.requested),
    skipped: JSON.parse(r.skipped),
    cursor: r.cursor,
    error: r.error,
  };
}

export class SqliteAutomation {
  readonly #db: Database.Database;
  readonly #s;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#s = {
      claim: db.prepare(`INSERT OR IGNORE INTO run_request_claims (dedupe_key, daemon_id, run_id, claimed_at) VALUES (?, ?, ?, ?)`),
      claimOf: db.prepare(`SELECT daemon_id, run_id, claimed_at FROM run_request_claims WHERE dedupe_key = ?`),
      insertTick: db.prepare(
        `INSERT INTO ticks (daemon_id, started_at, ended_at, kind, name, evaluated, requested, skipped, cursor, error)
         VALUES (@daemonId, @startedAt, @endedAt, @kind, @name, @evaluated, @requested, @skipped, @cursor, @error)`,
      ),
      upsertCursor: db.prepare(
        `INSERT INTO automation_cursors (name, cursor, evaluated_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, evaluated_at = excluded.evaluated_at`,
      ),
      cursors: db.prepare(`SELECT name, cursor, evaluated_at FROM automation_cursors`),
    };
  }

  claimRunRequest(dedupeKey: string, daemonId: string, runId: string, now: number): ClaimResult {
    if (this.#s.claim.run(dedupeKey, daemonId, runId, now).changes > 0) return { claimed: true };
    const r = this.#s.claimOf.get(dedupeKey) as { daemon_id: string; run_id: string; claimed_at: number };
    return { claimed: false, daemonId: r.daemon_id, runId: r.run_id, claimedAt: r.claimed_at };
  }

  recordTicks(ticks: readonly NewTick[], cursors: readonly CursorUpdate[]): void {
    this.#db
      .transaction(() => {
        for (const t of ticks) {
          this.#s.insertTick.run({
            ...t,
            evaluated: JSON.stringify(t.evaluated),
            requested: JSON.stringify(t.requested),
            skipped: JSON.stringify(t.skipped),
            error: storableText(t.error),
          });
        }
        for (const c of cursors) this.#s.upsertCursor.run(c.name, c.cursor, c.evaluatedAt);
      })
      .immediate();
  }

  listTicks(q: TickQuery): TickRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.name !== undefined) {
      where.push('name = ?');
      args.push(q.name);
    }
    if (q.kind !== undefined) {
      where.push('kind = ?');
      args.push(q.kind);
    }
    const sql = `SELECT * FROM ticks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...args, q.limit ?? 50) as TickRow[]).map(tickFromRow);
  }

  /** Old ticks, claims and ended queue rows, counted (and deleted unless dry) in one transaction. */
  prune(cutoff: number, dryRun: boolean): { ticks: number; claims: number; queueRows: number } {
    const tables = {
      ticks: 'FROM ticks WHERE ended_at < ?',
      claims: 'FROM run_request_claims WHERE claimed_at < ?',
      queueRows: "FROM run_queue WHERE state IN ('finished', 'canceled') AND enqueued_at < ?",
    };
    return this.#db
      .transaction(() => {
        const out = { ticks: 0, claims: 0, queueRows: 0 };
        for (const [k, from] of Object.entries(tables) as [keyof typeof out, string][]) {
          out[k] = dryRun
            ? (this.#db.prepare(`SELECT count(*) AS n ${from}`).get(cutoff) as { n: number }).n
            : this.#db.prepare(`DELETE ${from}`).run(cutoff).changes;
        }
        return out;
      })
      .immediate();
  }

  automationCursors(): Map<string, AutomationCursor> {
    const out = new Map<string, AutomationCursor>();
    for (const r of this.#s.cursors.all() as { name: string; cursor: string | null; evaluated_at: number }[])
      out.set(r.name, { cursor: r.cursor, evaluatedAt: r.evaluated_at });
    return out;
  }
}
