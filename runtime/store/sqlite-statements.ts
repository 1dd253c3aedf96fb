// The SQLite lineage store's statements (better-sqlite3, WAL), private to sqlite-store.ts,
// which puts them behind the asynchronous LineageStore interface: nothing else holds the
// database handle.
// Every write that completes an asset is one transaction, so a reader never
// sees half a materialization; leases keep two processes from materializing
// the same asset partition at once; a long busy timeout means a writer waits
// for another instead of failing with "database is locked".
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { sqliteNativeBinding } from '../../lib/sqlite-binding.ts';
import type { JsonValue } from '../definitions.ts';
import { describePartition, type AssetKey, type PartitionKey } from '../keys.ts';
import type { DynamicPartitionKeys } from '../partitions.ts';
import type { CodeVersion, DataVersion } from '../versions.ts';
import { BAD_CURRENT_SQL } from './consistency-sql.ts';
import { migrate } from './schema.ts';
import { SqliteAutomation } from './sqlite-automation.ts';
import { SqliteRunQueue } from './sqlite-run-queue.ts';
import { SqliteAssetRecords } from './sqlite-asset-records.ts';
import { wholeNumber } from './query-args.ts';
import { eventFromRow, runFromRow, type EventRow, type RunRow } from './run-rows.ts';
import type { LeaseResult, NewCorruptMark, NewEvent, NewMaterialization, PrunedFile, PruneRecordsResult, StoreChange } from './lineage-store-api.ts';
import { processAlive } from './run-liveness.ts';
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
} from './records.ts';

// The input types live with the asynchronous interface; re-exported for the callers of this class.
export type { LeaseResult, NewCheckResult, NewCorruptMark, NewEvent, NewMaterialization, NewRun } from './lineage-store-api.ts';

const BUSY_TIMEOUT_MS = 60_000;

export class SqliteStatements {
  readonly #db: Database.Database;
  private readonly stmts: ReturnType<typeof prepare>;
  /** The automation tables' statements (ticks, cursors, claims). */
  readonly automation: SqliteAutomation;
  /** The run queue's statements. */
  readonly runQueue: SqliteRunQueue;
  /** The asset records' statements. */
  readonly assetRecords: SqliteAssetRecords;

  private constructor(
    readonly path: string,
    db: Database.Database,
  ) {
    this.#db = db;
    this.stmts = prepare(db);
    this.automation = new SqliteAutomation(db);
    this.runQueue = new SqliteRunQueue(db);
    this.assetRecords = new SqliteAssetRecords(db);
  }

