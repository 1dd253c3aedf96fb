// The SQLite implementation of the LineageStore interface: the embedded default,
// one file under DATA_DIR. Its statements are those of lineage-store.ts (better-sqlite3,
// WAL, one immediate transaction per completed materialization); this class puts them
// behind the asynchronous interface and keeps the database handle private. better-sqlite3
// is synchronous, so every method completes before its promise resolves: awaiting it costs
// a microtask, not a thread hop, and the recording rate stays that of the statements.
import type { JsonValue } from '../definitions.ts';
import type { AssetKey, PartitionKey } from '../keys.ts';
import type { DynamicPartitionKeys } from '../partitions.ts';
import { SqliteStatements } from './sqlite-statements.ts';
import type {
  EventQuery,
  HistoryQuery,
  LeaseResult,
  LineageStore,
  NewCorruptMark,
  NewEvent,
  NewMaterialization,
  NewRun,
  PruneRecordsResult,
  RunQuery,
  StoreChangeListener,
} from './lineage-store-api.ts';
import type {
  CheckResultRecord,
  CorruptMark,
  CurrentRecord,
  CurrentSnapshot,
  EventRecord,
  InputRecord,
  MaterializationRecord,
  RunRecord,
  RunStatus,
} from './records.ts';
import type { AutomationCursor, ClaimResult, CursorUpdate, NewTick, TickQuery, TickRecord } from './tick-records.ts';
import type { PruneAutomationResult } from './lineage-store-api.ts';
import type { CancelQueuedResult, ClaimQueuedResult, NewQueuedRun, QueueLimits, QueueState, QueuedRunRecord } from './run-queue-records.ts';
import type { AssetRecord, AssetRecordQuery, NewAssetRecord } from './asset-records.ts';

export interface SqliteStoreOptions {
  /** How often subscribers' poll looks for changes made by other processes (default 500 ms). */
  readonly pollMs?: number;
}

const DEFAULT_POLL_MS = 500;

export class SqliteLineageStore implements LineageStore {
  readonly kind = 'sqlite' as const;
  readonly #s: SqliteStatements;
  readonly #pollMs: number;
  readonly #pollers = new Set<NodeJS.Timeout>();

  private constructor(s: SqliteStatements, options: SqliteStoreOptions) {
    this.#s = s;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  /** Opens (creating and migrating if needed) the store file at `path`; ':memory:' for a private one. */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteLineageStore> {
    return new SqliteLineageStore(SqliteStatements.open(path), options);
  }

  get location(): string {
    return this.#s.path;
  }

