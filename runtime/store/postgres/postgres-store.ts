// The PostgreSQL implementation of the LineageStore interface, for many processes
// on many machines sharing one store (the CronJob, the server, workers): a `pg`
// connection pool, versioned migrations (schema.ts), one transaction per completed
// materialization (the record_materialization() function: one round trip), leases
// that expire (taken with INSERT ... ON CONFLICT ... WHERE expires_at < now), and
// LISTEN/NOTIFY so subscribers hear of each commit without polling the store (sent
// after the commit, not in it: notifier.ts says why).
//
// Clocks: the run queue's heartbeats and claims are stamped and judged by the server's clock
// (run-queue.ts), so hosts' clock skew cannot cancel a waiting run. Other times (a running
// run's heartbeat, lease expiry) are still the callers' epoch milliseconds, so every host
// sharing a store must keep its clock in sync (NTP).
import { hostname } from 'node:os';
import pg from 'pg';
import type { JsonValue } from '../../definitions.ts';
import { RuntimeError } from '../../errors.ts';
import { describePartition, type AssetKey, type PartitionKey } from '../../keys.ts';
import type { DynamicPartitionKeys } from '../../partitions.ts';
import type { CodeVersion, DataVersion } from '../../versions.ts';
import { BAD_CURRENT_SQL } from '../consistency-sql.ts';
import { runIsLive } from '../run-liveness.ts';
import { eventFromRow, runFromRow, type EventRow, type RunRow } from '../run-rows.ts';
import { redactUrl } from './redact-url.ts';
import type {
  EventQuery,
  HistoryQuery,
  LeaseResult,
  LineageStore,
  NewCorruptMark,
  NewEvent,
  NewMaterialization,
  NewRun,
  PrunedFile,
  PruneRecordsResult,
  RunQuery,
  StoreChange,
  StoreChangeListener,
} from '../lineage-store-api.ts';
import { wholeNumber } from '../query-args.ts';
import type {
  CheckResultRecord,
  CorruptDetector,
  CorruptMark,
  CorruptReason,
  CurrentRecord,
  CurrentSnapshot,
  EventRecord,
  InputRecord,
  MaterializationRecord,
  RunRecord,
  RunStatus,
} from '../records.ts';
import { migratePostgres } from './schema.ts';
import { PostCommitNotifier } from './notifier.ts';
import * as automation from './automation.ts';
import * as runQueue from './run-queue.ts';
import * as records from './asset-records.ts';
import type { AssetRecord, AssetRecordQuery, NewAssetRecord } from '../asset-records.ts';
import type { PruneAutomationResult } from '../lineage-store-api.ts';
import type { CancelQueuedResult, ClaimQueuedResult, NewQueuedRun, QueueLimits, QueueState, QueuedRunRecord } from '../run-queue-records.ts';
import type { AutomationCursor, ClaimResult, CursorUpdate, NewTick, TickQuery, TickRecord } from '../tick-records.ts';

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10). */
  readonly maxConnections?: number;
}

/** What record_materialization() raises when the commit's lease holder no longer holds the lease (migration 7). */
const LEASE_LOST_SQLSTATE = 'LS001';

/** The channel the store's writes are announced on (by the notifier, once committed). */
const CHANNEL = 'lineage_store';
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7900;
const ACTIVITY = JSON.stringify({ kind: 'activity' });
/**
 * Identity values are handed out before commit, so a commit may become visible after one with
 * a larger id. Tokens therefore count the rows in a window below the largest id too: a late
 * commit inside it changes the count. Commits are single statements, so none lags by anything
 * near this many ids.
 */
const TOKEN_WINDOW = 1000;