  /** Opens (creating and migrating if needed) the store at `path`; ':memory:' for tests. */
  static open(path: string): SqliteStatements {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: BUSY_TIMEOUT_MS, ...sqliteNativeBinding() });
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a process crash; only an OS crash may lose the last commits, never consistency.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, path);
    return new SqliteStatements(path, db);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  // ---- runs ---------------------------------------------------------------

  createRun(run: { id: string; selection: string; partitions: string | null; trigger: string; now: number }): void {
    this.stmts.insertRun.run({
      id: run.id,
      selection: run.selection,
      partitions: run.partitions,
      trigger: run.trigger,
      host: hostname(),
      pid: process.pid,
      started_at: run.now,
    });
  }

  finishRun(runId: string, status: Exclude<RunStatus, 'running'>, summary: Record<string, JsonValue>, error: string | null, now: number): void {
    this.#db
      .transaction(() => {
        this.stmts.finishRun.run({ id: runId, status, summary: JSON.stringify(summary), error, ended_at: now });
        this.stmts.releaseRunLeases.run(runId);
      })
      .immediate();
  }

  /** Keeps the run's leases and heartbeat alive; call more often than the lease TTL. */
  heartbeat(runId: string, now: number, leaseTtlMs: number): void {
    this.#db
      .transaction(() => {
        this.stmts.heartbeat.run(now, runId);
        this.stmts.renewLeases.run(now + leaseTtlMs, runId);
      })
      .immediate();
  }

  /**
   * Marks runs whose process stopped heart-beating (killed, machine lost) as failed,
   * so the run list tells the truth. Returns the ids it closed.
   */
  closeAbandonedRuns(now: number, staleAfterMs: number): string[] {
    return this.#db
      .transaction(() => {
        const running = this.stmts.runningRuns.all() as { id: string; host: string; pid: number; heartbeat_at: number }[];
        const here = hostname();
        // A run is abandoned when its heartbeat stopped, or at once when it ran on this host and its process is gone.
        const ids = running
          .filter((r) => r.heartbeat_at < now - staleAfterMs || (r.host === here && r.pid !== process.pid && !processAlive(r.pid)))
          .map((r) => r.id);
        for (const id of ids) {
          this.stmts.finishRun.run({
            id,
            status: 'failed',
            summary: null,
            error: 'The process running this run stopped without finishing it (killed or crashed); nothing it had not committed was published.',
            ended_at: now,
          });
          this.stmts.releaseRunLeases.run(id);
        }
        return ids;
      })
      .immediate();
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.stmts.getRun.get(id) as RunRow | undefined;
    return row && runFromRow(row);
  }

  listRuns(options: { limit?: number; offset?: number; status?: RunStatus } = {}): RunRecord[] {
    const rows = this.stmts.listRuns.all({
      limit: wholeNumber('listRuns', 'limit', options.limit ?? 50),
      offset: wholeNumber('listRuns', 'offset', options.offset ?? 0),
      status: options.status ?? null,
    }) as RunRow[];
    return rows.map(runFromRow);
  }

  // ---- events -------------------------------------------------------------

  appendEvents(events: readonly NewEvent[]): void {
    if (events.length === 0) return;
    this.#db
      .transaction(() => {
        for (const e of events) this.insertEvent(e);
      })
      .immediate();
  }

  private insertEvent(e: NewEvent): void {
    this.stmts.insertEvent.run({
      run_id: e.runId,
      ts: e.ts,
      level: e.level,
      type: e.type,
      asset: e.asset ?? null,
      partition: e.partition ?? null,
      message: e.message,
      data: e.data === undefined ? null : JSON.stringify(e.data),
    });
  }

  /** A run's events in order; `types` keeps only those types (filtered in SQLite: a backfill holds tens of thousands of log lines). */
  events(runId: string, options: { afterId?: number; limit?: number; types?: readonly string[] } = {}): EventRecord[] {
    const rows = this.stmts.events.all({
      run_id: runId,
      after: options.afterId ?? 0,
      limit: options.limit ?? 10_000,
      types: options.types === undefined ? null : JSON.stringify(options.types),
    }) as EventRow[];
    return rows.map(eventFromRow);
  }

  // ---- leases -------------------------------------------------------------

  /** Takes the lease on one asset partition unless another live run holds it. */
  tryAcquireLease(asset: AssetKey, partition: PartitionKey, runId: string, now: number, ttlMs: number): LeaseResult {
    return this.#db
      .transaction((): LeaseResult => {
        this.stmts.takeLease.run({ asset, partition, run_id: runId, now, expires_at: now + ttlMs });
        const row = this.stmts.getLease.get(asset, partition) as { run_id: string; expires_at: number };
        return row.run_id === runId ? { acquired: true } : { acquired: false, holder: row.run_id, expiresAt: row.expires_at };
      })
      .immediate();
  }

  releaseLease(asset: AssetKey, partition: PartitionKey, runId: string): void {
    this.stmts.releaseLease.run(asset, partition, runId);
  }

  // ---- materializations ---------------------------------------------------

  /** Records one finished materialization (or blocked attempt) with its inputs, checks and events, atomically. */
  commitMaterialization(m: NewMaterialization): number {
    return this.#db
      .transaction(() => {
        for (const e of m.logEvents ?? []) this.insertEvent(e);
        const id = Number(
          this.stmts.insertMaterialization.run({
            asset: m.asset,
            partition: m.partition,
            run_id: m.runId,
            status: m.status,
            code_version: m.codeVersion,
            data_version: m.dataVersion,
            location: m.location,
            metadata: JSON.stringify(m.metadata),
            started_at: m.startedAt,
            ended_at: m.endedAt,
          }).lastInsertRowid,
        );
        for (const i of m.inputs) {
          this.stmts.insertInput.run(id, i.asset, i.partition, i.materializationId, i.dataVersion);
        }
        for (const c of m.checks) {
          this.stmts.insertCheck.run({
            materialization_id: id,
            asset: m.asset,
            partition: m.partition,
            run_id: m.runId,
            name: c.name,
            blocking: c.blocking ? 1 : 0,
            passed: c.passed ? 1 : 0,
            message: c.message,
            metadata: JSON.stringify(c.metadata),
            created_at: m.endedAt,
          });
        }
        if (m.status === 'published') {
          this.stmts.setCurrent.run(m.asset, m.partition, id);
          // A new good version is current: whatever was wrong with the old file no longer matters.
          this.stmts.clearCorrupt.run(m.asset, m.partition);
        }
        for (const e of m.events) this.insertEvent({ ...e, data: { ...e.data, materializationId: id } });
        return id;
      })
      .immediate();
  }

  // ---- corrupt marks ------------------------------------------------------

  /**
   * Records that the stored file of a current version is bad. Returns false (and records
   * nothing) when that materialization is no longer current: a newer version replaced it.
   */
  markCorrupt(mark: NewCorruptMark): boolean {
    const r = this.stmts.markCorrupt.run({
      asset: mark.asset,
      partition: mark.partition,
      materialization_id: mark.materializationId,
      reason: mark.reason,
      detail: mark.detail,
      expected: mark.expected,
      found: mark.found,
      detected_by: mark.detectedBy,
      detected_at: mark.now,
    });
    return r.changes > 0;
  }

  /** Drops the mark of one materialization (verify found its file intact after all). */
  clearCorrupt(asset: AssetKey, partition: PartitionKey, materializationId: number): void {
    this.stmts.clearCorruptOf.run(asset, partition, materializationId);
  }

  /** Every mark that applies to a current version, optionally of some assets only. */
  corruptMarks(assets?: readonly AssetKey[]): { asset: AssetKey; partition: PartitionKey; mark: CorruptMark }[] {
    const rows = (assets ? assets.flatMap((a) => this.stmts.corruptOfAsset.all(a)) : this.stmts.corruptAll.all()) as (CorruptRow & {
      asset: string;
      partition: string;
    })[];
    return rows.map((r) => ({ asset: r.asset as AssetKey, partition: r.partition, mark: toCorrupt(r)! }));
  }

  /** Changes whenever a corrupt mark is added or removed: pollers compare it as they do changeToken. */
  corruptionToken(): string {
    const row = this.stmts.corruptionToken.get() as { n: number; at: number | null };
    return `${row.n}:${row.at ?? 0}`;
  }

  current(asset: AssetKey, partition: PartitionKey): CurrentRecord | undefined {
    const row = this.stmts.currentOne.get(asset, partition) as CurrentRow | undefined;
    if (!row) return undefined;
    return toCurrent(row, (this.stmts.inputsOf.all(row.id) as InputRow[]).map(toInput));
  }

  /** The current version of every partition of `assets` (all assets when omitted), with inputs. */
  snapshot(assets?: readonly AssetKey[]): CurrentSnapshot {
    // Rows as arrays, and corrupt marks (rare) read on their own rather than LEFT JOINed to
    // every row: at 365,000 partitions, objects per row and the join were most of the read
    // (2.5 s against 0.9 s measured on one node x day asset, 100 nodes x 3,650 days).
    const rows = (assets ? assets.flatMap((a) => this.stmts.currentRowsOfAsset.all(a)) : this.stmts.currentRowsAll.all()) as CurrentTuple[];
    const inputRows = (assets ? assets.flatMap((a) => this.stmts.currentInputRowsOfAsset.all(a)) : this.stmts.currentInputRowsAll.all()) as InputTuple[];
    const inputsById = new Map<number, InputRecord[]>();
    for (const [id, asset, partition, materializationId, dataVersion] of inputRows) {
      let list = inputsById.get(id);
      if (!list) inputsById.set(id, (list = []));
      list.push({ asset: asset as AssetKey, partition, materializationId, dataVersion: dataVersion as DataVersion });
    }
    const corruptById = new Map(this.corruptMarks(assets).map((c) => [c.mark.materializationId, c.mark]));
    const out: CurrentSnapshot = new Map();
    let asset: string | undefined;
    let byPartition: Map<PartitionKey, CurrentRecord> | undefined;
    for (const [key, partition, id, codeVersion, dataVersion, location, runId, endedAt] of rows) {
      if (key !== asset) {
        asset = key;
        byPartition = out.get(key as AssetKey);
        if (!byPartition) out.set(key as AssetKey, (byPartition = new Map()));
      }
      const corrupt = corruptById.get(id);
      const record: CurrentRecord = {
        id,
        codeVersion: codeVersion as CodeVersion,
        dataVersion: dataVersion as DataVersion,
        location,
        runId,
        endedAt,
        inputs: inputsById.get(id) ?? [],
      };
      byPartition!.set(partition, corrupt ? { ...record, corrupt } : record);
    }
    return out;
  }

  /**
   * A number that grows with every recorded materialization (published or blocked):
   * pollers compare it to skip re-reading current versions when nothing happened.
   */
  changeToken(): number {
    return (this.stmts.changeToken.get() as { token: number | null }).token ?? 0;
  }

  /**
   * A token that changes whenever anything is recorded: a materialization, an event, a run
   * started or finished. Views computed under the same token can be reused.
   */
  activityToken(): string {
    const row = this.stmts.activityToken.get() as { m: number | null; e: number | null; r: number; a: number; d: number };
    return `${row.m ?? 0}:${row.e ?? 0}:${row.r}:${row.a}:${row.d}`;
  }

  // ---- dynamic partitions ------------------------------------------------------

  /** Adds keys to the dynamic partitions definition `name`; returns those that were new. */
  addDynamicPartitions(name: string, keys: readonly PartitionKey[], now = Date.now()): PartitionKey[] {
    return this.#db.transaction(() => keys.filter((k) => this.stmts.addDynamicPartition.run(name, k, now).changes > 0))();
  }

  /** Removes keys from `name`; returns those that were there. Their materializations stay in the history. */
  removeDynamicPartitions(name: string, keys: readonly PartitionKey[]): PartitionKey[] {
    return this.#db.transaction(() => keys.filter((k) => this.stmts.removeDynamicPartition.run(name, k).changes > 0))();
  }

  /** Every dynamic partitions definition's added keys, in the order they were added. */
  dynamicPartitionKeys(): DynamicPartitionKeys {
    const out = new Map<string, PartitionKey[]>();
    for (const r of this.stmts.dynamicPartitions.all() as { definition: string; key: string }[]) {
      let list = out.get(r.definition);
      if (!list) out.set(r.definition, (list = []));
      list.push(r.key);
    }
    return out;
  }

  materialization(id: number): MaterializationRecord | undefined {
    const row = this.stmts.materialization.get(id) as MaterializationRow | undefined;
    return row && toMaterialization(row);
  }

  inputsOf(materializationId: number): InputRecord[] {
    return (this.stmts.inputsOf.all(materializationId) as InputRow[]).map(toInput);
  }

  /** Materializations that consumed `materializationId`. */
  consumersOf(materializationId: number): MaterializationRecord[] {
    return (this.stmts.consumersOf.all(materializationId) as MaterializationRow[]).map(toMaterialization);
  }

  history(asset: AssetKey, options: { partition?: PartitionKey; limit?: number; beforeId?: number } = {}): MaterializationRecord[] {
    const rows = this.stmts.history.all({
      asset,
      partition: options.partition ?? null,
      limit: options.limit ?? 50,
      before: options.beforeId ?? Number.MAX_SAFE_INTEGER,
    }) as MaterializationRow[];
    return rows.map(toMaterialization);
  }

  materializationsOfRun(runId: string): MaterializationRecord[] {
    return (this.stmts.ofRun.all(runId) as MaterializationRow[]).map(toMaterialization);
  }

  checkResults(materializationId: number): CheckResultRecord[] {
    return (this.stmts.checksOf.all(materializationId) as CheckRow[]).map(toCheck);
  }

  // ---- prune ----------------------------------------------------------------

  /** See LineageStore.pruneRecords (lineage-store-api.ts). */
  pruneRecords(cutoff: number, options: { readonly dryRun: boolean }): PruneRecordsResult {
    const db = this.#db;
    // Keep: every current version and, transitively, everything it consumed.
    db.exec(`CREATE TEMP TABLE IF NOT EXISTS keep_ids (id INTEGER PRIMARY KEY)`);
    return db
      .transaction((): PruneRecordsResult => {
        db.exec(`DELETE FROM keep_ids`);
        db.exec(`
        WITH RECURSIVE keep(id) AS (
          SELECT materialization_id FROM current
          UNION
          SELECT i.upstream_materialization_id FROM inputs i JOIN keep k ON i.materialization_id = k.id
        )
        INSERT INTO keep_ids SELECT id FROM keep`);
        const doomed = db
          .prepare(`SELECT id, asset, partition, location FROM materializations WHERE ended_at < ? AND id NOT IN (SELECT id FROM keep_ids)`)
          .all(cutoff) as { id: number; asset: AssetKey; partition: PartitionKey; location: string | null }[];
        const events = (
          db.prepare(`SELECT count(*) AS n FROM events e JOIN runs r ON r.id = e.run_id WHERE r.ended_at IS NOT NULL AND r.ended_at < ?`).get(cutoff) as {
            n: number;
          }
        ).n;
        if (!options.dryRun) {
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
        // Files are content-addressed and may be shared: one goes only when no remaining row points at it.
        const files = new Map<string, PrunedFile>();
        for (const d of doomed) {
          if (d.location !== null && (options.dryRun || !this.isRecorded(d.location)))
            files.set(d.location, { location: d.location, asset: d.asset, partition: d.partition });
        }
        return { materializations: doomed.length, events, files: [...files.values()] };
      })
      .immediate();
  }

  isRecorded(location: string): boolean {
    return this.stmts.locationRecorded.get(location) !== undefined;
  }

  // ---- integrity --------------------------------------------------------------

  /** See LineageStore.checkConsistency (lineage-store-api.ts). */
  checkConsistency(): string[] {
    const problems: string[] = [];
    const integrity = this.#db.pragma('integrity_check') as { integrity_check: string }[];
    for (const r of integrity) if (r.integrity_check !== 'ok') problems.push(`SQLite integrity check of ${this.path}: ${r.integrity_check}`);
    for (const r of this.#db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) {
      problems.push(`${r.table} row ${r.rowid} points at a missing ${r.parent} row`);
    }
    for (const r of this.stmts.badCurrent.all() as { asset: string; partition: string; problem: string }[])
      problems.push(`${describePartition(r.asset, r.partition)}: ${r.problem}`);
    return problems;
  }

  // ---- change feed (SQLite has no notifications: subscribers poll) ----

  /** The materializations recorded after `afterId`, as subscribers are told of them. */
  materializationChangesAfter(afterId: number): Extract<StoreChange, { kind: 'materialization' }>[] {
    return (this.stmts.changesAfter.all(afterId) as { id: number; asset: string; partition: string; run_id: string; status: 'published' | 'blocked' }[]).map(
      (r) => ({
        kind: 'materialization',
        id: r.id,
        asset: r.asset as AssetKey,
        partition: r.partition,
        runId: r.run_id,
        status: r.status,
      }),
    );
  }
}