  async close(): Promise<void> {
    for (const t of this.#pollers) clearInterval(t);
    this.#pollers.clear();
    this.#s.close();
  }

  async createRun(run: NewRun): Promise<void> {
    this.#s.createRun(run);
  }
  async finishRun(runId: string, status: Exclude<RunStatus, 'running'>, summary: Record<string, JsonValue>, error: string | null, now: number): Promise<void> {
    this.#s.finishRun(runId, status, summary, error, now);
  }
  async heartbeat(runId: string, now: number, leaseTtlMs: number): Promise<void> {
    this.#s.heartbeat(runId, now, leaseTtlMs);
  }
  async closeAbandonedRuns(now: number, staleAfterMs: number): Promise<string[]> {
    return this.#s.closeAbandonedRuns(now, staleAfterMs);
  }
  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.#s.getRun(id);
  }
  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    return this.#s.listRuns(query);
  }

  async appendEvents(events: readonly NewEvent[]): Promise<void> {
    this.#s.appendEvents(events);
  }
  async events(runId: string, query: EventQuery = {}): Promise<EventRecord[]> {
    return this.#s.events(runId, query);
  }

  async tryAcquireLease(asset: AssetKey, partition: PartitionKey, runId: string, now: number, ttlMs: number): Promise<LeaseResult> {
    return this.#s.tryAcquireLease(asset, partition, runId, now, ttlMs);
  }
  async releaseLease(asset: AssetKey, partition: PartitionKey, runId: string): Promise<void> {
    this.#s.releaseLease(asset, partition, runId);
  }

  async commitMaterialization(m: NewMaterialization): Promise<number> {
    return this.#s.commitMaterialization(m);
  }
  async materialization(id: number): Promise<MaterializationRecord | undefined> {
    return this.#s.materialization(id);
  }
  async inputsOf(materializationId: number): Promise<InputRecord[]> {
    return this.#s.inputsOf(materializationId);
  }
  async consumersOf(materializationId: number): Promise<MaterializationRecord[]> {
    return this.#s.consumersOf(materializationId);
  }
  async history(asset: AssetKey, query: HistoryQuery = {}): Promise<MaterializationRecord[]> {
    return this.#s.history(asset, query);
  }
  async materializationsOfRun(runId: string): Promise<MaterializationRecord[]> {
    return this.#s.materializationsOfRun(runId);
  }
  async checkResults(materializationId: number): Promise<CheckResultRecord[]> {
    return this.#s.checkResults(materializationId);
  }

  async current(asset: AssetKey, partition: PartitionKey): Promise<CurrentRecord | undefined> {
    return this.#s.current(asset, partition);
  }
  async snapshot(assets?: readonly AssetKey[]): Promise<CurrentSnapshot> {
    return this.#s.snapshot(assets);
  }

  async markCorrupt(mark: NewCorruptMark): Promise<boolean> {
    return this.#s.markCorrupt(mark);
  }
  async clearCorrupt(asset: AssetKey, partition: PartitionKey, materializationId: number): Promise<void> {
    this.#s.clearCorrupt(asset, partition, materializationId);
  }
  async corruptMarks(assets?: readonly AssetKey[]): Promise<{ asset: AssetKey; partition: PartitionKey; mark: CorruptMark }[]> {
    return this.#s.corruptMarks(assets);
  }

  async addDynamicPartitions(name: string, keys: readonly PartitionKey[], now = Date.now()): Promise<PartitionKey[]> {
    return this.#s.addDynamicPartitions(name, keys, now);
  }
  async removeDynamicPartitions(name: string, keys: readonly PartitionKey[]): Promise<PartitionKey[]> {
    return this.#s.removeDynamicPartitions(name, keys);
  }
  async dynamicPartitionKeys(): Promise<DynamicPartitionKeys> {
    return this.#s.dynamicPartitionKeys();
  }

  async changeToken(): Promise<string> {
    return String(this.#s.changeToken());
  }
  async corruptionToken(): Promise<string> {
    return this.#s.corruptionToken();
  }
  async activityToken(): Promise<string> {
    return this.#s.activityToken();
  }

  /**
   * SQLite cannot notify another process, so each subscriber polls: the materializations past
   * the last id it saw (one indexed range read) and the activity token, every pollMs.
   */
  async subscribe(listener: StoreChangeListener): Promise<() => Promise<void>> {
    let lastId = this.#s.changeToken();
    let lastActivity = this.#otherActivity();
    const poll = (): void => {
      if (!this.#pollers.has(timer)) return;
      for (const change of this.#s.materializationChangesAfter(lastId)) {
        lastId = change.id;
        listener(change);
      }
      const activity = this.#otherActivity();
      if (activity !== lastActivity) {
        lastActivity = activity;
        listener({ kind: 'activity' });
      }
    };
    const timer: NodeJS.Timeout = setInterval(poll, this.#pollMs);
    // A subscription alone does not keep the process alive (as a LISTEN connection would not).
    timer.unref();
    this.#pollers.add(timer);
    return async () => {
      clearInterval(timer);
      this.#pollers.delete(timer);
    };
  }

  /** The activity token less its materialization part, which subscribers learn of one by one. */
  #otherActivity(): string {
    return `${this.#s.activityToken().replace(/^[^:]*:/, '')}|${this.#s.corruptionToken()}`;
  }

  async claimRunRequest(dedupeKey: string, daemonId: string, runId: string, now: number): Promise<ClaimResult> {
    return this.#s.automation.claimRunRequest(dedupeKey, daemonId, runId, now);
  }
  async recordTicks(ticks: readonly NewTick[], cursors: readonly CursorUpdate[]): Promise<void> {
    this.#s.automation.recordTicks(ticks, cursors);
  }
  async listTicks(query: TickQuery = {}): Promise<TickRecord[]> {
    return this.#s.automation.listTicks(query);
  }
  async automationCursors(): Promise<Map<string, AutomationCursor>> {
    return this.#s.automation.automationCursors();
  }

  async pruneAutomation(cutoff: number, options: { readonly dryRun: boolean }): Promise<PruneAutomationResult> {
    return this.#s.automation.prune(cutoff, options.dryRun);
  }
  async enqueueRun(run: NewQueuedRun): Promise<void> {
    this.#s.runQueue.enqueue(run);
  }
  async runQueue(query: { readonly states?: readonly QueueState[]; readonly limit?: number } = {}): Promise<QueuedRunRecord[]> {
    return this.#s.runQueue.list(query.states ?? ['queued', 'launched'], query.limit ?? 100);
  }
  async queuedRun(runId: string): Promise<QueuedRunRecord | undefined> {
    return this.#s.runQueue.get(runId);
  }
  async claimQueuedRun(claimer: string, limits: QueueLimits, only?: string): Promise<ClaimQueuedResult> {
    return this.#s.runQueue.claim(claimer, limits, only);
  }
  async finishQueuedRun(runId: string): Promise<void> {
    this.#s.runQueue.finish(runId);
  }
  async heartbeatQueuedRuns(runIds: readonly string[]): Promise<void> {
    this.#s.runQueue.heartbeat(runIds);
  }
  async cancelQueuedRun(runId: string, reason?: string): Promise<CancelQueuedResult> {
    return this.#s.runQueue.cancel(runId, reason);
  }

  async addAssetRecords(records: readonly NewAssetRecord[]): Promise<number> {
    return this.#s.assetRecords.add(records);
  }
  async assetRecords(query: AssetRecordQuery): Promise<AssetRecord[]> {
    return this.#s.assetRecords.read(query);
  }
  async countAssetRecords(query: Omit<AssetRecordQuery, 'order' | 'limit'>): Promise<number> {
    return this.#s.assetRecords.count(query);
  }
  async pruneAssetRecords(cutoff: number, options: { readonly dryRun: boolean }): Promise<number> {
    return this.#s.assetRecords.prune(cutoff, options.dryRun);
  }

  async pruneRecords(cutoff: number, options: { readonly dryRun: boolean }): Promise<PruneRecordsResult> {
    return this.#s.pruneRecords(cutoff, options);
  }
  async isRecorded(location: string): Promise<boolean> {
    return this.#s.isRecorded(location);
  }
  async checkConsistency(): Promise<string[]> {
    return this.#s.checkConsistency();
  }
}