/** bigint columns (ids, epoch milliseconds) as numbers: all stay far below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export class PostgresLineageStore implements LineageStore {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #url: string;
  readonly #listeners = new Set<pg.Client>();
  readonly #notifier: PostCommitNotifier;

  private constructor(url: string, pool: pg.Pool) {
    this.#url = url;
    this.#pool = pool;
    this.location = redactUrl(url);
    this.#notifier = new PostCommitNotifier((payloads) =>
      pool.query({
        name: 'notify',
        text: `SELECT pg_notify('${CHANNEL}', p) FROM unnest($1::text[]) WITH ORDINALITY AS t(p, ord) ORDER BY ord`,
        values: [[...payloads]],
      }),
    );
  }

  /** Connects, migrates (once, whoever starts first) and returns the store at `url`. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresLineageStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10, types: TYPES });
    // An idle connection the server dropped (restart, failover) is discarded by the pool; the
    // next query gets a new one. Without a handler the 'error' event would end the process.
    pool.on('error', () => undefined);
    const store = new PostgresLineageStore(url, pool);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end();
      throw new RuntimeError(
        'store-connection',
        `Cannot connect to the lineage store ${store.location}: ${(err as Error).message}. Check LINEAGE_STORE (host, port, database, user, password) and that the server accepts connections from this host.`,
      );
    }
    try {
      await migratePostgres(client, store.location);
    } catch (err) {
      client.release();
      await pool.end();
      throw err;
    }
    client.release();
    return store;
  }

  async close(): Promise<void> {
    // What this process committed is announced before its connections go.
    await this.#notifier.settled();
    for (const c of this.#listeners) await c.end().catch(() => undefined);
    this.#listeners.clear();
    await this.#pool.end();
  }

  async #q<R extends pg.QueryResultRow>(text: string, values: readonly unknown[] = [], name?: string): Promise<pg.QueryResult<R>> {
    return this.#pool.query<R>(name ? { name, text, values: [...values] } : { text, values: [...values] });
  }

  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  // ---- runs ----

  async createRun(run: NewRun): Promise<void> {
    await this.#q(
      `INSERT INTO runs (id, selection, partitions, status, trigger, host, pid, started_at, heartbeat_at)
       VALUES ($1, $2, $3, 'running', $4, $5, $6, $7, $7)`,
      [run.id, run.selection, run.partitions, run.trigger, hostname(), process.pid, run.now],
      'createRun',
    );
    this.#notifier.notify(ACTIVITY);
  }

  async finishRun(runId: string, status: Exclude<RunStatus, 'running'>, summary: Record<string, JsonValue>, error: string | null, now: number): Promise<void> {
    // One statement, so one transaction: the run ends and its leases go together.
    await this.#q(
      `WITH f AS (UPDATE runs SET status = $2, summary = $3, error = $4, ended_at = $5 WHERE id = $1 AND status = 'running')
       DELETE FROM leases WHERE run_id = $1`,
      [runId, status, JSON.stringify(summary), error, now],
      'finishRun',
    );
    this.#notifier.notify(ACTIVITY);
  }

  async heartbeat(runId: string, now: number, leaseTtlMs: number): Promise<void> {
    await this.#q(
      `WITH h AS (UPDATE runs SET heartbeat_at = $2 WHERE id = $1) UPDATE leases SET expires_at = $3 WHERE run_id = $1`,
      [runId, now, now + leaseTtlMs],
      'heartbeat',
    );
  }

  async closeAbandonedRuns(now: number, staleAfterMs: number): Promise<string[]> {
    const closed = await this.#tx(async (c) => {
      // SKIP LOCKED: two processes closing at once each take what the other has not.
      const { rows } = await c.query<RunRow>(`SELECT * FROM runs WHERE status = 'running' FOR UPDATE SKIP LOCKED`);
      // A run is abandoned when its heartbeat stopped, or at once when it ran on this host and its process is gone.
      const ids = rows.filter((r) => !runIsLive(runFromRow(r), now, staleAfterMs)).map((r) => r.id);
      if (ids.length === 0) return [];
      await c.query(
        `UPDATE runs SET status = 'failed', summary = NULL, ended_at = $2,
           error = 'The process running this run stopped without finishing it (killed or crashed); nothing it had not committed was published.'
         WHERE id = ANY($1) AND status = 'running'`,
        [ids, now],
      );
      await c.query(`DELETE FROM leases WHERE run_id = ANY($1)`, [ids]);
      return ids;
    });
    if (closed.length > 0) this.#notifier.notify(ACTIVITY);
    return closed;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const { rows } = await this.#q<RunRow>(`SELECT * FROM runs WHERE id = $1`, [id], 'getRun');
    return rows[0] && runFromRow(rows[0]);
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    const { rows } = await this.#q<RunRow>(
      `SELECT * FROM runs WHERE ($1::text IS NULL OR status = $1) ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3`,
      [query.status ?? null, wholeNumber('listRuns', 'limit', query.limit ?? 50), wholeNumber('listRuns', 'offset', query.offset ?? 0)],
      'listRuns',
    );
    return rows.map(runFromRow);
  }

  // ---- events ----

  async appendEvents(events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    const e = eventColumns(events);
    await this.#q(
      `INSERT INTO events (run_id, ts, level, type, asset, partition, message, data)
       SELECT run_id, ts, level, type, asset, partition, message, data
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
         WITH ORDINALITY AS t(run_id, ts, level, type, asset, partition, message, data, ord)
       ORDER BY ord`,
      [e.runIds, e.ts, e.levels, e.types, e.assets, e.partitions, e.messages, e.data],
      'appendEvents',
    );
    this.#notifier.notify(ACTIVITY);
  }

  async events(runId: string, query: EventQuery = {}): Promise<EventRecord[]> {
    const { rows } = await this.#q<EventRow>(
      `SELECT * FROM events WHERE run_id = $1 AND id > $2 AND ($4::text[] IS NULL OR type = ANY($4::text[])) ORDER BY id LIMIT $3`,
      [
        runId,
        wholeNumber('events', 'afterId', query.afterId ?? 0),
        wholeNumber('events', 'limit', query.limit ?? 10_000),
        query.types === undefined ? null : [...query.types],
      ],
      'events',
    );
    return rows.map(eventFromRow);
  }

  // ---- leases ----

  async tryAcquireLease(asset: AssetKey, partition: PartitionKey, runId: string, now: number, ttlMs: number): Promise<LeaseResult> {
    // The upsert is atomic: of two runs racing for a free or expired lease, exactly one gets a row back.
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = await this.#q(
        `INSERT INTO leases (asset, partition, run_id, expires_at) VALUES ($1, $2, $3, $5)
         ON CONFLICT (asset, partition) DO UPDATE SET run_id = excluded.run_id, expires_at = excluded.expires_at
         WHERE leases.expires_at < $4 OR leases.run_id = excluded.run_id
         RETURNING run_id`,
        [asset, partition, runId, now, now + ttlMs],
        'takeLease',
      );
      if (taken.rowCount === 1) return { acquired: true };
      const { rows } = await this.#q<{ run_id: string; expires_at: number }>(
        `SELECT run_id, expires_at FROM leases WHERE asset = $1 AND partition = $2`,
        [asset, partition],
        'getLease',
      );
      // Released between the two statements: try again.
      if (rows[0]) return { acquired: false, holder: rows[0].run_id, expiresAt: rows[0].expires_at };
    }
    throw new RuntimeError(
      'lease-timeout',
      `${describePartition(asset, partition)}: the lease kept changing hands while run ${runId} tried to take it; try again.`,
    );
  }

  async releaseLease(asset: AssetKey, partition: PartitionKey, runId: string): Promise<void> {
    await this.#q(`DELETE FROM leases WHERE asset = $1 AND partition = $2 AND run_id = $3`, [asset, partition, runId], 'releaseLease');
  }

  // ---- materializations ----

  async commitMaterialization(m: NewMaterialization): Promise<number> {
    const events = [...(m.logEvents ?? []).map((e) => ({ e, tagged: false })), ...m.events.map((e) => ({ e, tagged: true }))];
    const ev = eventColumns(events.map((x) => x.e));
    try {
      // One statement, so one transaction and one round trip, fenced or not: the function locks
      // and checks the lease itself (migration 7).
      const { rows } = await this.#q<{ id: number }>(
        `SELECT record_materialization($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
           $11::text[], $12::text[], $13::bigint[], $14::text[],
           $15::text[], $16::boolean[], $17::boolean[], $18::text[], $19::text[],
           $20::text[], $21::bigint[], $22::text[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[], $28::boolean[], $29::text) AS id`,
        [
          m.asset,
          m.partition,
          m.runId,
          m.status,
          m.codeVersion,
          m.dataVersion,
          m.location,
          JSON.stringify(m.metadata),
          m.startedAt,
          m.endedAt,
          m.inputs.map((i) => i.asset),
          m.inputs.map((i) => i.partition),
          m.inputs.map((i) => i.materializationId),
          m.inputs.map((i) => i.dataVersion),
          m.checks.map((c) => c.name),
          m.checks.map((c) => c.blocking),
          m.checks.map((c) => c.passed),
          m.checks.map((c) => c.message),
          m.checks.map((c) => JSON.stringify(c.metadata)),
          ev.runIds,
          ev.ts,
          ev.levels,
          ev.types,
          ev.assets,
          ev.partitions,
          ev.messages,
          ev.data,
          events.map((x) => x.tagged),
          m.leaseHolder ?? null,
        ],
        'commitMaterialization',
      );
      const id = rows[0]!.id;
      this.#notifier.notify(materializationChange(m, id));
      return id;
    } catch (err) {
      if ((err as { code?: unknown }).code === LEASE_LOST_SQLSTATE) {
        throw new RuntimeError(
          'lease-lost',
          `${describePartition(m.asset, m.partition)}: ${m.leaseHolder} no longer holds its lease (it expired and another worker took it over); nothing was recorded.`,
        );
      }
      throw err;
    }
  }

  async materialization(id: number): Promise<MaterializationRecord | undefined> {
    const { rows } = await this.#q<MaterializationRow>(`SELECT * FROM materializations WHERE id = $1`, [id], 'materialization');
    return rows[0] && toMaterialization(rows[0]);
  }

  async inputsOf(materializationId: number): Promise<InputRecord[]> {
    const { rows } = await this.#q<InputRow>(
      `SELECT * FROM inputs WHERE materialization_id = $1 ORDER BY upstream_asset, upstream_partition`,
      [materializationId],
      'inputsOf',
    );
    return rows.map(toInput);
  }

  async consumersOf(materializationId: number): Promise<MaterializationRecord[]> {
    const { rows } = await this.#q<MaterializationRow>(
      `SELECT m.* FROM inputs i JOIN materializations m ON m.id = i.materialization_id WHERE i.upstream_materialization_id = $1 ORDER BY m.id`,
      [materializationId],
      'consumersOf',
    );
    return rows.map(toMaterialization);
  }

  async history(asset: AssetKey, query: HistoryQuery = {}): Promise<MaterializationRecord[]> {
    const { rows } = await this.#q<MaterializationRow>(
      `SELECT * FROM materializations WHERE asset = $1 AND ($2::text IS NULL OR partition = $2) AND id < $3 ORDER BY id DESC LIMIT $4`,
      [asset, query.partition ?? null, query.beforeId ?? Number.MAX_SAFE_INTEGER, wholeNumber('history', 'limit', query.limit ?? 50)],
      'history',
    );
    return rows.map(toMaterialization);
  }

  async materializationsOfRun(runId: string): Promise<MaterializationRecord[]> {
    const { rows } = await this.#q<MaterializationRow>(`SELECT * FROM materializations WHERE run_id = $1 ORDER BY id`, [runId], 'ofRun');
    return rows.map(toMaterialization);
  }

  async checkResults(materializationId: number): Promise<CheckResultRecord[]> {
    const { rows } = await this.#q<CheckRow>(`SELECT * FROM check_results WHERE materialization_id = $1 ORDER BY id`, [materializationId], 'checksOf');
    return rows.map(toCheck);
  }

  // ---- current versions ----

  async current(asset: AssetKey, partition: PartitionKey): Promise<CurrentRecord | undefined> {
    const { rows } = await this.#q<CurrentRow>(
      `SELECT ${CURRENT_COLUMNS} FROM ${CURRENT_FROM} WHERE c.asset = $1 AND c.partition = $2`,
      [asset, partition],
      'currentOne',
    );
    const row = rows[0];
    if (!row) return undefined;
    return toCurrent(row, await this.inputsOf(row.id));
  }

  async snapshot(assets?: readonly AssetKey[]): Promise<CurrentSnapshot> {
    const filter = assets ? 'WHERE c.asset = ANY($1::text[])' : '';
    const values = assets ? [[...assets]] : [];
    // Both reads in one snapshot, so no input belongs to a version the first read did not see.
    const [currentRows, inputRows] = await this.#readOnly(
      async (c) =>
        [
          (await c.query<CurrentRow>(`SELECT ${CURRENT_COLUMNS} FROM ${CURRENT_FROM} ${filter}`, values)).rows,
          (await c.query<InputRow>(`SELECT i.* FROM current c JOIN inputs i ON i.materialization_id = c.materialization_id ${filter}`, values)).rows,
        ] as const,
    );
    const inputsById = new Map<number, InputRecord[]>();
    for (const r of inputRows) {
      let list = inputsById.get(r.materialization_id);
      if (!list) inputsById.set(r.materialization_id, (list = []));
      list.push(toInput(r));
    }
    const out: CurrentSnapshot = new Map();
    for (const r of currentRows) {
      let byPartition = out.get(r.asset as AssetKey);
      if (!byPartition) out.set(r.asset as AssetKey, (byPartition = new Map()));
      byPartition.set(r.partition, toCurrent(r, inputsById.get(r.id) ?? []));
    }
    return out;
  }

  /** A read-only transaction at REPEATABLE READ: several statements, one consistent view. */
  async #readOnly<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  // ---- corrupt marks ----

  async markCorrupt(mark: NewCorruptMark): Promise<boolean> {
    const r = await this.#q(
      `WITH k AS (
         INSERT INTO corrupt_marks (asset, partition, materialization_id, reason, detail, expected, found, detected_by, detected_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
         WHERE EXISTS (SELECT 1 FROM current WHERE asset = $1 AND partition = $2 AND materialization_id = $3)
         ON CONFLICT (asset, partition) DO UPDATE SET materialization_id = excluded.materialization_id, reason = excluded.reason,
           detail = excluded.detail, expected = excluded.expected, found = excluded.found, detected_by = excluded.detected_by, detected_at = excluded.detected_at
         RETURNING 1)
       SELECT 1 FROM k`,
      [mark.asset, mark.partition, mark.materializationId, mark.reason, mark.detail, mark.expected, mark.found, mark.detectedBy, mark.now],
      'markCorrupt',
    );
    const marked = (r.rowCount ?? 0) > 0;
    if (marked) this.#notifier.notify(ACTIVITY);
    return marked;
  }

  async clearCorrupt(asset: AssetKey, partition: PartitionKey, materializationId: number): Promise<void> {
    const r = await this.#q(
      `DELETE FROM corrupt_marks WHERE asset = $1 AND partition = $2 AND materialization_id = $3`,
      [asset, partition, materializationId],
      'clearCorrupt',
    );
    if ((r.rowCount ?? 0) > 0) this.#notifier.notify(ACTIVITY);
  }

  async corruptMarks(assets?: readonly AssetKey[]): Promise<{ asset: AssetKey; partition: PartitionKey; mark: CorruptMark }[]> {
    const { rows } = await this.#q<CorruptRow & { asset: string; partition: string }>(
      `SELECT c.asset, c.partition, ${CORRUPT_COLUMNS} FROM current c
         JOIN corrupt_marks k ON k.asset = c.asset AND k.partition = c.partition AND k.materialization_id = c.materialization_id
       ${assets ? 'WHERE c.asset = ANY($1::text[])' : ''} ORDER BY c.asset, c.partition`,
      assets ? [[...assets]] : [],
    );
    return rows.map((r) => ({ asset: r.asset as AssetKey, partition: r.partition, mark: toCorrupt(r)! }));
  }

  // ---- dynamic partitions ----

  async addDynamicPartitions(name: string, keys: readonly PartitionKey[], now = Date.now()): Promise<PartitionKey[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.#q<{ key: string }>(
      `WITH a AS (INSERT INTO dynamic_partitions (definition, key, added_at)
                  SELECT $1, k, $3 FROM unnest($2::text[]) WITH ORDINALITY AS t(k, ord) ORDER BY ord
                  ON CONFLICT (definition, key) DO NOTHING RETURNING id, key)
       SELECT key FROM a ORDER BY id`,
      [name, [...keys], now],
    );
    if (rows.length > 0) this.#notifier.notify(ACTIVITY);
    return rows.map((r) => r.key);
  }

  async removeDynamicPartitions(name: string, keys: readonly PartitionKey[]): Promise<PartitionKey[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.#q<{ key: string }>(
      `WITH d AS (DELETE FROM dynamic_partitions WHERE definition = $1 AND key = ANY($2::text[]) RETURNING id, key)
       SELECT key FROM d ORDER BY id`,
      [name, [...keys]],
    );
    if (rows.length > 0) this.#notifier.notify(ACTIVITY);
    // In the order asked, as the SQLite store answers.
    const removed = new Set(rows.map((r) => r.key));
    return keys.filter((k, i) => removed.has(k) && keys.indexOf(k) === i);
  }

  async dynamicPartitionKeys(): Promise<DynamicPartitionKeys> {
    const { rows } = await this.#q<{ definition: string; key: string }>(`SELECT definition, key FROM dynamic_partitions ORDER BY id`, [], 'dynamicPartitions');
    const out = new Map<string, PartitionKey[]>();
    for (const r of rows) {
      let list = out.get(r.definition);
      if (!list) out.set(r.definition, (list = []));
      list.push(r.key);
    }
    return out;
  }

  // ---- change detection ----

  async changeToken(): Promise<string> {
    const { rows } = await this.#q<{ t: string }>(`SELECT ${windowToken('materializations')} AS t`, [], 'changeToken');
    return rows[0]!.t;
  }

  async corruptionToken(): Promise<string> {
    const { rows } = await this.#q<{ n: number; at: number | null }>(
      `SELECT count(*)::int AS n, max(detected_at) AS at FROM corrupt_marks`,
      [],
      'corruptionToken',
    );
    return `${rows[0]!.n}:${rows[0]!.at ?? 0}`;
  }

  async activityToken(): Promise<string> {
    const { rows } = await this.#q<{ t: string }>(
      `SELECT ${windowToken('materializations')} || ':' || ${windowToken('events')} || ':' ||
              (SELECT count(*) FROM runs) || ':' || (SELECT count(*) FROM runs WHERE status = 'running') || ':' ||
              (SELECT count(*) FROM dynamic_partitions) AS t`,
      [],
      'activityToken',
    );
    return rows[0]!.t;
  }

  /**
   * LISTEN on a connection of its own (a pooled one would be handed to other queries). If it
   * drops, it reconnects and reports `activity`, since notifications sent meanwhile are lost.
   */
  async subscribe(listener: StoreChangeListener): Promise<() => Promise<void>> {
    let stopped = false;
    let client: pg.Client | undefined;
    const deliver = (msg: pg.Notification): void => {
      if (msg.channel !== CHANNEL || msg.payload === undefined) return;
      const change = JSON.parse(msg.payload) as
        | StoreChange
        | (Omit<Extract<StoreChange, { kind: 'materialization' }>, 'partition'> & { partition?: undefined });
      if (change.kind === 'materialization' && change.partition === undefined) {
        // The partition key was too long for a notification: read it back.
        void this.materialization(change.id).then((m) => m && listener({ ...change, partition: m.partition }));
      } else listener(change as StoreChange);
    };
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.#url, types: TYPES });
      c.on('notification', deliver);
      c.on('error', () => {
        this.#listeners.delete(c);
        void c.end().catch(() => undefined);
        if (!stopped) setTimeout(() => void reconnect(), 500).unref();
      });
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      if (stopped) {
        await c.end();
        return;
      }
      client = c;
      this.#listeners.add(c);
    };
    const reconnect = async (): Promise<void> => {
      try {
        await connect();
        listener({ kind: 'activity' });
      } catch {
        if (!stopped) setTimeout(() => void reconnect(), 2000).unref();
      }
    };
    await connect();
    return async () => {
      stopped = true;
      if (client) {
        this.#listeners.delete(client);
        await client.end().catch(() => undefined);
      }
    };
  }

  // ---- prune ----

  async pruneAutomation(cutoff: number, options: { readonly dryRun: boolean }): Promise<PruneAutomationResult> {
    return this.#tx((c) => automation.pruneAutomation(c, cutoff, options.dryRun));
  }
  async enqueueRun(run: NewQueuedRun): Promise<void> {
    await runQueue.enqueueRun(this.#pool, run);
  }
  async runQueue(query: { readonly states?: readonly QueueState[]; readonly limit?: number } = {}): Promise<QueuedRunRecord[]> {
    return runQueue.listQueue(this.#pool, query.states ?? ['queued', 'launched'], query.limit ?? 100);
  }
  async queuedRun(runId: string): Promise<QueuedRunRecord | undefined> {
    return runQueue.queuedRun(this.#pool, runId);
  }
  async claimQueuedRun(claimer: string, limits: QueueLimits, only?: string): Promise<ClaimQueuedResult> {
    return this.#tx((c) => runQueue.claimQueuedRun(c, claimer, limits, only));
  }
  async finishQueuedRun(runId: string): Promise<void> {
    await runQueue.finishQueuedRun(this.#pool, runId);
  }
  async heartbeatQueuedRuns(runIds: readonly string[]): Promise<void> {
    await runQueue.heartbeatQueuedRuns(this.#pool, runIds);
  }
  async cancelQueuedRun(runId: string, reason?: string): Promise<CancelQueuedResult> {
    return runQueue.cancelQueuedRun(this.#pool, runId, reason);
  }

  async claimRunRequest(dedupeKey: string, daemonId: string, runId: string, now: number): Promise<ClaimResult> {
    return automation.claimRunRequest(this.#pool, dedupeKey, daemonId, runId, now);
  }
  async recordTicks(ticks: readonly NewTick[], cursors: readonly CursorUpdate[]): Promise<void> {
    return automation.recordTicks(this.#pool, ticks, cursors);
  }
  async listTicks(query: TickQuery = {}): Promise<TickRecord[]> {
    return automation.listTicks(this.#pool, query);
  }
  async automationCursors(): Promise<Map<string, AutomationCursor>> {
    return automation.automationCursors(this.#pool);
  }

  async addAssetRecords(list: readonly NewAssetRecord[]): Promise<number> {
    return records.addAssetRecords(this.#pool, list);
  }
  async assetRecords(query: AssetRecordQuery): Promise<AssetRecord[]> {
    return records.assetRecords(this.#pool, query);
  }
  async countAssetRecords(query: Omit<AssetRecordQuery, 'order' | 'limit'>): Promise<number> {
    return records.countAssetRecords(this.#pool, query);
  }
  async pruneAssetRecords(cutoff: number, options: { readonly dryRun: boolean }): Promise<number> {
    return records.pruneAssetRecords(this.#pool, cutoff, options.dryRun);
  }

  async pruneRecords(cutoff: number, options: { readonly dryRun: boolean }): Promise<PruneRecordsResult> {
    return this.#tx(async (c) => {
      // Keep: every current version and, transitively, everything it consumed.
      const doomed = (
        await c.query<{ id: number; asset: AssetKey; partition: PartitionKey; location: string | null }>(
          `WITH RECURSIVE keep(id) AS (
             SELECT materialization_id FROM current
             UNION
             SELECT i.upstream_materialization_id FROM inputs i JOIN keep k ON i.materialization_id = k.id
           )
           SELECT id, asset, partition, location FROM materializations m
           WHERE ended_at < $1 AND NOT EXISTS (SELECT 1 FROM keep WHERE keep.id = m.id)
           ORDER BY id
           ${options.dryRun ? '' : 'FOR UPDATE'}`,
          [cutoff],
        )
      ).rows;
      const { rows: eventCount } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events e JOIN runs r ON r.id = e.run_id WHERE r.ended_at IS NOT NULL AND r.ended_at < $1`,
        [cutoff],
      );
      const ids = doomed.map((d) => d.id);
      let stillRecorded = new Set<string>();
      if (!options.dryRun) {
        await c.query(`DELETE FROM inputs WHERE materialization_id = ANY($1::bigint[])`, [ids]);
        await c.query(`DELETE FROM check_results WHERE materialization_id = ANY($1::bigint[])`, [ids]);
        await c.query(`DELETE FROM materializations WHERE id = ANY($1::bigint[])`, [ids]);
        await c.query(`DELETE FROM events WHERE run_id IN (SELECT id FROM runs WHERE ended_at IS NOT NULL AND ended_at < $1)`, [cutoff]);
        const locations = [...new Set(doomed.flatMap((d) => (d.location === null ? [] : [d.location])))];
        const { rows } = await c.query<{ location: string }>(`SELECT DISTINCT location FROM materializations WHERE location = ANY($1::text[])`, [locations]);
        stillRecorded = new Set(rows.map((r) => r.location));
      }
      // Files are content-addressed and may be shared: one goes only when no remaining row points at it.
      const files = new Map<string, PrunedFile>();
      for (const d of doomed) {
        if (d.location !== null && !stillRecorded.has(d.location)) files.set(d.location, { location: d.location, asset: d.asset, partition: d.partition });
      }
      return { materializations: doomed.length, events: eventCount[0]!.n, files: [...files.values()] };
    });
  }

  async isRecorded(location: string): Promise<boolean> {
    const { rowCount } = await this.#q(`SELECT 1 FROM materializations WHERE location = $1 LIMIT 1`, [location], 'isRecorded');
    return (rowCount ?? 0) > 0;
  }

  // ---- integrity ----

  async checkConsistency(): Promise<string[]> {
    const { rows } = await this.#q<{ asset: string; partition: string; problem: string }>(BAD_CURRENT_SQL);
    const problems = rows.map((r) => `${describePartition(r.asset, r.partition)}: ${r.problem}`);
    const { rows: leases } = await this.#q<{ n: number }>(`SELECT count(*)::int AS n FROM leases l JOIN runs r ON r.id = l.run_id WHERE r.status != 'running'`);
    if (leases[0]!.n > 0) problems.push(`${leases[0]!.n} leases are held by runs that have ended`);
    return problems;
  }
}

/**
 * The notification of a committed materialization: its StoreChange as JSON. A partition key too
 * long for a payload is left out; subscribe() reads it back by id.
 */
function materializationChange(m: NewMaterialization, id: number): string {
  const change = { kind: 'materialization', id, asset: m.asset, partition: m.partition, runId: m.runId, status: m.status };
  const payload = JSON.stringify(change);
  return Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES ? payload : JSON.stringify({ ...change, partition: undefined });
}

/** `max:count-in-window` of a table's identity column (see TOKEN_WINDOW). */
function windowToken(table: 'materializations' | 'events'): string {
  return `(SELECT coalesce(max(id), 0) || '/' || (SELECT count(*) FROM ${table} WHERE id > coalesce(max(t.id), 0) - ${TOKEN_WINDOW}) FROM ${table} t)`;
}

/** Events as one array per column, for unnest(). */
function eventColumns(events: readonly NewEvent[]) {
  return {
    runIds: events.map((e) => e.runId),
    ts: events.map((e) => e.ts),
    levels: events.map((e) => e.level),
    types: events.map((e) => e.type),
    assets: events.map((e) => e.asset ?? null),
    partitions: events.map((e) => e.partition ?? null),
    messages: events.map((e) => e.message),
    data: events.map((e) => (e.data === undefined ? null : JSON.stringify(e.data))),
  };
}

// ---- row mapping (the SQLite store's, with booleans as booleans) ----

interface CorruptRow {
  corrupt_mid: number | null;
  corrupt_reason: CorruptReason | null;
  corrupt_detail: string | null;
  corrupt_expected: string | null;
  corrupt_found: string | null;
  corrupt_by: CorruptDetector | null;
  corrupt_at: number | null;
}
interface CurrentRow extends CorruptRow {
  id: number;
  asset: string;
  partition: string;
  code_version: string;
  data_version: string;
  location: string;
  run_id: string;
  ended_at: number;
}
interface InputRow {
  materialization_id: number;
  upstream_asset: string;
  upstream_partition: string;
  upstream_materialization_id: number;
  upstream_data_version: string;
}
interface MaterializationRow {
  id: number;
  asset: string;
  partition: string;
  run_id: string;
  status: 'published' | 'blocked';
  code_version: string;
  data_version: string;
  location: string | null;
  metadata: string;
  started_at: number;
  ended_at: number;
}
interface CheckRow {
  id: number;
  materialization_id: number | null;
  asset: string;
  partition: string;
  run_id: string;
  name: string;
  blocking: boolean;
  passed: boolean;
  message: string;
  metadata: string;
  created_at: number;
}

const toInput = (r: InputRow): InputRecord => ({
  asset: r.upstream_asset as AssetKey,
  partition: r.upstream_partition,
  materializationId: r.upstream_materialization_id,
  dataVersion: r.upstream_data_version as DataVersion,
});

const toCorrupt = (r: CorruptRow): CorruptMark | undefined =>
  r.corrupt_reason === null
    ? undefined
    : {
        materializationId: r.corrupt_mid!,
        reason: r.corrupt_reason,
        detail: r.corrupt_detail ?? '',
        expected: r.corrupt_expected as DataVersion,
        found: r.corrupt_found as DataVersion | null,
        detectedBy: r.corrupt_by!,
        detectedAt: r.corrupt_at!,
      };

const toCurrent = (r: CurrentRow, inputs: InputRecord[]): CurrentRecord => {
  const corrupt = toCorrupt(r);
  return {
    id: r.id,
    codeVersion: r.code_version as CodeVersion,
    dataVersion: r.data_version as DataVersion,
    location: r.location,
    runId: r.run_id,
    endedAt: r.ended_at,
    inputs,
    ...(corrupt ? { corrupt } : {}),
  };
};

const toMaterialization = (r: MaterializationRow): MaterializationRecord => ({
  id: r.id,
  asset: r.asset as AssetKey,
  partition: r.partition,
  runId: r.run_id,
  status: r.status,
  codeVersion: r.code_version as CodeVersion,
  dataVersion: r.data_version as DataVersion,
  location: r.location,
  metadata: JSON.parse(r.metadata),
  startedAt: r.started_at,
  endedAt: r.ended_at,
});

const toCheck = (r: CheckRow): CheckResultRecord => ({
  id: r.id,
  materializationId: r.materialization_id,
  asset: r.asset as AssetKey,
  partition: r.partition,
  runId: r.run_id,
  name: r.name,
  blocking: r.blocking,
  passed: r.passed,
  message: r.message,
  metadata: JSON.parse(r.metadata),
  createdAt: r.created_at,
});

const CORRUPT_COLUMNS = `k.materialization_id AS corrupt_mid, k.reason AS corrupt_reason, k.detail AS corrupt_detail, k.expected AS corrupt_expected,
  k.found AS corrupt_found, k.detected_by AS corrupt_by, k.detected_at AS corrupt_at`;
const CURRENT_COLUMNS = `m.id, m.asset, m.partition, m.code_version, m.data_version, m.location, m.run_id, m.ended_at, ${CORRUPT_COLUMNS}`;
/** Current versions with the corrupt mark of that very materialization, if any. */
const CURRENT_FROM = `current c JOIN materializations m ON m.id = c.materialization_id
  LEFT JOIN corrupt_marks k ON k.asset = c.asset AND k.partition = c.partition AND k.materialization_id = c.materialization_id`;
