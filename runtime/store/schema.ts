// The lineage store's schema, as an ordered list of migrations. PRAGMA
// user_version records how many have been applied; a store written by a newer
// version of the runtime is refused rather than misread.
import type Database from 'better-sqlite3';
import { RuntimeError } from '../errors.ts';

const MIGRATIONS: readonly string[] = [
  // 1: runs, materializations with their provenance, current pointers, checks, events, leases.
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    selection TEXT NOT NULL,
    partitions TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'canceled')),
    trigger TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    heartbeat_at INTEGER NOT NULL,
    summary TEXT,
    error TEXT
  );
  CREATE INDEX runs_by_start ON runs(started_at DESC);

  CREATE TABLE materializations (
    id INTEGER PRIMARY KEY,
    asset TEXT NOT NULL,
    partition TEXT NOT NULL,
    run_id TEXT NOT NULL REFERENCES runs(id),
    status TEXT NOT NULL CHECK (status IN ('published', 'blocked')),
    code_version TEXT NOT NULL,
    data_version TEXT NOT NULL,
    location TEXT,
    metadata TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL
  );
  CREATE INDEX materializations_by_asset ON materializations(asset, partition, id);
  CREATE INDEX materializations_by_run ON materializations(run_id);
  CREATE INDEX materializations_by_location ON materializations(location);

  CREATE TABLE current (
    asset TEXT NOT NULL,
    partition TEXT NOT NULL,
    materialization_id INTEGER NOT NULL REFERENCES materializations(id),
    PRIMARY KEY (asset, partition)
  ) WITHOUT ROWID;

  CREATE TABLE inputs (
    materialization_id INTEGER NOT NULL REFERENCES materializations(id) ON DELETE CASCADE,
    upstream_asset TEXT NOT NULL,
    upstream_partition TEXT NOT NULL,
    upstream_materialization_id INTEGER NOT NULL,
    upstream_data_version TEXT NOT NULL
  );
  CREATE INDEX inputs_by_materialization ON inputs(materialization_id);
  CREATE INDEX inputs_by_upstream ON inputs(upstream_materialization_id);

  CREATE TABLE check_results (
    id INTEGER PRIMARY KEY,
    materialization_id INTEGER REFERENCES materializations(id) ON DELETE CASCADE,
    asset TEXT NOT NULL,
    partition TEXT NOT NULL,
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    blocking INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    message TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX check_results_by_materialization ON check_results(materialization_id);
  CREATE INDEX check_results_by_asset ON check_results(asset, partition, id);

  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    level TEXT NOT NULL,
    type TEXT NOT NULL,
    asset TEXT,
    partition TEXT,
    message TEXT NOT NULL,
    data TEXT
  );
  CREATE INDEX events_by_run ON events(run_id, id);

  CREATE TABLE leases (
    asset TEXT NOT NULL,
    partition TEXT NOT NULL,
    run_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (asset, partition)
  ) WITHOUT ROWID;
  CREATE INDEX leases_by_run ON leases(run_id);
  `,
  // 2: corrupt marks. A current version whose stored file failed a read or a verification;
  // it applies only while that materialization is current, and is deleted when a new one is.
  `
  CREATE TABLE corrupt_marks (
    asset TEXT NOT NULL,
    partition TEXT NOT NULL,
    materialization_id INTEGER NOT NULL REFERENCES materializations(id) ON DELETE CASCADE,
    reason TEXT NOT NULL CHECK (reason IN ('mismatch', 'missing', 'unreadable')),
    detail TEXT NOT NULL,
    expected TEXT NOT NULL,
    found TEXT,
    detected_by TEXT NOT NULL CHECK (detected_by IN ('verify', 'step', 'server', 'publish')),
    detected_at INTEGER NOT NULL,
    PRIMARY KEY (asset, partition)
  ) WITHOUT ROWID;
  CREATE INDEX corrupt_marks_by_materialization ON corrupt_marks(materialization_id);
  `,
  // 3: keys of dynamic partitions definitions (`materialize partitions add NAME KEY`), in the order added.
  `
  CREATE TABLE dynamic_partitions (
    id INTEGER PRIMARY KEY,
    definition TEXT NOT NULL,
    key TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    UNIQUE (definition, key)
  );
  `,
  // 4: automation (runtime/automation): ticks with what each evaluated, requested and skipped,
  // the cursors of schedules, sensors and on_cron policies, and the claim of each run request's
  // dedupe key (one daemon starts it, once).
  `
  CREATE TABLE ticks (
    id INTEGER PRIMARY KEY,
    daemon_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('schedule', 'sensor', 'policy')),
    name TEXT NOT NULL,
    evaluated TEXT NOT NULL,
    requested TEXT NOT NULL,
    skipped TEXT NOT NULL,
    cursor TEXT,
    error TEXT
  );
  CREATE INDEX ticks_by_name ON ticks(name, id);

  CREATE TABLE automation_cursors (
    name TEXT PRIMARY KEY,
    cursor TEXT,
    evaluated_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE run_request_claims (
    dedupe_key TEXT PRIMARY KEY,
    daemon_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    claimed_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 5: the run queue. One row per run asked for, in order (seq); claimed queued -> launched in
  // one IMMEDIATE transaction, so two processes never start one queued run.
  `
  CREATE TABLE run_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    selection TEXT NOT NULL,
    partitions TEXT,
    force INTEGER NOT NULL,
    trigger TEXT NOT NULL,
    pools TEXT NOT NULL,
    enqueued_at INTEGER NOT NULL,
    owner_host TEXT NOT NULL,
    owner_pid INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'launched', 'canceled', 'finished')),
    claimed_by TEXT,
    claimed_at INTEGER
  );
  CREATE INDEX run_queue_by_state ON run_queue(state, seq);
  `,
  // 6: a queued row's heartbeat (its process is alive and waiting; a row of another host silent
  // for QUEUE_STALE_AFTER_MS is canceled) and why a row was canceled.
  `
  ALTER TABLE run_queue ADD COLUMN heartbeat_at INTEGER;
  ALTER TABLE run_queue ADD COLUMN cancel_reason TEXT;
  `,
  // 7: asset records (asset-records.ts): what assets keep beside their materializations, once
  // per (namespace, key), read by partition or key, pruned by age.
  `
  CREATE TABLE asset_records (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    partition TEXT,
    recorded_at INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
  ) WITHOUT ROWID;
  CREATE INDEX asset_records_by_partition ON asset_records(namespace, partition, recorded_at);
  CREATE INDEX asset_records_by_time ON asset_records(namespace, recorded_at);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database.Database, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new RuntimeError(
      'store-schema',
      `The lineage store ${path} has schema version ${current}, newer than this runtime's ${SCHEMA_VERSION}. Upgrade the runtime, or point DATA_DIR at another store.`,
    );
  }
  if (current === SCHEMA_VERSION) return;
  db.transaction(() => {
    // Re-read inside the write transaction: another process may have migrated meanwhile.
    const now = db.pragma('user_version', { simple: true }) as number;
    for (let v = now; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