// ---- row mapping --------------------------------------------------------------

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
  blocking: number;
  passed: number;
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
  blocking: r.blocking === 1,
  passed: r.passed === 1,
  message: r.message,
  metadata: JSON.parse(r.metadata),
  createdAt: r.created_at,
});

const CORRUPT_COLUMNS = `k.materialization_id AS corrupt_mid, k.reason AS corrupt_reason, k.detail AS corrupt_detail, k.expected AS corrupt_expected,
  k.found AS corrupt_found, k.detected_by AS corrupt_by, k.detected_at AS corrupt_at`;
const CURRENT_COLUMNS = `m.id, m.asset, m.partition, m.code_version, m.data_version, m.location, m.run_id, m.ended_at, ${CORRUPT_COLUMNS}`;
/** A current version as the snapshot reads it: asset, partition, id, code version, data version, location, run id, ended at. */
type CurrentTuple = [string, PartitionKey, number, string, string, string, string, number];
const CURRENT_TUPLE = 'c.asset, c.partition, m.id, m.code_version, m.data_version, m.location, m.run_id, m.ended_at';
/** An input of a current version: consumer id, upstream asset, partition, materialization id, data version. */
type InputTuple = [number, string, PartitionKey, number, string];
const INPUT_TUPLE = 'i.materialization_id, i.upstream_asset, i.upstream_partition, i.upstream_materialization_id, i.upstream_data_version';
/** Current versions with the corrupt mark of that very materialization, if any. */
const CURRENT_FROM = `current c JOIN materializations m ON m.id = c.materialization_id
  LEFT JOIN corrupt_marks k ON k.asset = c.asset AND k.partition = c.partition AND k.materialization_id = c.materialization_id`;

