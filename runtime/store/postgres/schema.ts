// The PostgreSQL lineage store's schema, as versioned migrations recorded in
// `schema_migrations`. They are applied in one transaction under an advisory lock,
// so two processes starting at once (two CronJob pods, a worker and the server)
// do not race: the second waits, then finds nothing left to do. A store written by
// a newer runtime is refused rather than misread.
//
// The tables mirror the SQLite store's (runtime/store/schema.ts) so both answer the
// same questions the same way. Times are epoch milliseconds (bigint), as the runtime
// passes them; JSON columns are text, written and read back byte for byte as in SQLite.
import type pg from 'pg';
import { RuntimeError } from '../../errors.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, materializations with inputs and checks, current pointers, events, leases, corrupt marks, dynamic partitions',
    sql: `
    CREATE TABLE runs (
      id text PRIMARY KEY,
      selection text NOT NULL,
      partitions text,
      status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'canceled')),
      trigger text NOT NULL,
      host text NOT NULL,
      pid integer NOT NULL,
      started_at bigint NOT NULL,
      ended_at bigint,
      heartbeat_at bigint NOT NULL,
      summary text,
      error text
    );
    CREATE INDEX runs_by_start ON runs (started_at DESC, id DESC);
    CREATE INDEX runs_by_status ON runs (status, started_at DESC, id DESC);

    CREATE TABLE materializations (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      asset text NOT NULL,
      partition text NOT NULL,
      run_id text NOT NULL REFERENCES runs (id),
      status text NOT NULL CHECK (status IN ('published', 'blocked')),
      code_version text NOT NULL,
      data_version text NOT NULL,
      location text,
      metadata text NOT NULL,
      started_at bigint NOT NULL,
      ended_at bigint NOT NULL
    );
    CREATE INDEX materializations_by_asset ON materializations (asset, partition, id);
    CREATE INDEX materializations_by_run ON materializations (run_id);
    CREATE INDEX materializations_by_location ON materializations (location);

    CREATE TABLE current (
      asset text NOT NULL,
      partition text NOT NULL,
      materialization_id bigint NOT NULL REFERENCES materializations (id),
      PRIMARY KEY (asset, partition)
    );
    CREATE INDEX current_by_materialization ON current (materialization_id);

    CREATE TABLE inputs (
      materialization_id bigint NOT NULL REFERENCES materializations (id) ON DELETE CASCADE,
      upstream_asset text NOT NULL,
      upstream_partition text NOT NULL,
      upstream_materialization_id bigint NOT NULL,
      upstream_data_version text NOT NULL
    );
    CREATE INDEX inputs_by_materialization ON inputs (materialization_id);
    CREATE INDEX inputs_by_upstream ON inputs (upstream_materialization_id);

    CREATE TABLE check_results (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      materialization_id bigint REFERENCES materializations (id) ON DELETE CASCADE,
      asset text NOT NULL,
      partition text NOT NULL,
      run_id text NOT NULL,
      name text NOT NULL,
      blocking boolean NOT NULL,
      passed boolean NOT NULL,
      message text NOT NULL,
      metadata text NOT NULL,
      created_at bigint NOT NULL
    );
    CREATE INDEX check_results_by_materialization ON check_results (materialization_id);
    CREATE INDEX check_results_by_asset ON check_results (asset, partition, id);

    CREATE TABLE events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id text NOT NULL,
      ts bigint NOT NULL,
      level text NOT NULL,
      type text NOT NULL,
      asset text,
      partition text,
      message text NOT NULL,
      data text
    );
    CREATE INDEX events_by_run ON events (run_id, id);

    CREATE TABLE leases (
      asset text NOT NULL,
      partition text NOT NULL,
      run_id text NOT NULL,
      expires_at bigint NOT NULL,
      PRIMARY KEY (asset, partition)
    );
    CREATE INDEX leases_by_run ON leases (run_id);

    CREATE TABLE corrupt_marks (
      asset text NOT NULL,
      partition text NOT NULL,
      materialization_id bigint NOT NULL REFERENCES materializations (id) ON DELETE CASCADE,
      reason text NOT NULL CHECK (reason IN ('mismatch', 'missing', 'unreadable')),
      detail text NOT NULL,
      expected text NOT NULL,
      found text,
      detected_by text NOT NULL CHECK (detected_by IN ('verify', 'step', 'server', 'publish')),
      detected_at bigint NOT NULL,
      PRIMARY KEY (asset, partition)
    );
    CREATE INDEX corrupt_marks_by_materialization ON corrupt_marks (materialization_id);

    CREATE TABLE dynamic_partitions (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      definition text NOT NULL,
      key text NOT NULL,
      added_at bigint NOT NULL,
      UNIQUE (definition, key)
    );
    `,
  },
  {
    version: 2,
    name: 'record_materialization(): a completed materialization in one round trip',
    // (Replaced by version 7, which adds the fence; the body is the same.)
    // One call does what the SQLite store does in its immediate transaction, in the same order
    // (the run's pending log events, the materialization, its inputs and checks, the current
    // pointer, its events tagged with the new id) and NOTIFYs listeners at commit. One round trip
    // instead of eight is what lets one process record thousands per second over a network.
    sql: `
    CREATE FUNCTION record_materialization(
      p_asset text, p_partition text, p_run_id text, p_status text, p_code_version text, p_data_version text,
      p_location text, p_metadata text, p_started_at bigint, p_ended_at bigint,
      in_assets text[], in_partitions text[], in_ids bigint[], in_versions text[],
      ck_names text[], ck_blocking boolean[], ck_passed boolean[], ck_messages text[], ck_metadata text[],
      ev_run_ids text[], ev_ts bigint[], ev_levels text[], ev_types text[], ev_assets text[], ev_partitions text[],
      ev_messages text[], ev_data text[], ev_tagged boolean[]
    ) RETURNS bigint LANGUAGE plpgsql AS $fn$
    DECLARE
      new_id bigint;
      payload text;
    BEGIN
      INSERT INTO events (run_id, ts, level, type, asset, partition, message, data)
        SELECT e.run_id, e.ts, e.level, e.type, e.asset, e.partition, e.message, e.data
        FROM unnest(ev_run_ids, ev_ts, ev_levels, ev_types, ev_assets, ev_partitions, ev_messages, ev_data, ev_tagged)
          WITH ORDINALITY AS e(run_id, ts, level, type, asset, partition, message, data, tagged, ord)
        WHERE NOT e.tagged ORDER BY e.ord;
      INSERT INTO materializations (asset, partition, run_id, status, code_version, data_version, location, metadata, started_at, ended_at)
        VALUES (p_asset, p_partition, p_run_id, p_status, p_code_version, p_data_version, p_location, p_metadata, p_started_at, p_ended_at)
        RETURNING id INTO new_id;
      INSERT INTO inputs (materialization_id, upstream_asset, upstream_partition, upstream_materialization_id, upstream_data_version)
        SELECT new_id, i.a, i.p, i.m, i.v FROM unnest(in_assets, in_partitions, in_ids, in_versions) AS i(a, p, m, v);
      INSERT INTO check_results (materialization_id, asset, partition, run_id, name, blocking, passed, message, metadata, created_at)
        SELECT new_id, p_asset, p_partition, p_run_id, c.n, c.b, c.ok, c.msg, c.md, p_ended_at
        FROM unnest(ck_names, ck_blocking, ck_passed, ck_messages, ck_metadata) WITH ORDINALITY AS c(n, b, ok, msg, md, ord) ORDER BY c.ord;
      IF p_status = 'published' THEN
        INSERT INTO current (asset, partition, materialization_id) VALUES (p_asset, p_partition, new_id)
          ON CONFLICT (asset, partition) DO UPDATE SET materialization_id = excluded.materialization_id;
        -- A new good version is current: whatever was wrong with the old file no longer matters.
        DELETE FROM corrupt_marks WHERE asset = p_asset AND partition = p_partition;
      END IF;
      -- The step's own events carry the new id. Spliced into the JSON text rather than through
      -- jsonb, which would reject a NUL in a string and reorder keys; a key already there is
      -- overridden, as JSON.parse keeps the last of duplicate keys.
      INSERT INTO events (run_id, ts, level, type, asset, partition, message, data)
        SELECT e.run_id, e.ts, e.level, e.type, e.asset, e.partition, e.message,
          CASE WHEN e.data IS NULL OR e.data = '{}' THEN '{"materializationId":' || new_id || '}'
               ELSE left(e.data, -1) || ',"materializationId":' || new_id || '}' END
        FROM unnest(ev_run_ids, ev_ts, ev_levels, ev_types, ev_assets, ev_partitions, ev_messages, ev_data, ev_tagged)
          WITH ORDINALITY AS e(run_id, ts, level, type, asset, partition, message, data, tagged, ord)
        WHERE e.tagged ORDER BY e.ord;
      payload := json_build_object('kind', 'materialization', 'id', new_id, 'asset', p_asset, 'partition', p_partition, 'runId', p_run_id, 'status', p_status)::text;
      -- NOTIFY payloads must stay under 8000 bytes: a listener reads a long partition key back by id.
      IF octet_length(payload) > 7900 THEN
        payload := json_build_object('kind', 'materialization', 'id', new_id, 'asset', p_asset, 'runId', p_run_id, 'status', p_status)::text;
      END IF;
      PERFORM pg_notify('lineage_store', payload);
      RETURN new_id;
    END
    $fn$;
    `,
  },
  {
    version: 3,
    name: 'work_units: the queue of a worker-pool run (work-queue.ts)',
    // One row per unit a coordinator hands to the workers. A worker claims one with
    // SELECT … FOR UPDATE SKIP LOCKED and holds it by renewing lease_expires_at; a unit
    // whose claim expired (its worker was killed) is claimable again, up to max_attempts.
    // The partial unique index is the pool rule across every coordinator and worker: at most
    // one unit of a pool queued or claimed at a time, enforced by the database, not by a
    // check-then-insert that two coordinators could both pass. Every change NOTIFYs
    // 'work_units' with the run id, so coordinators and idle workers wake without polling.
    sql: `
    CREATE TABLE work_units (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id text NOT NULL REFERENCES runs (id),
      unit_key text NOT NULL,
      asset text NOT NULL,
      partitions text NOT NULL,
      pool text,
      state text NOT NULL CHECK (state IN ('queued', 'claimed', 'done', 'failed', 'canceled')),
      payload text NOT NULL,
      claimed_by text,
      lease_expires_at bigint,
      attempts integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL,
      cancel_requested boolean NOT NULL DEFAULT false,
      result text,
      error text,
      enqueued_at bigint NOT NULL,
      claimed_at bigint,
      ended_at bigint,
      UNIQUE (run_id, unit_key)
    );
    CREATE INDEX work_units_claimable ON work_units (id) WHERE state IN ('queued', 'claimed');
    CREATE INDEX work_units_by_run ON work_units (run_id, state);
    CREATE UNIQUE INDEX work_units_one_per_pool ON work_units (pool) WHERE pool IS NOT NULL AND state IN ('queued', 'claimed');

    CREATE FUNCTION work_units_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('work_units', NEW.run_id);
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER work_units_changed AFTER INSERT OR UPDATE OF state, cancel_requested ON work_units
      FOR EACH ROW EXECUTE FUNCTION work_units_notify();
    `,
  },
  {
    version: 4,
    name: 'automation: ticks, cursors of schedules, sensors and on_cron policies, run request claims',
    sql: `
    CREATE TABLE ticks (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      daemon_id text NOT NULL,
      started_at bigint NOT NULL,
      ended_at bigint NOT NULL,
      kind text NOT NULL CHECK (kind IN ('schedule', 'sensor', 'policy')),
      name text NOT NULL,
      evaluated text NOT NULL,
      requested text NOT NULL,
      skipped text NOT NULL,
      cursor text,
      error text
    );
    CREATE INDEX ticks_by_name ON ticks (name, id);

    CREATE TABLE automation_cursors (
      name text PRIMARY KEY,
      cursor text,
      evaluated_at bigint NOT NULL
    );

    CREATE TABLE run_request_claims (
      dedupe_key text PRIMARY KEY,
      daemon_id text NOT NULL,
      run_id text NOT NULL,
      claimed_at bigint NOT NULL
    );
    `,
  },
  {
    version: 5,
    name: 'run queue: runs in the order asked for, claimed once under an advisory lock',
    sql: `
    CREATE TABLE run_queue (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id text NOT NULL UNIQUE,
      selection text NOT NULL,
      partitions text,
      force boolean NOT NULL,
      trigger text NOT NULL,
      pools text NOT NULL,
      enqueued_at bigint NOT NULL,
      owner_host text NOT NULL,
      owner_pid integer NOT NULL,
      state text NOT NULL CHECK (state IN ('queued', 'launched', 'canceled', 'finished')),
      claimed_by text,
      claimed_at bigint
    );
    CREATE INDEX run_queue_by_state ON run_queue (state, seq);
    `,
  },
  {
    version: 6,
    name: "run queue: a queued row's heartbeat (a silent row of another host is canceled) and why a row was canceled",
    sql: `
    ALTER TABLE run_queue ADD COLUMN heartbeat_at bigint;
    ALTER TABLE run_queue ADD COLUMN cancel_reason text;
    `,
  },
  {
    version: 7,
    name: 'record_materialization() fences the commit itself: a worker commit in one round trip instead of four',
    // A worker's commit was BEGIN, the lease row locked FOR UPDATE, the call, COMMIT: four round
    // trips. The lock and the check now happen inside the call (its statement is its transaction),
    // so a fenced commit is one round trip like an unfenced one. p_lease_holder NULL: no fence.
    // A lost lease raises SQLSTATE LS001 (LEASE_LOST_SQLSTATE in postgres-store.ts), before
    // anything is written. Every other statement is version 2's (its comments say why each is so).
    sql: `
    DROP FUNCTION record_materialization(text, text, text, text, text, text, text, text, bigint, bigint,
      text[], text[], bigint[], text[], text[], boolean[], boolean[], text[], text[],
      text[], bigint[], text[], text[], text[], text[], text[], text[], boolean[]);
    CREATE FUNCTION record_materialization(
      p_asset text, p_partition text, p_run_id text, p_status text, p_code_version text, p_data_version text,
      p_location text, p_metadata text, p_started_at bigint, p_ended_at bigint,
      in_assets text[], in_partitions text[], in_ids bigint[], in_versions text[],
      ck_names text[], ck_blocking boolean[], ck_passed boolean[], ck_messages text[], ck_metadata text[],
      ev_run_ids text[], ev_ts bigint[], ev_levels text[], ev_types text[], ev_assets text[], ev_partitions text[],
      ev_messages text[], ev_data text[], ev_tagged boolean[], p_lease_holder text
    ) RETURNS bigint LANGUAGE plpgsql AS $fn$
    DECLARE
      new_id bigint;
      payload text;
    BEGIN
      IF p_lease_holder IS NOT NULL THEN
        -- The lease row stays locked until commit: a taker's upsert waits, then sees this version.
        PERFORM 1 FROM leases WHERE asset = p_asset AND partition = p_partition AND run_id = p_lease_holder FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION USING ERRCODE = 'LS001', MESSAGE = p_lease_holder || ' no longer holds the lease of ' || p_asset || '[' || p_partition || ']';
        END IF;
      END IF;
      INSERT INTO events (run_id, ts, level, type, asset, partition, message, data)
        SELECT e.run_id, e.ts, e.level, e.type, e.asset, e.partition, e.message, e.data
        FROM unnest(ev_run_ids, ev_ts, ev_levels, ev_types, ev_assets, ev_partitions, ev_messages, ev_data, ev_tagged)
          WITH ORDINALITY AS e(run_id, ts, level, type, asset, partition, message, data, tagged, ord)
        WHERE NOT e.tagged ORDER BY e.ord;
      INSERT INTO materializations (asset, partition, run_id, status, code_version, data_version, location, metadata, started_at, ended_at)
        VALUES (p_asset, p_partition, p_run_id, p_status, p_code_version, p_data_version, p_location, p_metadata, p_started_at, p_ended_at)
        RETURNING id INTO new_id;
      INSERT INTO inputs (materialization_id, upstream_asset, upstream_partition, upstream_materialization_id, upstream_data_version)
        SELECT new_id, i.a, i.p, i.m, i.v FROM unnest(in_assets, in_partitions, in_ids, in_versions) AS i(a, p, m, v);
      INSERT INTO check_results (materialization_id, asset, partition, run_id, name, blocking, passed, message, metadata, created_at)
        SELECT new_id, p_asset, p_partition, p_run_id, c.n, c.b, c.ok, c.msg, c.md, p_ended_at
        FROM unnest(ck_names, ck_blocking, ck_passed, ck_messages, ck_metadata) WITH ORDINALITY AS c(n, b, ok, msg, md, ord) ORDER BY c.ord;
      IF p_status = 'published' THEN
        INSERT INTO current (asset, partition, materialization_id) VALUES (p_asset, p_partition, new_id)
          ON CONFLICT (asset, partition) DO UPDATE SET materialization_id = excluded.materialization_id;
        DELETE FROM corrupt_marks WHERE asset = p_asset AND partition = p_partition;
      END IF;
      INSERT INTO events (run_id, ts, level, type, asset, partition, message, data)
        SELECT e.run_id, e.ts, e.level, e.type, e.asset, e.partition, e.message,
          CASE WHEN e.data IS NULL OR e.data = '{}' THEN '{"materializationId":' || new_id || '}'
               ELSE left(e.data, -1) || ',"materializationId":' || new_id || '}' END
        FROM unnest(ev_run_ids, ev_ts, ev_levels, ev_types, ev_assets, ev_partitions, ev_messages, ev_data, ev_tagged)
          WITH ORDINALITY AS e(run_id, ts, level, type, asset, partition, message, data, tagged, ord)
        WHERE e.tagged ORDER BY e.ord;
      payload := json_build_object('kind', 'materialization', 'id', new_id, 'asset', p_asset, 'partition', p_partition, 'runId', p_run_id, 'status', p_status)::text;
      IF octet_length(payload) > 7900 THEN
        payload := json_build_object('kind', 'materialization', 'id', new_id, 'asset', p_asset, 'runId', p_run_id, 'status', p_status)::text;
      END IF;
      PERFORM pg_notify('lineage_store', payload);
      RETURN new_id;
    END
    $fn$;
    `,
  },
  {
    version: 8,
    name: 'work_units: NOTIFY only the changes someone waits for (not a claim), naming the new state',
    // A unit queued (or handed back) wakes idle workers; one that ended wakes its coordinator
    // and launches waiting for their pool. A claim wakes nobody who can act on it, yet it woke
    // every idle worker (to find nothing) and the coordinator (to read its units again). The
    // payload is now 'STATE RUN_ID' (a state has no space), so a coordinator reads its units
    // only when one ended, not when it queued one itself. A cancel request on a claimed unit is
    // seen by its worker at the next renewal, as before.
    sql: `
    CREATE OR REPLACE FUNCTION work_units_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('work_units', NEW.state || ' ' || NEW.run_id);
      RETURN NULL;
    END
    $fn$;
    DROP TRIGGER work_units_changed ON work_units;
    CREATE TRIGGER work_units_changed AFTER INSERT OR UPDATE OF state, cancel_requested ON work_units
      FOR EACH ROW WHEN (NEW.state <> 'claimed') EXECUTE FUNCTION work_units_notify();
    `,
  },
  {
    version: 9,
    name: 'record_materialization() no longer NOTIFYs: the store notifies after the commit (notifier.ts)',
    // A transaction that NOTIFYs takes one lock for the whole cluster at commit and holds it until
    // its commit record is flushed, so concurrent commits waited for each other's WAL flush one by
    // one instead of sharing one (notifier.ts says more). The store now sends the notification
    // itself once the call has returned; the signature is version 7's, and so is every statement
    // (its comments say why each is so) but the NOTIFY.
    sql: `
    CREATE OR REPLACE FUNCTION record_materialization(
      p_asset text, p_partition text, p_run_id text, p_status text, p_code_version text, p_data_version text,
      p_location text, p_metadata text, p_started_at bigint, p_ended_at bigint,
      in_assets text[], in_partitions text[], in_ids bigint[], in_versions text[],
      ck_names text[], ck_blocking boolean[], ck_passed boolean[], ck_messages text[], ck_metadata text[],
      ev_run_ids text[], ev_ts bigint[], ev_levels text[], ev_types text[], ev_assets text[], ev_partitions text[],
      ev_messages text[], ev_data text[], ev_tagged boolean[], p_lease_holder text
    ) RETURNS bigint LANGUAGE plpgsql AS $fn$
    DECLARE
      new_id bigint;
    BEGIN
      IF p_lease_holder IS NOT NULL THEN
        PERFORM 1 FROM leases WHERE asset = p_asset AND partition = p_partition AND run_id = p_lease_holder FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION USING ERRCODE = 'LS001', MESSAGE = p_lease_holder || ' no longer holds the lease of ' || p_asset || '[' || p_partition || ']';
        END IF;
      END IF;
      INSERT INTO events (run_id, ts, level, type, asset, partition, message, data)
        SELECT e.run_id, e.ts, e.level, e.type, e.asset, e.partition, e.message, e.data
        FROM unnest(ev_run_ids, ev_ts, ev_levels, ev_types, ev_assets, ev_partitions, ev_messages, ev_data, ev_tagged)
          WITH ORDINALITY AS e(run_id, ts, level, type, asset, partition, message, data, tagged, ord)
        WHERE NOT e.tagged ORDER BY e.ord;
      INSERT INTO materializations (asset, partition, run_id, status, code_version, data_version, location, metadata, started_at, ended_at)
        VALUES (p_asset, p_partition, p_run_id, p_status, p_code_version, p_data_version, p_location, p_metadata, p_started_at, p_ended_at)
        RETURNING id INTO new_id;
      INSERT INTO inputs (materialization_id, upstream_asset, upstream_partition, upstream_materialization_id, upstream_data_version)
        SELECT new_id, i.a, i.p, i.m, i.v FROM unnest(in_assets, in_partitions, in_ids, in_versions) AS i(a, p, m, v);
      INSERT INTO check_results (materialization_id, asset, partition, run_id, name, blocking, passed, message, metadata, created_at)
        SELECT new_id, p_asset, p_partition, p_run_id, c.n, c.b, c.ok, c.msg, c.md, p_ended_at
        FROM unnest(ck_names, ck_blocking, ck_passed, ck_messages, ck_metadata) WITH ORDINALITY AS c(n, b, ok, msg, md, ord) ORDER BY c.ord;
      IF p_status = 'published' THEN
        INSERT INTO current (asset, partition, materialization_id) VALUES (p_asset, p_partition, new_id)
          ON CONFLICT (asset, partition) DO UPDATE SET materialization_id = excluded.materialization_id;
        DELETE FROM corrupt_marks WHERE asset = p_asset AND partition = p_partition;
      END IF;
      INSERT INTO events (run_id, ts, level, type, asset, partition, message, data)
        SELECT e.run_id, e.ts, e.level, e.type, e.asset, e.partition, e.message,
          CASE WHEN e.data IS NULL OR e.data = '{}' THEN '{"materializationId":' || new_id || '}'
               ELSE left(e.data, -1) || ',"materializationId":' || new_id || '}' END
        FROM unnest(ev_run_ids, ev_ts, ev_levels, ev_types, ev_assets, ev_partitions, ev_messages, ev_data, ev_tagged)
          WITH ORDINALITY AS e(run_id, ts, level, type, asset, partition, message, data, tagged, ord)
        WHERE e.tagged ORDER BY e.ord;
      RETURN new_id;
    END
    $fn$;
    `,
  },
  {
    version: 10,
    name: 'asset records: what assets keep beside their materializations, once per (namespace, key)',
    // Keys and partitions compare by their bytes, as in SQLite, whatever the database's locale:
    // a range of days and the order of records are the same in both stores, and use the index.
    sql: `
    CREATE TABLE asset_records (
      namespace text NOT NULL,
      key text COLLATE "C" NOT NULL,
      partition text COLLATE "C",
      recorded_at bigint NOT NULL,
      payload text NOT NULL,
      PRIMARY KEY (namespace, key)
    );
    CREATE INDEX asset_records_by_partition ON asset_records (namespace, partition, recorded_at);
    CREATE INDEX asset_records_by_time ON asset_records (namespace, recorded_at);
    `,
  },
];

/** The highest version, not the count: versions may have gaps while changes merge. */
export const PG_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** One lock key for every process migrating this database (advisory locks are per database). */
const MIGRATION_LOCK = 'pjm-lineage-store:migrate';

/** Applies the missing migrations; refuses a schema newer than this runtime's. */
export async function migratePostgres(client: pg.ClientBase, where: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const current = Math.max(0, ...applied);
    if (current > PG_SCHEMA_VERSION) {
      throw new RuntimeError(
        'store-schema',
        `The lineage store ${where} has schema version ${current}, newer than this runtime's ${PG_SCHEMA_VERSION}. Upgrade the runtime, or point LINEAGE_STORE at another database.`,
      );
    }
    for (const m of MIGRATIONS) {
      // By set, not by maximum: a version merged after a later one (3 after 4) is still applied.
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
