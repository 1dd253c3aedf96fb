// `prune --older-than 30d`: removes old run events and superseded versions
// (rows and files), but never a current version or anything the lineage of a
// current version points at.
import type { Instance } from './instance.ts';
import { RuntimeError } from './errors.ts';

export interface PruneResult {
  readonly cutoff: number;
  readonly events: number;
  readonly materializations: number;
  readonly files: number;
  readonly dryRun: boolean;
}

/** Parses "30d", "12h", "90m" into milliseconds. */
export function parseAge(text: string): number {
  const m = /^(\d+)\s*(d|h|m)$/.exec(text.trim());
  if (!m) throw new RuntimeError('invalid-definition', `Invalid age ${JSON.stringify(text)}: write a number followed by d, h or m, such as 30d.`);
  const unit = m[2] === 'd' ? 86_400_000 : m[2] === 'h' ? 3_600_000 : 60_000;
  return Number(m[1]) * unit;
}

export async function prune(instance: Instance<unknown>, options: { olderThanMs: number; now?: number; dryRun?: boolean }): Promise<PruneResult> {
  const db = instance.store.db;
  const cutoff = (options.now ?? Date.now()) - options.olderThanMs;
  const dryRun = options.dryRun ?? false;
  // Keep: every current version and, transitively, everything it consumed.
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS keep_ids (id INTEGER PRIMARY KEY)`);
  const plan = db.transaction(() => {
    db.exec(`DELETE FROM keep_ids`);
    db.exec(`
      WITH RECURSIVE keep(id) AS (
        SELECT materialization_id FROM current
        UNION
        SELECT i.upstream_materialization_id FROM inputs i JOIN keep k ON i.materialization_id = k.id
      )
      INSERT INTO keep_ids SELECT id FROM keep`);
    const doomed = db
      .prepare(`SELECT id, location FROM materializations WHERE ended_at < ? AND id NOT IN (SELECT id FROM keep_ids)`)
      .all(cutoff) as { id: number; location: string | null }[];
    const events = (db.prepare(`SELECT count(*) AS n FROM events e JOIN runs r ON r.id = e.run_id WHERE r.ended_at IS NOT NULL AND r.ended_at < ?`).get(cutoff) as { n: number }).n;
    if (!dryRun) {
      const del = db.prepare(`DELETE FROM materializations WHERE id = ?`);
      const delInputs = db.prepare(`DELETE FROM inputs WHERE materialization_id = ?`);
      const delChecks = db.prepare(`DELETE FROM check_results WHERE materialization_id = ?`);
      for (const d of doomed) {
        delInputs.run(d.id);
        delChecks.run(d.id);
        del.run(d.id);
      }
      db.prepare(`DELETE FROM events WHERE run_id IN (SELECT id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ?)`).run(cutoff);
    }
    // Files are content-addressed and may be shared: delete one only when no remaining row points at it.
    const stillUsed = db.prepare(`SELECT 1 FROM materializations WHERE location = ? LIMIT 1`);
    const files = [...new Set(doomed.map((d) => d.location).filter((l): l is string => l !== null))].filter(
      (l) => dryRun || !stillUsed.get(l),
    );
    return { doomed: doomed.length, files, events };
  }).immediate();
  if (!dryRun) for (const f of plan.files) await instance.storage.remove(f);
  return { cutoff, events: plan.events, materializations: plan.doomed, files: plan.files.length, dryRun };
}
