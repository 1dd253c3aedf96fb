// The PostgreSQL statements of the automation tables (migration 4): ticks, cursors and run
// request claims, over the store's pool. Mirrors runtime/store/sqlite-automation.ts.
import type pg from 'pg';
import { tickFromRow } from '../sqlite-automation.ts';
import { storableText, type AutomationCursor, type ClaimResult, type CursorUpdate, type NewTick, type TickQuery, type TickRecord } from '../tick-records.ts';

export async function claimRunRequest(pool: pg.Pool, dedupeKey: string, daemonId: string, runId: string, now: number): Promise<ClaimResult> {
  const ins = await pool.query(
    `INSERT INTO run_request_claims (dedupe_key, daemon_id, run_id, claimed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING`,
    [dedupeKey, daemonId, runId, now],
  );
  if ((ins.rowCount ?? 0) > 0) return { claimed: true };
  const { rows } = await pool.query<{ daemon_id: string; run_id: string; claimed_at: number }>(
    `SELECT daemon_id, run_id, claimed_at FROM run_request_claims WHERE dedupe_key = $1`,
    [dedupeKey],
  );
  const r = rows[0]!;
  return { claimed: false, daemonId: r.daemon_id, runId: r.run_id, claimedAt: r.claimed_at };
}

export async function recordTicks(pool: pg.Pool, ticks: readonly NewTick[], cursors: readonly CursorUpdate[]): Promise<void> {
  if (ticks.length === 0 && cursors.length === 0) return;
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    if (ticks.length > 0) {
      // One statement for every row of the tick: a round trip per tick, not per row.
      await c.query(
        `INSERT INTO ticks (daemon_id, started_at, ended_at, kind, name, evaluated, requested, skipped, cursor, error)
         SELECT daemon_id, started_at, ended_at, kind, name, evaluated, requested, skipped, cursor, error FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
         WITH ORDINALITY AS t(daemon_id, started_at, ended_at, kind, name, evaluated, requested, skipped, cursor, error, ord) ORDER BY ord`,
        [
          ticks.map((t) => t.daemonId),
          ticks.map((t) => t.startedAt),
          ticks.map((t) => t.endedAt),
          ticks.map((t) => t.kind),
          ticks.map((t) => t.name),
          ticks.map((t) => JSON.stringify(t.evaluated)),
          ticks.map((t) => JSON.stringify(t.requested)),
          ticks.map((t) => JSON.stringify(t.skipped)),
          ticks.map((t) => t.cursor),
          ticks.map((t) => storableText(t.error)),
        ],
      );
    }
    if (cursors.length > 0) {
      await c.query(
        `INSERT INTO automation_cursors (name, cursor, evaluated_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
         ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, evaluated_at = excluded.evaluated_at`,
        [cursors.map((x) => x.name), cursors.map((x) => x.cursor), cursors.map((x) => x.evaluatedAt)],
      );
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

export async function listTicks(pool: pg.Pool, q: TickQuery): Promise<TickRecord[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.name !== undefined) where.push(`name = $${args.push(q.name)}`);
  if (q.kind !== undefined) where.push(`kind = $${args.push(q.kind)}`);
  const limit = `$${args.push(q.limit ?? 50)}`;
  const { rows } = await pool.query(`SELECT * FROM ticks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`, args);
  return rows.map(tickFromRow);
}

export async function automationCursors(pool: pg.Pool): Promise<Map<string, AutomationCursor>> {
  const { rows } = await pool.query<{ name: string; cursor: string | null; evaluated_at: number }>(`SELECT name, cursor, evaluated_at FROM automation_cursors`);
  return new Map(rows.map((r) => [r.name, { cursor: r.cursor, evaluatedAt: r.evaluated_at }]));
}

/** Old ticks, claims and ended queue rows, counted (and deleted unless dry) in one transaction. */
export async function pruneAutomation(c: pg.PoolClient, cutoff: number, dryRun: boolean): Promise<{ ticks: number; claims: number; queueRows: number }> {
  const tables = {
    ticks: 'FROM ticks WHERE ended_at < $1',
    claims: 'FROM run_request_claims WHERE claimed_at < $1',
    queueRows: "FROM run_queue WHERE state IN ('finished', 'canceled') AND enqueued_at < $1",
  };
  const out = { ticks: 0, claims: 0, queueRows: 0 };
  for (const [k, from] of Object.entries(tables) as [keyof typeof out, string][]) {
    out[k] = dryRun
      ? Number((await c.query<{ n: string }>(`SELECT count(*) AS n ${from}`, [cutoff])).rows[0]!.n)
      : ((await c.query(`DELETE ${from}`, [cutoff])).rowCount ?? 0);
  }
  return out;
}