function prepare(db: Database.Database) {
  return {
    insertRun: db.prepare(
      `INSERT INTO runs (id, selection, partitions, status, trigger, host, pid, started_at, heartbeat_at)
       VALUES (@id, @selection, @partitions, 'running', @trigger, @host, @pid, @started_at, @started_at)`,
    ),
    finishRun: db.prepare(`UPDATE runs SET status = @status, summary = @summary, error = @error, ended_at = @ended_at WHERE id = @id AND status = 'running'`),
    heartbeat: db.prepare(`UPDATE runs SET heartbeat_at = ? WHERE id = ?`),
    runningRuns: db.prepare(`SELECT id, host, pid, heartbeat_at FROM runs WHERE status = 'running'`),
    getRun: db.prepare(`SELECT * FROM runs WHERE id = ?`),
    listRuns: db.prepare(`SELECT * FROM runs WHERE (@status IS NULL OR status = @status) ORDER BY started_at DESC, id DESC LIMIT @limit OFFSET @offset`),
    insertEvent: db.prepare(
      `INSERT INTO events (run_id, ts, level, type, asset, partition, message, data)
       VALUES (@run_id, @ts, @level, @type, @asset, @partition, @message, @data)`,
    ),
    events: db.prepare(
      `SELECT * FROM events WHERE run_id = @run_id AND id > @after
         AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types))) ORDER BY id LIMIT @limit`,
    ),
    takeLease: db.prepare(
      `INSERT INTO leases (asset, partition, run_id, expires_at) VALUES (@asset, @partition, @run_id, @expires_at)
       ON CONFLICT (asset, partition) DO UPDATE SET run_id = excluded.run_id, expires_at = excluded.expires_at
       WHERE leases.expires_at < @now OR leases.run_id = excluded.run_id`,
    ),
    getLease: db.prepare(`SELECT run_id, expires_at FROM leases WHERE asset = ? AND partition = ?`),
    renewLeases: db.prepare(`UPDATE leases SET expires_at = ? WHERE run_id = ?`),
    releaseLease: db.prepare(`DELETE FROM leases WHERE asset = ? AND partition = ? AND run_id = ?`),
    releaseRunLeases: db.prepare(`DELETE FROM leases WHERE run_id = ?`),
    insertMaterialization: db.prepare(
      `INSERT INTO materializations (asset, partition, run_id, status, code_version, data_version, location, metadata, started_at, ended_at)
       VALUES (@asset, @partition, @run_id, @status, @code_version, @data_version, @location, @metadata, @started_at, @ended_at)`,
    ),
    insertInput: db.prepare(
      `INSERT INTO inputs (materialization_id, upstream_asset, upstream_partition, upstream_materialization_id, upstream_data_version)
       VALUES (?, ?, ?, ?, ?)`,
    ),
    insertCheck: db.prepare(
      `INSERT INTO check_results (materialization_id, asset, partition, run_id, name, blocking, passed, message, metadata, created_at)
       VALUES (@materialization_id, @asset, @partition, @run_id, @name, @blocking, @passed, @message, @metadata, @created_at)`,
    ),
    setCurrent: db.prepare(
      `INSERT INTO current (asset, partition, materialization_id) VALUES (?, ?, ?)
       ON CONFLICT (asset, partition) DO UPDATE SET materialization_id = excluded.materialization_id`,
    ),
    currentOne: db.prepare(`SELECT ${CURRENT_COLUMNS} FROM ${CURRENT_FROM} WHERE c.asset = ? AND c.partition = ?`),
    markCorrupt: db.prepare(
      `INSERT INTO corrupt_marks (asset, partition, materialization_id, reason, detail, expected, found, detected_by, detected_at)
       SELECT @asset, @partition, @materialization_id, @reason, @detail, @expected, @found, @detected_by, @detected_at
       WHERE EXISTS (SELECT 1 FROM current WHERE asset = @asset AND partition = @partition AND materialization_id = @materialization_id)
       ON CONFLICT (asset, partition) DO UPDATE SET materialization_id = excluded.materialization_id, reason = excluded.reason,
         detail = excluded.detail, expected = excluded.expected, found = excluded.found, detected_by = excluded.detected_by, detected_at = excluded.detected_at`,
    ),
    clearCorrupt: db.prepare(`DELETE FROM corrupt_marks WHERE asset = ? AND partition = ?`),
    clearCorruptOf: db.prepare(`DELETE FROM corrupt_marks WHERE asset = ? AND partition = ? AND materialization_id = ?`),
    corruptOfAsset: db.prepare(
      `SELECT c.asset, c.partition, ${CORRUPT_COLUMNS} FROM current c JOIN corrupt_marks k ON k.asset = c.asset AND k.partition = c.partition AND k.materialization_id = c.materialization_id WHERE c.asset = ?`,
    ),
    corruptAll: db.prepare(
      `SELECT c.asset, c.partition, ${CORRUPT_COLUMNS} FROM current c JOIN corrupt_marks k ON k.asset = c.asset AND k.partition = c.partition AND k.materialization_id = c.materialization_id`,
    ),
    corruptionToken: db.prepare(`SELECT count(*) AS n, max(detected_at) AS at FROM corrupt_marks`),
    // The snapshot's reads, as arrays (CurrentTuple, InputTuple): the columns in this order.
    currentRowsOfAsset: db.prepare(`SELECT ${CURRENT_TUPLE} FROM current c JOIN materializations m ON m.id = c.materialization_id WHERE c.asset = ?`).raw(true),
    currentRowsAll: db.prepare(`SELECT ${CURRENT_TUPLE} FROM current c JOIN materializations m ON m.id = c.materialization_id`).raw(true),
    currentInputRowsOfAsset: db
      .prepare(`SELECT ${INPUT_TUPLE} FROM current c JOIN inputs i ON i.materialization_id = c.materialization_id WHERE c.asset = ?`)
      .raw(true),
    currentInputRowsAll: db.prepare(`SELECT ${INPUT_TUPLE} FROM current c JOIN inputs i ON i.materialization_id = c.materialization_id`).raw(true),
    inputsOf: db.prepare(`SELECT * FROM inputs WHERE materialization_id = ? ORDER BY upstream_asset, upstream_partition`),
    consumersOf: db.prepare(
      `SELECT m.* FROM inputs i JOIN materializations m ON m.id = i.materialization_id WHERE i.upstream_materialization_id = ? ORDER BY m.id`,
    ),
    materialization: db.prepare(`SELECT * FROM materializations WHERE id = ?`),
    changeToken: db.prepare(`SELECT max(id) AS token FROM materializations`),
    activityToken: db.prepare(
      `SELECT (SELECT max(id) FROM materializations) AS m, (SELECT max(id) FROM events) AS e,
              (SELECT count(*) FROM runs) AS r, (SELECT count(*) FROM runs WHERE status = 'running') AS a,
              (SELECT count(*) FROM dynamic_partitions) AS d`,
    ),
    addDynamicPartition: db.prepare(`INSERT OR IGNORE INTO dynamic_partitions (definition, key, added_at) VALUES (?, ?, ?)`),
    removeDynamicPartition: db.prepare(`DELETE FROM dynamic_partitions WHERE definition = ? AND key = ?`),
    dynamicPartitions: db.prepare(`SELECT definition, key FROM dynamic_partitions ORDER BY id`),
    history: db.prepare(
      `SELECT * FROM materializations WHERE asset = @asset AND (@partition IS NULL OR partition = @partition) AND id < @before
       ORDER BY id DESC LIMIT @limit`,
    ),
    ofRun: db.prepare(`SELECT * FROM materializations WHERE run_id = ? ORDER BY id`),
    checksOf: db.prepare(`SELECT * FROM check_results WHERE materialization_id = ? ORDER BY id`),
    locationRecorded: db.prepare(`SELECT 1 FROM materializations WHERE location = ? LIMIT 1`),
    changesAfter: db.prepare(`SELECT id, asset, partition, run_id, status FROM materializations WHERE id > ? ORDER BY id LIMIT 10000`),
    badCurrent: db.prepare(BAD_CURRENT_SQL),
  };
}
